package phala

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

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
// (2025-10-28, 2026-01-21, 2026-05-22, 2026-06-23), since the SDK decodes each one's
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
// GetEnvEncryptPublicKey, and that plus 1 for EncryptAndUpdateEnvs. With the defaults
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

// WithRetryPolicy replaces DefaultRetryPolicy. Zero durations mean no wait.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 1 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 || p.MaxTotalWait < 0 {
			return invalidArg("WithRetryPolicy", "MaxAttempts must be at least 1 and durations non-negative")
		}
		c.retry = p
		return nil
	}
}

// WithoutRetries makes every call a single attempt.
func WithoutRetries() Option {
	return func(c *config) error {
		c.retry = RetryPolicy{MaxAttempts: 1}
		return nil
	}
}

// WithHooks installs request hooks.
func WithHooks(h Hooks) Option {
	return func(c *config) error {
		c.hooks = h
		return nil
	}
}

// WithLogger logs one debug line per HTTP attempt (method, path, status,
// duration, request id, attempt) and one per retry (with the wait). It never
// logs headers, query strings or bodies, so the API key and env values stay
// out of the log.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithKeyAnchor sets the KeyAnchor that GetEnvEncryptPublicKey(With) and
// EncryptAndUpdateEnvs check env-encryption keys against when the call gives none
// (EnvKeyOptions.Anchor and ExpectedSigner take precedence). With an anchor
// set, a CVM whose detail shows the central KMS (unsigned key) is refused
// unless the call passes Anchor: InsecureTrustAPISigner(). A nil anchor is
// an *InvalidArgumentError (field "WithKeyAnchor").
func WithKeyAnchor(a KeyAnchor) Option {
	return func(c *config) error {
		if isNilAnchor(a) {
			return invalidArg("WithKeyAnchor", "the anchor is nil")
		}
		c.keyAnchor = a
		return nil
	}
}
