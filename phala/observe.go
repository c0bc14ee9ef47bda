package phala

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// RequestInfo describes one HTTP attempt to hooks and the logger. It never
// carries headers, query strings or bodies, which may hold secrets.
type RequestInfo struct {
	Method string
	// Path is the escaped request path, without the query.
	Path string
	// Attempt counts from 1.
	Attempt int
	// StatusCode is 0 when the attempt got no answer.
	StatusCode int
	// Duration is the attempt's time until its answer was read whole (for
	// the state stream, until its headers arrived).
	Duration time.Duration
	// RequestID is the answer's X-Request-ID, if any, with the API key
	// replaced by [REDACTED] should the server have echoed it there.
	RequestID string
	// Err is the transport error of an attempt without an answer.
	Err error
}

// Hooks observe every HTTP attempt, e.g. for metrics and tracing.
type Hooks struct {
	// BeforeSend runs before each call's first attempt and may add headers
	// (a traceparent, say). It runs before the SDK adds X-API-Key, so the
	// key is not in req.Header when it runs. Idempotency-Key and
	// X-Idempotency-Key are removed from a PATCH or POST after it ran: they
	// would make net/http resend the change by itself on a dead reused
	// connection.
	BeforeSend func(ctx context.Context, req *http.Request)
	// AfterAttempt runs after every attempt, retries included.
	AfterAttempt func(ctx context.Context, info RequestInfo)
	// OnRetry runs before every retry wait, from the calling goroutine,
	// with the failed attempt and the wait to come.
	OnRetry func(RetryEvent)
}

func (c *Client) observe(ctx context.Context, info RequestInfo) {
	if c.cfg.hooks.AfterAttempt != nil {
		c.cfg.hooks.AfterAttempt(ctx, info)
	}
	if c.cfg.logger == nil {
		return
	}
	attrs := []slog.Attr{slog.String("method", info.Method), slog.String("path", info.Path),
		slog.Int("status", info.StatusCode), slog.Duration("duration", info.Duration),
		slog.String("request_id", info.RequestID), slog.Int("attempt", info.Attempt)}
	if info.Err != nil {
		attrs = append(attrs, slog.String("error", unwrapURLError(info.Err).Error()))
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "phala: http request", attrs...)
}

func (c *Client) logRetry(ctx context.Context, ev RetryEvent) {
	if c.cfg.logger == nil {
		return
	}
	attrs := []slog.Attr{slog.String("method", ev.Method), slog.String("path", ev.Path),
		slog.Int("status", ev.StatusCode), slog.Int("attempt", ev.Attempt), slog.Duration("wait", ev.Wait)}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", unwrapURLError(ev.Err).Error()))
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "phala: retrying", attrs...)
}
