package phala

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// response is an answer read in full (within limits) and closed.
type response struct {
	status int
	header http.Header
	body   []byte
	// method is the request's, for the retry classification of an error.
	method string
	// key is the API key the request carried, to scrub from excerpts.
	key secret
	// apiErr is the answer's *APIError when its status is not 2xx, decoded
	// once by the sender.
	apiErr *APIError
}

// Header names in the canonical form http.Header stores them under, so
// that reading or setting them does not canonicalise (and allocate) on
// every request and answer.
const (
	headerRequestID = "X-Request-Id"
	headerAPIKey    = "X-Api-Key"
)

// read turns what a generated call returned into a response, reading at
// most MaxResponseBody of a success and MaxErrorBody of anything else.
// Operations use operation.read, which also checks the status.
func read(resp *http.Response, err error) (*response, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := responseFor(resp.Body)
	*r = response{status: resp.StatusCode, header: resp.Header}
	if resp.Request != nil {
		// Canonical key: Header.Get of "X-API-Key" would allocate its
		// canonical form on every answer.
		r.method, r.key = resp.Request.Method, secret(resp.Request.Header.Get(headerAPIKey))
	}
	limit := int64(MaxResponseBody)
	if !isSuccess(resp.StatusCode) {
		limit = MaxErrorBody
	}
	var body []byte
	if d, ok := resp.Body.(*bufferedBody); ok { // read (and decoded) within the attempt
		body, r.apiErr = d.body, d.err
	} else {
		if body, err = readLimited(resp.Body, resp.ContentLength, limit); err != nil {
			return nil, &TransportError{Method: resp.Request.Method, Path: redactedPath(resp.Request.URL),
				Err: fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)}
		}
	}
	if int64(len(body)) > limit {
		if limit == MaxResponseBody {
			return nil, fmt.Errorf("%w: %s %s answered more than %d bytes", ErrResponseTooLarge,
				resp.Request.Method, redactedPath(resp.Request.URL), MaxResponseBody)
		}
		body = body[:limit]
	}
	r.body = body
	return r, nil
}

// apiError is the answer's *APIError, decoded once.
func (r *response) apiError() *APIError {
	if r.apiErr == nil {
		r.apiErr = newAPIError(r.status, r.header, r.body)
		r.apiErr.method = r.method
	}
	return r.apiErr
}

func isSuccess(status int) bool { return status >= 200 && status <= 299 }

// defaultMaxIdleConnsPerHost is how many idle keep-alive connections to the
// API a Client without WithHTTPClient keeps: 32, against net/http's default
// of 2, so that concurrent calls reuse connections instead of opening new
// ones. Each such Client has its own transport (a clone of
// http.DefaultTransport with this setting).
const defaultMaxIdleConnsPerHost = 32

// noRedirects returns a copy of hc (or a new client with its own pooled
// transport) that hands 3xx answers back instead of following them.
func noRedirects(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		tr := t.Clone()
		tr.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
		out.Transport = tr
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return out
}

// sender is the one place every request passes through: it adds the SDK's
// headers and the API key (only for the base URL's host), applies the
// per-attempt timeout, retries as the RetryPolicy allows within the call's
// budget, passes every answer and transport error through the key scrubber
// and reports every attempt to hooks and the logger.
type sender struct {
	c  *Client
	hc *http.Client
	// stdTransport: hc's transport is net/http's own (*http.Transport, or
	// nil for the default one), whose errors say whether a request left.
	stdTransport bool
}

type ctxKey int

const (
	keyOptional  ctxKey = iota // the operation does not need an API key
	keyNoTimeout               // a long-lived stream: only ctx bounds it
	keyBudget                  // the *callBudget of the method call
)

// withoutTimeout lifts the per-attempt timeout for a stream.
func withoutTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyNoTimeout, true)
}

// callBudget is the retry waiting one method call may still do: every
// request of the call (EncryptAndUpdateEnvs makes up to three, provision and
// visibility two) draws from the same RetryPolicy.MaxTotalWait.
type callBudget struct {
	mu     sync.Mutex
	waited time.Duration
}

// callCtx is a method call's context: the caller's, carrying the call's
// retry budget under keyBudget (context.WithValue plus the budget would be
// two allocations per call).
type callCtx struct {
	context.Context
	budget callBudget
}

func (c *callCtx) Value(key any) any {
	if key == keyBudget {
		return &c.budget
	}
	return c.Context.Value(key)
}

// begin checks a method's context and gives the call its retry budget; a
// call made inside another (EncryptAndUpdateEnvs reading the CVM detail) shares the
// outer call's budget. The nil context is refused, not a panic.
func (c *Client) begin(ctx context.Context) (context.Context, error) {
	if ctx == nil {
		return nil, invalidArg("ctx", "is nil (use context.Background())")
	}
	if _, ok := ctx.Value(keyBudget).(*callBudget); ok {
		return ctx, nil
	}
	return &callCtx{Context: ctx}, nil
}

// start is the prologue of every method that takes a cvmID: begin, then
// the id checked and normalised for the path (an ErrInvalidArgument error
// naming "ctx" or "cvmID" before anything is sent).
func (c *Client) start(ctx context.Context, cvmID string) (context.Context, string, error) {
	ctx, err := c.begin(ctx)
	if err != nil {
		return nil, "", err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, "", err
	}
	return ctx, id, nil
}

// replayHeaders are the headers that make net/http treat a PATCH or POST
// as idempotent and resend it on a new connection when a reused one dies
// before the answer (net/http's Request.isReplayable checks exactly these
// two names). The SDK removes them from every change, whoever set them.
var replayHeaders = []string{"Idempotency-Key", "X-Idempotency-Key"}

// Do sends req with the SDK's headers, retrying as the RetryPolicy allows.
func (s *sender) Do(req *http.Request) (*http.Response, error) {
	c := s.c
	if err := s.prepare(req); err != nil {
		return nil, err
	}
	budget, ok := req.Context().Value(keyBudget).(*callBudget)
	if !ok {
		budget = &callBudget{}
	}
	for n := 1; ; n++ {
		if n > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: err}
			}
			req.Body = body
		}
		a := s.once(req, n)
		budget.mu.Lock()
		waited := budget.waited
		budget.mu.Unlock()
		wait, retry := c.cfg.retry.retryWait(req, n, a, waited)
		if retry {
			// A deadline that ends before the wait does: hand back this
			// answer (a 429's *APIError with its Retry-After) now rather
			// than sleep into context.DeadlineExceeded.
			if dl, has := req.Context().Deadline(); has && time.Until(dl) <= wait {
				retry = false
			}
		}
		if !retry {
			if a.err != nil {
				return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: unwrapURLError(a.err)}
			}
			return a.resp, nil
		}
		ev := RetryEvent{Method: req.Method, Path: redactedPath(req.URL), Attempt: n, Err: a.err, Wait: wait}
		if a.resp != nil {
			ev.StatusCode = a.resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(a.resp.Body, MaxErrorBody))
			a.resp.Body.Close()
		}
		c.logRetry(req.Context(), ev)
		if c.cfg.hooks.OnRetry != nil {
			c.cfg.hooks.OnRetry(ev)
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: err}
		}
		budget.mu.Lock()
		budget.waited += wait
		budget.mu.Unlock()
	}
}

// prepare adds the headers every attempt carries. The caller's BeforeSend
// hook runs first, so it never sees the API key.
func (s *sender) prepare(req *http.Request) error {
	c := s.c
	for k, vs := range c.cfg.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.userAgent())
	if req.Header.Get("X-Phala-Version") == "" { // a call may pin its own (kmsPubkeyAPIVersion)
		req.Header.Set("X-Phala-Version", c.cfg.apiVersion)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.cfg.hooks.BeforeSend != nil {
		c.cfg.hooks.BeforeSend(req.Context(), req)
	}
	if !isRead(req.Method) {
		for _, h := range replayHeaders {
			req.Header.Del(h)
		}
	}
	if req.URL.Host != c.base.Host || req.URL.Scheme != c.base.Scheme {
		return nil // the key is only ever sent to the base URL's host
	}
	if c.cfg.apiKey != "" {
		req.Header[headerAPIKey] = []string{string(c.cfg.apiKey)}
	} else if req.Context().Value(keyOptional) == nil {
		return ErrMissingAPIKey
	}
	return nil
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// once makes one attempt under the per-attempt timeout and reports whether
// the request may have reached the server. The answer (or error) leaves
// once only through the key scrubber. A read's body, and the body of every
// answer that is not a success, is read here, within the attempt, so that
// a body cut mid-read is a failed attempt the retry policy sees; an error
// answer is decoded here, once, into the *APIError that both the retry
// decision and the caller get. A stream's success body is left to its
// reader.
func (s *sender) once(req *http.Request, n int) attempt {
	c := s.c
	timeout := c.cfg.timeout
	stream := req.Context().Value(keyNoTimeout) != nil
	if stream {
		timeout = 0 // only the caller's context bounds a stream
	}
	// Whether a failed change may have reached the server: net/http's
	// Transport reports a DNS, dial or handshake error (neverReached) only
	// when no byte of this request left (it resends a change by itself
	// only when nothing was written, and its dial errors come from
	// dialing). A RoundTripper of the caller's own could fail over after
	// sending, so with one the attempt also notes whether a connection was
	// handed out. A read is retried either way.
	parent := req.Context()
	var gotConn atomic.Bool
	if !isRead(req.Method) && !s.stdTransport {
		parent = httptrace.WithClientTrace(parent, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }})
	}
	a := newAttemptCtx(parent, timeout)
	r := req.WithContext(a)
	start := time.Now()
	resp, err := s.hc.Do(r)
	err = c.scrub.scrubError(err)
	info := RequestInfo{Method: req.Method, Path: redactedPath(req.URL), Attempt: n, Err: err}
	if err != nil {
		a.release()
		info.Duration = time.Since(start)
		c.observe(req.Context(), info)
		return attempt{err: err, reached: gotConn.Load() || !neverReached(err)}
	}
	var b []byte
	whole := !stream && resp.ContentLength >= 0 && resp.ContentLength <= MaxErrorBody
	if whole {
		// A body of known, bounded length is read here in one piece and
		// scrubbed whole: what the streaming scrubber gives for it, without
		// its buffer and second copy.
		b, err = c.readWhole(resp, &a.buffered)
		a.release()
	} else {
		c.scrub.scrubResponse(resp, &a.scrub)
		a.respBody = releaseOnClose{ReadCloser: resp.Body, a: a}
		resp.Body = &a.respBody
		if (isRead(req.Method) && !stream) || !isSuccess(resp.StatusCode) {
			b, err = bufferBody(resp, &a.buffered)
		}
	}
	info.StatusCode, info.RequestID = resp.StatusCode, resp.Header.Get(headerRequestID)
	var apiErr *APIError
	if whole || (isRead(req.Method) && !stream) || !isSuccess(resp.StatusCode) {
		if err != nil {
			info.Duration, info.Err = time.Since(start), err
			c.observe(req.Context(), info)
			return attempt{err: err, reached: true}
		}
		if !isSuccess(resp.StatusCode) {
			b = b[:min(len(b), MaxErrorBody)]
			// The one decoding of an error answer: the retry decision and
			// the caller's *APIError both use it.
			apiErr = newAPIError(resp.StatusCode, resp.Header, b)
			apiErr.method = req.Method
			if resp.StatusCode == http.StatusNotFound && !strings.HasSuffix(c.base.Path, "/api/v1") {
				apiErr.hint = fmt.Sprintf("the base URL %s does not end in /api/v1, where the API's paths start (e.g. %s)", c.base, DefaultBaseURL)
			}
			a.buffered.err = apiErr
		}
	}
	info.Duration = time.Since(start)
	c.observe(req.Context(), info)
	return attempt{resp: resp, apiErr: apiErr, reached: true}
}

// readWhole reads resp's body of known length (at most MaxErrorBody) in
// full, closes it and scrubs it, status line, headers and trailers, as the
// streaming scrubber would; resp.Body becomes into, holding the bytes.
func (c *Client) readWhole(resp *http.Response, into *bufferedBody) ([]byte, error) {
	c.scrub.scrubHead(resp)
	b, err := readLimited(resp.Body, resp.ContentLength, MaxErrorBody)
	resp.Body.Close()
	b = c.scrub.scrubBody(b, err != nil)
	c.scrub.header(resp.Trailer)
	*into = bufferedBody{body: b, out: into.out}
	into.r.Reset(b)
	resp.Body = into
	if err != nil {
		return nil, fmt.Errorf("reading the %d answer: %w", resp.StatusCode, c.scrub.scrubError(err))
	}
	return b, nil
}

// bufferBody reads resp's body (up to one byte over the limit read applies)
// and closes it, replacing it with the bytes read, which it returns; read
// then takes those bytes as they are instead of copying them again.
func bufferBody(resp *http.Response, into *bufferedBody) ([]byte, error) {
	limit := int64(MaxResponseBody)
	if !isSuccess(resp.StatusCode) {
		limit = MaxErrorBody
	}
	b, err := readLimited(resp.Body, resp.ContentLength, limit)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)
	}
	*into = bufferedBody{body: b, out: into.out}
	into.r.Reset(b)
	resp.Body = into
	return b, nil
}

// unwrapURLError drops *url.Error's wrapper, whose text repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactedPath is the request path without a query (which may hold tokens).
func redactedPath(u *url.URL) string { return u.EscapedPath() }

// withOptionalAuth marks a call that works without an API key.
func withOptionalAuth(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyOptional, true)
}
