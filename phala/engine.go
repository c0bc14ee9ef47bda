package phala

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// The request engine: every method builds its request with gen's request
// builder, hands it to do, and decodes what do returns, once, into its
// result:
//
//	req, err := gen.NewGetCVMStateRequest(c.server, id, nil)
//	return decodeAs[CVMState](c.do(ctx, opGetCVMState, req, err))
//
// do prepares the request (headers, API key), makes attempts as the
// RetryPolicy allows (attempt: one round trip under context.WithTimeout,
// the answer read whole and scrubbed of every secret), and classifies the
// last answer by the operations table: a success status is the response,
// anything else its *APIError. Nothing travels back through the body's
// concrete type.

// response is an answer read in full (within limits), closed and scrubbed.
type response struct {
	status int
	header http.Header
	body   []byte
	// stream is the open body of a streaming operation's success answer
	// (read through the scrubber; closing it ends the attempt); nil
	// otherwise.
	stream io.ReadCloser
	// secrets are the call's, for the errors decoding may build.
	secrets secrets
}

// Header names in the canonical form http.Header stores them under.
const (
	headerRequestID = "X-Request-Id"
	headerAPIKey    = "X-Api-Key"
)

func isSuccess(status int) bool { return status >= 200 && status <= 299 }

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// replayHeaders are the headers that make net/http treat a PATCH or POST
// as idempotent and resend it on a new connection when a reused one dies
// before the answer (net/http's Request.isReplayable checks exactly these
// two names). The SDK removes them from every change, whoever set them.
var replayHeaders = []string{"Idempotency-Key", "X-Idempotency-Key"}

// do sends req, built by gen (buildErr is the builder's error), for op:
// prepare, attempts under the retry policy, then the classification of
// the last answer by op's success statuses.
func (c *Client) do(ctx context.Context, op operation, req *http.Request, buildErr error) (*response, error) {
	if buildErr != nil {
		return nil, fmt.Errorf("phala: building the %s request: %w", op.id, buildErr)
	}
	cs, ok := ctx.Value(callKey{}).(*callState)
	if !ok {
		cs = &callState{}
	}
	if err := c.prepare(ctx, req, op); err != nil {
		return nil, err
	}
	sec := c.secretsOf(cs)
	start := time.Now()
	for n := 1; ; n++ {
		if n > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: err}
			}
			req.Body = body
		}
		a := c.attempt(ctx, req, op, sec, n)
		cs.mu.Lock()
		waited := cs.waited
		cs.mu.Unlock()
		wait, retry := c.cfg.retry.retryWait(ctx, req, n, a, waited)
		// A deadline that ends before the wait does: hand back this answer
		// (a 429's *APIError with its Retry-After) now rather than sleep
		// into context.DeadlineExceeded.
		if dl, has := ctx.Deadline(); retry && has && time.Until(dl) <= wait {
			retry = false
		}
		if !retry {
			return classify(op, req, a, tries{n: n, over: time.Since(start)})
		}
		c.retrying(ctx, req, a, n, wait)
		if err := sleep(ctx, wait); err != nil {
			return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: err, tries: tries{n: n, over: time.Since(start)}}
		}
		cs.mu.Lock()
		cs.waited += wait
		cs.mu.Unlock()
	}
}

// retrying closes what the failed attempt n left open and reports the
// retry to come to the logger and the OnRetry hook.
func (c *Client) retrying(ctx context.Context, req *http.Request, a attempt, n int, wait time.Duration) {
	ev := RetryEvent{Method: req.Method, Path: redactedPath(req.URL), Attempt: n, Err: a.err, Wait: wait}
	if a.r != nil {
		ev.StatusCode = a.r.status
		if a.r.stream != nil {
			a.r.stream.Close()
		}
	}
	c.logRetry(ctx, ev)
	if c.cfg.hooks.OnRetry != nil {
		c.cfg.hooks.OnRetry(ev)
	}
}

// classify is the one decision on the last attempt: a transport error, a
// success status of op (or the 465 of a phase-1 update) as the response,
// or the answer's *APIError.
func classify(op operation, req *http.Request, a attempt, t tries) (*response, error) {
	if a.final {
		return nil, a.err // ErrResponseTooLarge names the request itself
	}
	if a.err != nil {
		return nil, &TransportError{Method: req.Method, Path: redactedPath(req.URL), Err: a.err, tries: t}
	}
	if slices.Contains(op.success, a.r.status) || (op.phase1 && a.r.status == statusComposeHashRequired) {
		return a.r, nil
	}
	if a.r.stream != nil { // a streaming operation's other 2xx
		a.r.stream.Close()
	}
	e := a.apiErr
	if e == nil { // a 2xx op does not declare
		e = newAPIError(a.r.status, a.r.header, a.r.body, a.r.secrets)
		e.method = req.Method
	}
	e.tries = t
	return nil, e
}

// prepare adds the headers every attempt carries. The caller's BeforeSend
// hook runs first, so it never sees the API key.
func (c *Client) prepare(ctx context.Context, req *http.Request, op operation) error {
	for k, vs := range c.cfg.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.userAgent())
	if req.Header.Get("X-Phala-Version") == "" { // a call may pin its own (kmsPubkeyAPIVersion)
		req.Header.Set("X-Phala-Version", c.cfg.apiVersion)
	}
	if op.stream {
		req.Header.Set("Accept", "text/event-stream")
	} else if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.cfg.hooks.BeforeSend != nil {
		c.cfg.hooks.BeforeSend(ctx, req)
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
	} else if !op.optionalAuth {
		return ErrMissingAPIKey
	}
	return nil
}

// cancelOnClose is an attempt's answer body: closing it ends the attempt's
// context (and its timer).
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// attempt makes one round trip under the per-attempt timeout (none for a
// stream: only the caller's context bounds it) and reports whether the
// request may have reached the server. The answer is read whole here,
// within the attempt, so that a body cut mid-read is a failed attempt the
// retry policy sees, and every byte of it leaves only scrubbed; an error
// answer is decoded here, once, into the *APIError that both the retry
// decision and the caller get.
func (c *Client) attempt(parent context.Context, req *http.Request, op operation, sec secrets, n int) attempt {
	// Whether a failed change may have reached the server: net/http's
	// Transport reports a DNS, dial or handshake error (neverReached) only
	// when no byte of this request left. A RoundTripper of the caller's
	// own could fail over after sending, so with one the attempt also
	// notes whether a connection was handed out. A read is retried either
	// way.
	var gotConn atomic.Bool
	if !isRead(req.Method) && !c.stdTransport {
		parent = httptrace.WithClientTrace(parent, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }})
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if c.cfg.timeout > 0 && !op.stream {
		ctx, cancel = context.WithTimeout(parent, c.cfg.timeout)
	} else {
		ctx, cancel = context.WithCancel(parent)
	}
	start := time.Now()
	resp, err := c.hc.Do(req.WithContext(ctx))
	info := RequestInfo{Method: req.Method, Path: redactedPath(req.URL), Attempt: n}
	if err != nil {
		cancel()
		err = sec.err(unwrapURLError(err))
		info.Duration, info.Err = time.Since(start), err
		c.observe(parent, info)
		return attempt{err: err, reached: gotConn.Load() || !neverReached(err)}
	}
	sec.head(resp)
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	r := &response{status: resp.StatusCode, header: resp.Header, secrets: sec}
	info.StatusCode, info.RequestID = resp.StatusCode, resp.Header.Get(headerRequestID)
	if op.stream && isSuccess(resp.StatusCode) {
		r.stream = sec.reader(resp.Body)
		info.Duration = time.Since(start)
		c.observe(parent, info)
		return attempt{r: r, reached: true}
	}
	r.body, err = readBody(resp, sec)
	info.Duration = time.Since(start)
	if err != nil {
		info.Err = err
		c.observe(parent, info)
		return attempt{err: err, reached: true, final: errors.Is(err, ErrResponseTooLarge)}
	}
	a := attempt{r: r, reached: true}
	if !isSuccess(resp.StatusCode) {
		a.apiErr = newAPIError(r.status, r.header, r.body, sec)
		a.apiErr.method = req.Method
		a.apiErr.hint = c.hint(r.status, a.apiErr.Code)
	}
	c.observe(parent, info)
	return a
}

// readBody reads resp's body whole, at most MaxResponseBody of a success
// and MaxErrorBody of anything else (an error body is cut there, a success
// body over it is ErrResponseTooLarge), closes it and scrubs it.
func readBody(resp *http.Response, sec secrets) ([]byte, error) {
	limit, ahead := int64(MaxResponseBody), int64(0)
	if !isSuccess(resp.StatusCode) {
		// An error body is read beyond the cut and scrubbed before it: a
		// secret the cut would split is found whole, and the cut body is
		// MaxErrorBody long after redaction too.
		limit, ahead = MaxErrorBody, cutLookahead
	}
	b, err := readLimited(resp.Body, limit+ahead)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the %d answer: %w", resp.StatusCode, sec.err(err))
	}
	if int64(len(b)) > limit && isSuccess(resp.StatusCode) {
		return nil, fmt.Errorf("%w: %s %s answered more than %d bytes", ErrResponseTooLarge,
			resp.Request.Method, redactedPath(resp.Request.URL), MaxResponseBody)
	}
	b = sec.body(b, int64(len(b)) > limit+ahead)
	return b[:min(int64(len(b)), limit)], nil
}

// cutLookahead is how far past MaxErrorBody an error body is read: more
// than the longest encoded form of a secret (6 bytes a character as JSON
// \u escapes) of a key or token of up to 512 characters.
const cutLookahead = 6 * 512

// readLimited reads at most limit+1 bytes of body: one over, so that the
// caller sees an answer over its limit.
func readLimited(body io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(body, limit+1))
}

// hint is what to do about an error answer the SDK recognises as a likely
// mistake or a passing state; Error appends it.
func (c *Client) hint(status int, code ErrorCode) string {
	switch {
	case status == http.StatusNotFound && !strings.HasSuffix(c.base.Path, "/api/v1"):
		return fmt.Sprintf("the base URL %s does not end in /api/v1, where the API's paths start (e.g. %s)", c.base, DefaultBaseURL)
	case status == http.StatusConflict && code == "":
		return "another operation is running on this CVM: wait until it ends (WaitForCVM, or WaitForUpdate with the running update's result) and call again"
	}
	return ""
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

// decodeAs decodes a success answer into a new T, once:
//
//	return decodeAs[CVMState](c.do(ctx, opGetCVMState, req, err))
func decodeAs[T any](r *response, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := decodeJSON(r, v); err != nil {
		return nil, err
	}
	return v, nil
}
