package phala

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// auditSink receives, when this package's tests install one, every secret
// a Client or helper is given (API keys, env values) and every text the
// package hands out: method errors and results, log records, hook and
// retry payloads. The tests' TestMain scans the texts for the secrets
// after the whole suite ran. It is nil outside tests and then costs one
// nil check per call.
type auditSink interface {
	secret(s string)
	record(kind, text string)
}

var testAudit auditSink

// auditClient registers c's key and routes its logger and hooks through
// the sink; a client without a logger gets a debug logger, so that every
// log line the SDK can write is written and scanned.
func auditClient(c *Client) {
	a := testAudit
	if a == nil {
		return
	}
	a.secret(string(c.cfg.apiKey))
	c.cfg.logger = slog.New(auditHandler{a: a, next: loggerHandler(c.cfg.logger)})
	after, onRetry := c.cfg.hooks.AfterAttempt, c.cfg.hooks.OnRetry
	c.cfg.hooks.AfterAttempt = func(ctx context.Context, info RequestInfo) {
		a.record("hook", fmt.Sprintf("%+v %v", info, info.Err))
		if after != nil {
			after(ctx, info)
		}
	}
	c.cfg.hooks.OnRetry = func(ev RetryEvent) {
		a.record("retry hook", fmt.Sprintf("%+v %v", ev, ev.Err))
		if onRetry != nil {
			onRetry(ev)
		}
	}
}

func loggerHandler(l *slog.Logger) slog.Handler {
	if l == nil {
		return nil
	}
	return l.Handler()
}

// auditHandler writes every record as text to the sink, then to next.
type auditHandler struct {
	a     auditSink
	next  slog.Handler
	attrs []slog.Attr
}

func (h auditHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h auditHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	t := slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}).WithAttrs(h.attrs)
	_ = t.Handle(ctx, r)
	h.a.record("log", b.String())
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h auditHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	if h.next != nil {
		h.next = h.next.WithAttrs(as)
	}
	return h
}

func (h auditHandler) WithGroup(name string) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithGroup(name)
	}
	return h
}

// auditOut records what a public function returns.
func auditOut[T any](out *T, err *error) {
	a := testAudit
	if a == nil {
		return
	}
	if *err != nil {
		e := *err
		a.record("error", fmt.Sprintf("%v | %+v | %#v", e, e, e))
		var api *APIError
		if errors.As(e, &api) {
			a.record("error body", string(api.RawBody))
		}
	}
	var v any = *out
	if p, ok := v.(*PatchCVMResponse); ok && p != nil {
		// The token and the commit URLs (which may embed it) are where the
		// token is meant to be: the rest of the result is scanned.
		cp := *p
		cp.CommitToken, cp.CommitURL, cp.APICommitURL = "", "", ""
		v = &cp
	}
	j, _ := json.Marshal(v)
	a.record("result", fmt.Sprintf("%+v %s", v, j))
}

// auditEnvs registers env values as secrets; a value that is also a key
// of the set is public (keys are not secret) and is skipped.
func auditEnvs(envs []EnvVar) {
	if a := testAudit; a != nil {
		keys := make(map[string]bool, len(envs))
		for _, e := range envs {
			keys[e.Key] = true
		}
		for _, e := range envs {
			if !keys[e.Value] {
				a.secret(e.Value)
			}
		}
	}
}

// auditErr records what a public function that returns only an error returns.
func auditErr(err *error) {
	var none *struct{}
	auditOut(&none, err)
}

// auditSecrets registers secrets a call was handed or the client received
// (commit tokens, env values).
func auditSecrets(vs ...string) {
	if a := testAudit; a != nil {
		for _, v := range vs {
			a.secret(v)
		}
	}
}
