package phala

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phalacloud/go-sdk/gen"
)

// Version is this SDK's version; it is sent in the User-Agent.
const Version = "0.1.0"

const (
	// DefaultBaseURL is the production API, including its /api/v1 prefix.
	DefaultBaseURL = "https://cloud-api.phala.com/api/v1"
	// DefaultAPIVersion is the X-Phala-Version the SDK pins by default, the
	// default of @phala/cloud 0.2.9; the response shapes of each version in
	// SupportedAPIVersions, which WithAPIVersion accepts, are decoded.
	DefaultAPIVersion = APIVersion20260121
	// DefaultTimeout bounds each HTTP attempt (connect, send, wait for the
	// answer, read its body) unless WithTimeout says otherwise or the
	// context's deadline is sooner. Retries are new attempts with a new
	// timeout; see WithTimeout for the worst case of a call.
	DefaultTimeout = 60 * time.Second

	// EnvAPIKey is the environment variable NewClient reads the API key from
	// when WithAPIKey is not given.
	EnvAPIKey = "PHALA_CLOUD_API_KEY"
	// EnvAPIPrefix is the environment variable NewClient reads the base URL
	// from when WithBaseURL is not given.
	EnvAPIPrefix = "PHALA_CLOUD_API_PREFIX"
)

// Client talks to the Phala Cloud API. Create it with NewClient; it is safe
// for concurrent use by many goroutines.
type Client struct {
	cfg   config
	base  *url.URL
	api   *gen.Client
	scrub *keyScrubber // nil without a key
}

// config holds what the options set; NewClient fills the defaults.
type config struct {
	apiKey     secret
	baseURL    string
	apiVersion string
	userAgent  string
	timeout    time.Duration
	httpClient *http.Client
	allowHTTP  bool
	headers    http.Header
	retry      RetryPolicy
	onRetry    func(RetryEvent)
	logger     *slog.Logger
	hooks      Hooks
	keyAnchor  KeyAnchor // WithKeyAnchor; nil: none
}

// Option configures a Client in NewClient.
type Option func(*config) error

// WithAPIKey sets the API key sent as X-API-Key. Without it NewClient uses
// $PHALA_CLOUD_API_KEY; a call that needs a key and has none fails with
// ErrMissingAPIKey before anything is sent.
//
// A key is 8 to 1024 characters of the token alphabet A-Z a-z 0-9 - . _ ~
// + / with optional trailing = (Phala Cloud's keys look like "phak_abc123..."
// per the Phala Cloud CLI's configuration reference for
// PHALA_CLOUD_API_KEY; @phala/cloud 0.2.9 sends the key as X-API-Key without
// checking its form); anything else, white space included, is refused with an
// ErrInvalidArgument error naming WithAPIKey, which never repeats the key.
// The alphabet keeps the key free of characters that JSON, HTML or URLs
// escape, so that the SDK's scrubber recognises it wherever a server echoes it.
//
// WithAPIKey("") sets nothing, as before: $PHALA_CLOUD_API_KEY still applies.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if key == "" {
			return nil
		}
		if err := checkAPIKey("WithAPIKey", key); err != nil {
			return err
		}
		c.apiKey = secret(key)
		return nil
	}
}

// checkAPIKey enforces the key alphabet of WithAPIKey.
func checkAPIKey(field, key string) error {
	if len(key) < 8 || len(key) > 1024 {
		return invalidArg(field, "the key is %d characters long; want 8 to 1024", len(key))
	}
	body := strings.TrimRight(key, "=")
	if body == "" {
		return invalidArg(field, "the key is only padding")
	}
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9':
		case b == '-', b == '.', b == '_', b == '~', b == '+', b == '/':
		default:
			return invalidArg(field, "the key has a character outside A-Z a-z 0-9 - . _ ~ + / (at byte %d; white space and line breaks included)", i)
		}
	}
	return nil
}

// WithBaseURL sets the API root, including the /api/v1 prefix, e.g.
// "https://cloud-api.phala.com/api/v1". Without it NewClient uses
// $PHALA_CLOUD_API_PREFIX, then DefaultBaseURL. A plain http:// URL is
// accepted only for loopback hosts unless WithInsecureHTTP is given.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport carries the requests.
// The SDK uses a copy of it that never follows redirects (an API key must
// not travel to another host); its Timeout, if any, still applies.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidArg("WithHTTPClient", "the client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithAPIVersion sets the X-Phala-Version header (YYYY-MM-DD). The default is
// DefaultAPIVersion. Only the versions of SupportedAPIVersions are accepted
// (2025-10-28, 2026-01-21, 2026-05-22), since the SDK decodes each one's
// response shapes and no other's: NewClient fails for a malformed date
// with an ErrInvalidArgument error naming "WithAPIVersion", and for
// another date with an *UnsupportedAPIVersionError (matching both
// ErrUnsupportedAPIVersion and ErrInvalidArgument).
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return invalidArg("WithAPIVersion", "want a date as YYYY-MM-DD")
		}
		c.apiVersion = v
		return nil
	}
}

// WithTimeout bounds every HTTP attempt the client makes (connect, send,
// wait, read the body); the default is DefaultTimeout. It also bounds how
// long WaitForCVM waits for the state stream's headers before it polls
// instead. WithTimeout(0) removes the SDK's bound on attempts (the stream
// header wait then uses DefaultTimeout), leaving the context's deadline and
// the HTTP client's own Timeout. A context deadline that is sooner always
// wins.
//
// The worst case of a method call without a context deadline is
// R x MaxAttempts x timeout + MaxTotalWait, R being the requests it makes:
// 1 for most methods, 2 for UpdateCVMVisibility with a nil flag and
// ProvisionCVMComposeFileUpdate, 1 + (1 on an on-chain KMS) for
// GetEnvEncryptPublicKey, and that plus 1 for UpdateEnvs. With the defaults
// (3 attempts, 60 s, 15 s) that is 195 s for one request. WaitForCVM and
// WaitForUpdate poll until their target, bounded only by ctx.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalidArg("WithTimeout", "negative duration")
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent appends a product token to the User-Agent, which always
// starts with "phala-go-sdk/<Version>".
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.ContainsAny(suffix, "\r\n") {
			return invalidArg("WithUserAgent", "contains a line break")
		}
		c.userAgent = suffix
		return nil
	}
}

// WithHeader adds a header to every request. It refuses, with an
// ErrInvalidArgument error naming WithHeader, the headers the SDK sets
// itself (X-API-Key, X-Phala-Version, User-Agent, Content-Type, Accept),
// the per-call phase-2 headers (X-Compose-Hash, X-Transaction-Hash,
// X-Prepare-Only), which would otherwise travel twice, and Idempotency-Key
// and X-Idempotency-Key, which make net/http replay a PATCH or POST by
// itself when a reused connection dies, applying a change twice.
func WithHeader(name, value string) Option {
	return func(c *config) error {
		switch http.CanonicalHeaderKey(name) {
		case "X-Api-Key", "X-Phala-Version", "User-Agent", "Content-Type", "Host", "Accept",
			"X-Compose-Hash", "X-Transaction-Hash", "X-Prepare-Only":
			return invalidArg("WithHeader", "%s is set by the SDK", name)
		case "Idempotency-Key", "X-Idempotency-Key":
			return invalidArg("WithHeader", "%s makes net/http resend a change on its own; the SDK never replays a change that may have been applied", name)
		}
		if name == "" || strings.ContainsAny(name+value, "\r\n") {
			return invalidArg("WithHeader", "empty name or a line break")
		}
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers.Add(name, value)
		return nil
	}
}

// WithInsecureHTTP allows a plain http:// base URL on a non-loopback host
// while an API key is set. Without it NewClient refuses such a URL, since
// the key would cross the network in clear text.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.allowHTTP = true
		return nil
	}
}

// NewClient returns a Client configured by opts, with fallbacks to
// $PHALA_CLOUD_API_KEY and $PHALA_CLOUD_API_PREFIX. It fails with an error
// matching ErrInvalidArgument for a malformed option or base URL, or a
// $PHALA_CLOUD_API_KEY outside WithAPIKey's alphabet (the error names
// "$PHALA_CLOUD_API_KEY", never the value), and with an
// *UnsupportedAPIVersionError (also ErrInvalidArgument) for an API version
// outside SupportedAPIVersions; a missing API key is reported by the first
// call that needs one (ErrMissingAPIKey).
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{apiVersion: DefaultAPIVersion, timeout: DefaultTimeout, retry: DefaultRetryPolicy()}
	apiKeySet := false
	for _, o := range opts {
		if o == nil {
			continue
		}
		before := cfg.apiKey
		if err := o(&cfg); err != nil {
			return nil, err
		}
		apiKeySet = apiKeySet || cfg.apiKey != before
	}
	if err := checkAPIVersion(cfg.apiVersion); err != nil {
		return nil, err
	}
	if !apiKeySet && cfg.apiKey == "" {
		if k := strings.TrimSpace(os.Getenv(EnvAPIKey)); k != "" {
			if err := checkAPIKey("$"+EnvAPIKey, k); err != nil {
				return nil, err
			}
			cfg.apiKey = secret(k)
		}
	}
	if cfg.baseURL == "" {
		cfg.baseURL = strings.TrimSpace(os.Getenv(EnvAPIPrefix))
	}
	if cfg.baseURL == "" {
		cfg.baseURL = DefaultBaseURL
	}
	base, err := parseBaseURL(cfg.baseURL, cfg.apiKey != "" && !cfg.allowHTTP)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, base: base, scrub: newKeyScrubber(string(cfg.apiKey))}
	auditClient(c)
	c.api, err = gen.NewClient(base.String(), gen.WithHTTPClient(&sender{c: c, hc: noRedirects(cfg.httpClient)}))
	if err != nil {
		return nil, fmt.Errorf("phala: building the API client: %w", err)
	}
	return c, nil
}

// parseBaseURL checks the API root; with keyOverNetwork a plain http:// URL
// is accepted only on loopback.
func parseBaseURL(raw string, keyOverNetwork bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, invalidArg("base URL", "want an absolute http(s) URL such as %s", DefaultBaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, invalidArg("base URL", "must not carry credentials, a query or a fragment")
	}
	if u.Scheme == "http" && keyOverNetwork && !isLoopback(u.Hostname()) {
		return nil, invalidArg("base URL", "plain http to a non-loopback host would send the API key in clear text; use https or WithInsecureHTTP")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// isLoopback accepts exactly "localhost" (any case) and loopback IP
// literals. Go resolves other names, "x.localhost" included, through the
// system resolver, which may send them anywhere.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	// An IP literal only: a DNS name such as 127.example.com is not loopback.
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultMaxIdleConnsPerHost is how many idle keep-alive connections to the
// API a Client without WithHTTPClient keeps: 32, against net/http's default
// of 2, so that concurrent calls reuse connections instead of opening new
// ones. Each such Client has its own transport (a clone of
// http.DefaultTransport with this setting).
const DefaultMaxIdleConnsPerHost = 32

// noRedirects returns a copy of hc (or a new client with its own pooled
// transport) that hands 3xx answers back instead of following them.
func noRedirects(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		tr := t.Clone()
		tr.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		out.Transport = tr
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return out
}

// Format prints the client for every verb (%v, %+v, %#v, %s...) without its
// API key: fmt prints unexported fields raw, so the secret type alone does
// not hide the key inside a Client.
func (c Client) Format(f fmt.State, _ rune) {
	base := ""
	if c.base != nil {
		base = c.base.String()
	}
	key := ""
	if c.cfg.apiKey != "" {
		key = redacted
	}
	fmt.Fprintf(f, "phala.Client{BaseURL:%q APIVersion:%q APIKey:%q}", base, c.cfg.apiVersion, key)
}

// BaseURL returns the API root the client sends requests to.
func (c *Client) BaseURL() string { return c.base.String() }

// userAgent is "phala-go-sdk/<Version>" plus the caller's suffix.
func (c *Client) userAgent() string {
	ua := "phala-go-sdk/" + Version
	if c.cfg.userAgent != "" {
		ua += " " + c.cfg.userAgent
	}
	return ua
}

// sender is the one place every request passes through: it adds the SDK's
// headers and the API key (only for the base URL's host), applies the
// per-attempt timeout, retries as the RetryPolicy allows within the call's
// budget, passes every answer and transport error through the key scrubber
// and reports every attempt to hooks and the logger.
type sender struct {
	c  *Client
	hc *http.Client
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
// request of the call (UpdateEnvs makes up to three, provision and
// visibility two) draws from the same RetryPolicy.MaxTotalWait.
type callBudget struct {
	mu     sync.Mutex
	waited time.Duration
}

// begin checks a method's context and gives the call its retry budget; a
// call made inside another (UpdateEnvs reading the CVM detail) shares the
// outer call's budget. The nil context is refused, not a panic.
func (c *Client) begin(ctx context.Context) (context.Context, error) {
	if ctx == nil {
		return nil, invalidArg("ctx", "is nil (use context.Background())")
	}
	if _, ok := ctx.Value(keyBudget).(*callBudget); ok {
		return ctx, nil
	}
	return context.WithValue(ctx, keyBudget, &callBudget{}), nil
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
		if c.cfg.onRetry != nil {
			c.cfg.onRetry(ev)
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
	req.Header.Set("X-Phala-Version", c.cfg.apiVersion)
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
		req.Header.Set("X-API-Key", string(c.cfg.apiKey))
	} else if req.Context().Value(keyOptional) == nil {
		return ErrMissingAPIKey
	}
	return nil
}

func isRead(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// once makes one attempt under the per-attempt timeout and reports whether
// the request may have reached the server. The answer (or error) leaves
// once only through the key scrubber. A read's body is read here, within
// the attempt, so that a body cut mid-read is a failed attempt the retry
// policy sees; a stream's body is left to its reader.
func (s *sender) once(req *http.Request, n int) attempt {
	c := s.c
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	stream := ctx.Value(keyNoTimeout) != nil
	if c.cfg.timeout > 0 && !stream {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	}
	var gotConn atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) }})
	start := time.Now()
	resp, err := s.hc.Do(req.WithContext(ctx))
	err = c.scrub.scrubError(err)
	info := RequestInfo{Method: req.Method, Path: redactedPath(req.URL), Attempt: n, Err: err}
	if err != nil {
		cancel()
		info.Duration = time.Since(start)
		c.observe(req.Context(), info)
		return attempt{err: err, reached: gotConn.Load() || !neverReached(err)}
	}
	c.scrub.scrubResponse(resp)
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	info.StatusCode, info.RequestID = resp.StatusCode, resp.Header.Get("X-Request-ID")
	if isRead(req.Method) && !stream {
		if err := bufferBody(resp); err != nil {
			info.Duration, info.Err = time.Since(start), err
			c.observe(req.Context(), info)
			return attempt{err: err, reached: true}
		}
	}
	info.Duration = time.Since(start)
	c.observe(req.Context(), info)
	return attempt{resp: resp, reached: true}
}

// bufferBody reads resp's body (up to one byte over the limit read applies)
// and closes it, replacing it with the bytes read.
func bufferBody(resp *http.Response) error {
	limit := int64(MaxResponseBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = MaxErrorBody
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// cancelOnClose releases the per-attempt timeout once the body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
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

// LogValue keeps the API key out of structured logs.
func (c *Client) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(c)) }

// scrub removes the API key from an error answer's headers and body, in case a server
// or proxy echoes request headers back: error bodies end up in error
// strings and logs.
func (c *Client) beginWait(ctx context.Context) (context.Context, error) {
	if ctx == nil {
		return nil, invalidArg("ctx", "is nil (use context.Background())")
	}
	return ctx, nil
}
