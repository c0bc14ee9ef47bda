package phala

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says when and how long the SDK retries a request. It is
// stricter than most clients about changes, because a CVM update restarts a
// production VM and must never be applied twice:
//
//   - Any request is retried when it provably never reached the server
//     (DNS, dial or TLS handshake failure), and on 429 and 503, which the API
//     sends without acting on the request, and on a 409 without an error
//     code ("another operation is in progress").
//   - Reads (GET) are also retried on 502, 504 and on errors after the
//     request was sent (timeouts, resets, a body cut mid-read), since
//     repeating them is harmless.
//   - A change (PATCH, POST) that may have been processed is never retried:
//     a timeout or reset after the request was written, a 500, any other
//     4xx, and 465-468 come back to the caller at once.
//
// Waits grow exponentially with full jitter, capped per wait by MaxDelay; a
// Retry-After header (seconds or an HTTP date) replaces the computed wait,
// capped by MaxRetryAfter. The sum of all waits of one method call, over
// all the requests it makes, never exceeds MaxTotalWait; a retry that would
// exceed it is not made and the last answer or error is returned. A retry
// whose wait would end after the context's deadline is not made either: the
// caller gets that answer (a 429 *APIError with its Code and RetryAfter)
// at once rather than context.DeadlineExceeded after sleeping. Cancelling
// the context stops a wait at once. A body is replayed only through
// http.Request.GetBody; a request whose body cannot be rewound is not
// retried. WaitForCVM and WaitForUpdate give each of their requests a
// budget of its own, since they poll for as long as ctx allows.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the upper bound of the first jittered wait.
	BaseDelay time.Duration
	// MaxDelay caps each computed wait.
	MaxDelay time.Duration
	// MaxRetryAfter caps a wait the server asked for with Retry-After.
	MaxRetryAfter time.Duration
	// MaxTotalWait bounds the sum of the waits of one method call, shared by
	// all the requests the call makes.
	MaxTotalWait time.Duration
}

// DefaultRetryPolicy is the policy of a new Client: 3 attempts per request,
// waits of at most 0.5 s, 1 s (jittered), Retry-After honoured up to 10 s,
// at most 15 s of waiting per method call.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 5 * time.Second,
		MaxRetryAfter: 10 * time.Second, MaxTotalWait: 15 * time.Second}
}

// RetryEvent describes a retry about to happen, for Hooks.OnRetry and the
// logger.
type RetryEvent struct {
	Method string
	// Path is the request path, without the query.
	Path string
	// Attempt is the attempt that failed (1 for the first).
	Attempt int
	// StatusCode is the failed attempt's status, 0 when it got no answer.
	StatusCode int
	// Err is the failed attempt's transport error, nil when it got an answer.
	Err error
	// Wait is how long the SDK waits before the next attempt.
	Wait time.Duration
}

// attempt is the outcome of one round trip.
type attempt struct {
	r   *response
	err error
	// apiErr is the answer's *APIError (decoded once) when its status is
	// not 2xx.
	apiErr *APIError
	// reached is false when the request provably never reached the server.
	reached bool
	// final: an error no retry can mend (a success body over the limit).
	final bool
}

// retryableAnswer is the SDK's one classification of an answer that is not
// a success, used by RetryPolicy and APIError.Retryable alike: 429 and 503
// (the API did not act on the request) and a 409 without an error code
// ("another operation is in progress") for any method; 502 and 504 only
// for a read (GET, HEAD), since a change behind a gateway may have been
// applied.
func retryableAnswer(method string, status int, code ErrorCode) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusConflict:
		return code == ""
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return isRead(method)
	}
	return false
}

// retryWait decides whether the failed attempt n is retried, and after how
// long; waited is the time already spent waiting in this call.
func (p RetryPolicy) retryWait(ctx context.Context, req *http.Request, n int, a attempt, waited time.Duration) (time.Duration, bool) {
	if n >= p.MaxAttempts || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return 0, false
	}
	if ctx.Err() != nil {
		return 0, false
	}
	var retry bool
	var after time.Duration
	if a.err != nil {
		retry = !a.final && (!a.reached || isRead(req.Method))
	} else if a.apiErr != nil {
		retry = retryableAnswer(req.Method, a.r.status, a.apiErr.Code)
		if s := a.r.status; s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
			after, _ = parseRetryAfter(a.r.header.Get("Retry-After"), time.Now())
		}
	}
	if !retry {
		return 0, false
	}
	wait := p.backoff(n)
	if after > 0 {
		wait = min(after, p.MaxRetryAfter)
	}
	if waited+wait > p.MaxTotalWait {
		return 0, false
	}
	return wait, true
}

// backoff is a full-jitter exponential wait for after attempt n.
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.BaseDelay << min(n-1, 30)
	if ceiling <= 0 || ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// neverReached reports errors that happen before a request can reach the
// server: name resolution, dialing and the TLS handshake. A malformed TLS
// record counts only as the handshake's first one (crypto/tls then sets
// RecordHeaderError.Conn: a server that does not speak TLS); later ones
// can come after the request was written.
func neverReached(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &certErr):
		return true
	case errors.As(err, &recErr) && recErr.Conn != nil:
		return true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return true
	}
	return false
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
