package phala

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The suite audit lives in test files only: the library has no hook for
// it. Tests hand it what they get back (audited(c.GetCVMInfo(ctx, id)),
// auditedErr(...)) and the clients they build (auditedClient(NewClient(...)),
// auditedFake(srv.Client())); internal/auditcheck fails when a call to a
// phala function that returns an error, or a client, is not handed over.
//
// Through the clients it is given, the audit learns the API key, the
// commit tokens the client received and the secrets each request's call
// was handed (commit tokens, env values: read from the call's context in
// the AfterAttempt hook); it also records every log record (a client
// without a logger gets a debug one, so that every line the SDK can write
// is written) and every hook payload. The env values and commit tokens a
// test hands a call are registered by secretEnvs(envs) and
// secretToken(token) around the argument (internal/auditcheck requires
// them too), so that a validation error that never reaches the wire is
// checked as well. After the whole suite ran, every recorded text is
// scanned for every secret.
type suiteAudit struct {
	mu      sync.Mutex
	secrets map[string]bool
	texts   []auditText
	byKind  map[string]int
	clients []*Client
}

type auditText struct{ kind, text string }

func newSuiteAudit() *suiteAudit {
	return &suiteAudit{secrets: map[string]bool{}, byKind: map[string]int{}}
}

// suiteAuditor is the audit of this test binary (the internal and the
// phala_test tests alike).
var suiteAuditor = newSuiteAudit()

func audited[T any](out T, err error) (T, error) {
	suiteAuditor.result(out, err)
	return out, err
}

func auditedErr(err error) error {
	suiteAuditor.result(nil, err)
	return err
}

func auditedClient(c *Client, err error) (*Client, error) {
	suiteAuditor.result(nil, err)
	if c != nil {
		suiteAuditor.client(c)
	}
	return c, err
}

// secretEnvs registers the values of envs, handed to a call, as secrets.
func secretEnvs(envs []EnvVar) []EnvVar {
	suiteAuditor.envs(envs)
	return envs
}

// secretToken registers a commit token handed to a call as a secret.
func secretToken(token string) string {
	suiteAuditor.secret(token)
	return token
}

// minAuditedSecret is the shortest secret scanned for: shorter ones ("k",
// "1") occur in ordinary text by chance. API keys are at least 8 long.
const minAuditedSecret = 8

func (s *suiteAudit) secret(v string) {
	if len(v) < minAuditedSecret || distinctBytes(v) < 4 {
		return
	}
	s.mu.Lock()
	s.secrets[v] = true
	s.mu.Unlock()
}

func (s *suiteAudit) record(kind, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, auditText{kind, text})
	s.byKind[kind]++
}

// client registers c's key and routes its logger and hooks through the
// audit.
func (s *suiteAudit) client(c *Client) {
	s.secret(string(c.cfg.apiKey))
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	c.cfg.logger = slog.New(auditHandler{a: s, next: loggerHandler(c.cfg.logger)})
	after, onRetry := c.cfg.hooks.AfterAttempt, c.cfg.hooks.OnRetry
	c.cfg.hooks.AfterAttempt = func(ctx context.Context, info RequestInfo) {
		if cs, ok := ctx.Value(callKey{}).(*callState); ok {
			cs.mu.Lock()
			for _, k := range cs.secrets {
				s.secret(string(k.key))
			}
			cs.mu.Unlock()
		}
		s.record("hook", fmt.Sprintf("%+v %v", info, info.Err))
		if after != nil {
			after(ctx, info)
		}
	}
	c.cfg.hooks.OnRetry = func(ev RetryEvent) {
		s.record("retry hook", fmt.Sprintf("%+v %v", ev, ev.Err))
		if onRetry != nil {
			onRetry(ev)
		}
	}
}

// result records what a public function returned.
func (s *suiteAudit) result(out any, err error) {
	if err != nil {
		s.record("error", fmt.Sprintf("%v | %+v | %#v", err, err, err))
		var api *APIError
		if errors.As(err, &api) {
			s.record("error body", string(api.RawBody))
		}
	}
	switch v := out.(type) {
	case nil:
		return
	case *PatchCVMResponse:
		if v != nil {
			// The token, and the commit URLs that may embed it, are where
			// the token is meant to be: the rest of the result is scanned.
			s.secret(v.CommitToken)
			cp := *v
			cp.CommitToken, cp.CommitURL, cp.APICommitURL = "", "", ""
			out = &cp
		}
	case []EnvVar:
		// ParseEnvFile: the values are where they are meant to be, and
		// secrets from here on; the keys are public.
		s.envs(v)
		out = EnvKeys(v)
	}
	j, _ := json.Marshal(out)
	s.record("result", fmt.Sprintf("%+v %s", out, j))
}

// envs registers env values as secrets; a value that is also a key of the
// set is public and is skipped.
func (s *suiteAudit) envs(envs []EnvVar) {
	keys := make(map[string]bool, len(envs))
	for _, e := range envs {
		keys[e.Key] = true
	}
	for _, e := range envs {
		if !keys[e.Value] {
			s.secret(e.Value)
		}
	}
}

// leaks scans every recorded text for every secret, including the commit
// tokens the audited clients hold now.
func (s *suiteAudit) leaks() []string {
	s.mu.Lock()
	clients := s.clients
	s.mu.Unlock()
	for _, c := range clients {
		c.tokens.mu.Lock()
		for _, k := range c.tokens.s {
			s.secret(string(k.key))
		}
		c.tokens.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all strings.Builder
	starts := make([]int, len(s.texts))
	for i, t := range s.texts {
		starts[i] = all.Len()
		all.WriteString(t.text)
		all.WriteByte(0)
	}
	joined := all.String()
	var leaks []string
	for v := range s.secrets {
		for off := 0; ; {
			i := strings.Index(joined[off:], v)
			if i < 0 {
				break
			}
			at := off + i
			n := sort.SearchInts(starts, at+1) - 1
			from := max(starts[n], at-160)
			leaks = append(leaks, fmt.Sprintf("%s: ...%s[SECRET %d bytes]...", s.texts[n].kind, joined[from:at], len(v)))
			if n+1 < len(starts) {
				off = starts[n+1] // one report per text and secret
			} else {
				break
			}
		}
	}
	sort.Strings(leaks)
	return leaks
}

func loggerHandler(l *slog.Logger) slog.Handler {
	if l == nil {
		return nil
	}
	return l.Handler()
}

// auditHandler writes every record as text to the audit, then to next.
type auditHandler struct {
	a     *suiteAudit
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

func TestMain(m *testing.M) {
	a := suiteAuditor
	code := m.Run()
	leaks := a.leaks()
	if len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: suite audit: %d texts (errors, results, logs, hook payloads) held a test API key, commit token or env value:\n", len(leaks))
		for _, l := range leaks[:min(len(leaks), 40)] {
			fmt.Fprintln(os.Stderr, "  "+l)
		}
		code = 1
	} else if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "suite audit: %d texts %v scanned for %d secrets, none found\n", len(a.texts), a.byKind, len(a.secrets))
	}
	if code == 0 && (a.byKind["log"] == 0 || a.byKind["error"] == 0 || a.byKind["hook"] == 0) && !testing.Short() && len(a.texts) > 0 && !strings.Contains(strings.Join(os.Args, " "), "-test.run") {
		fmt.Fprintf(os.Stderr, "FAIL: suite audit saw no logs, errors or hooks (%v): it is not wired in\n", a.byKind)
		code = 1
	}
	os.Exit(code)
}

// distinctBytes counts the different bytes of v: the fuzz targets' values
// such as "00000000" are too uniform to tell a leak from a coincidence (an
// invalid key "000000000" quoted in its error, say).
func distinctBytes(v string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
		}
	}
	return n
}

// The audit itself can fail: each way it learns a secret, and each kind of
// text it records, is checked on an audit of its own.
func TestSuiteAuditCatchesALeak(t *testing.T) {
	const key, token, handed = "phak_audit_selftest_7f3a9c", "commit_token_selftest_91ab", "env-value-selftest-4c2d"
	a := newSuiteAudit()
	c, err := NewClient(WithAPIKey(key), WithBaseURL("http://127.0.0.1:1"), WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	a.client(c)
	c.tokens.add(token)
	a.envs([]EnvVar{{Key: "K", Value: handed}})
	a.result(nil, errors.New("clean"))
	if got := a.leaks(); len(got) != 0 {
		t.Fatalf("clean texts reported as leaks: %v", got)
	}
	a.result(&CVMInfo{Name: "echoes " + key}, nil)
	a.result(nil, fmt.Errorf("an error that echoes %s", token))
	c.cfg.logger.Info("a log line with " + handed)
	if got := a.leaks(); len(got) != 3 {
		t.Fatalf("the audit caught %d leaks, want 3 (key in a result, token in an error, env value in a log): %v", len(got), got)
	}
}
