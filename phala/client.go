package phala

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultBaseURL is the production API, including its /api/v1 prefix.
	DefaultBaseURL = "https://cloud-api.phala.com/api/v1"
	// DefaultAPIVersion is the X-Phala-Version the SDK pins by default: the
	// newest supported version, the default of the official Go SDK v0.2.0
	// and of @phala/cloud since 2026-06 (no measured reason favours an
	// older one: every CVM call answers the 2026-05-22 shapes under it).
	// The response shapes of each version in SupportedAPIVersions, which
	// WithAPIVersion accepts, are decoded.
	DefaultAPIVersion = APIVersion20260623
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
	cfg  config
	base *url.URL
	// server is base with a trailing slash, as gen's request builders
	// take it.
	server string
	hc     *http.Client
	// stdTransport: hc's transport is net/http's own (*http.Transport, or
	// nil for the default one), whose errors say whether a request left.
	stdTransport bool
	// keySecrets scrubs the API key (empty without a key); tokens are the
	// commit tokens the client received.
	keySecrets secrets
	tokens     *tokenSet
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
	logger     *slog.Logger
	hooks      Hooks
	keyAnchor  KeyAnchor // WithKeyAnchor; nil: none
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
	c := &Client{cfg: cfg, base: base, server: base.String() + "/", hc: noRedirects(cfg.httpClient), tokens: &tokenSet{}}
	if cfg.apiKey != "" {
		c.keySecrets = secrets{newKeyScrubber(string(cfg.apiKey))}
	}
	_, std := c.hc.Transport.(*http.Transport)
	c.stdTransport = std || c.hc.Transport == nil
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

// Format prints the client for every verb (%v, %+v, %#v, %s...) without its
// API key: fmt prints unexported fields raw, so the secret type alone does
// not hide the key inside a Client.
//
// The receiver is a value on purpose: with a pointer receiver fmt would
// print a Client value (fmt.Sprint(*c)) field by field, and %s or %q even
// follow pointers to the fields behind them, key included
// (TestAPIKeyNeverPrinted).
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

// LogValue keeps the API key out of structured logs.
func (c *Client) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(c)) }

// beginWait checks the context of WaitForCVM and WaitForUpdate, which give
// each of their requests a retry budget of its own.
func (c *Client) beginWait(ctx context.Context) (context.Context, error) {
	if ctx == nil {
		return nil, invalidArg("ctx", "is nil (use context.Background())")
	}
	return ctx, nil
}

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

// callState is what the requests of one method call share: the retry
// waiting already done (every request of the call draws from the same
// RetryPolicy.MaxTotalWait) and the secrets the caller handed to the call.
type callState struct {
	mu      sync.Mutex
	waited  time.Duration
	secrets secrets
}

type callKey struct{}

// begin checks a method's context and gives the call its state; a call
// made inside another (EncryptAndUpdateEnvs reading the CVM detail) shares
// the outer call's. handed are secrets the caller passed (a commit token,
// env values), scrubbed from every text the call gives back. The nil
// context is refused, not a panic.
func (c *Client) begin(ctx context.Context, handed ...string) (context.Context, error) {
	if ctx == nil {
		return nil, invalidArg("ctx", "is nil (use context.Background())")
	}
	if cs, ok := ctx.Value(callKey{}).(*callState); ok {
		cs.mu.Lock()
		cs.secrets = cs.secrets.with(handed...)
		cs.mu.Unlock()
		return ctx, nil
	}
	return context.WithValue(ctx, callKey{}, &callState{secrets: secrets(nil).with(handed...)}), nil
}

// start is the prologue of every method that takes a cvmID: begin, then
// the id checked and normalised for the path (an ErrInvalidArgument error
// naming "ctx" or "cvmID" before anything is sent).
func (c *Client) start(ctx context.Context, cvmID string, handed ...string) (context.Context, string, error) {
	ctx, err := c.begin(ctx, handed...)
	if err != nil {
		return nil, "", err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, "", err
	}
	return ctx, id, nil
}

// secretsOf is every secret a text of this call must not hold: the API
// key, the commit tokens the client received, and what the caller handed.
func (c *Client) secretsOf(cs *callState) secrets {
	out := c.tokens.all(c.keySecrets)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.secrets) == 0 {
		return out
	}
	return append(slices.Clip(out), cs.secrets...)
}
