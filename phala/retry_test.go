package phala

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted answers each request with the next step; it records bodies.
type scripted struct {
	mu     sync.Mutex
	steps  []func(w http.ResponseWriter, r *http.Request)
	bodies []string
	hits   atomic.Int32
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	s.hits.Add(1)
	if i >= len(s.steps) {
		i = len(s.steps) - 1
	}
	s.steps[i](w, r)
}

func status(code int, body string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// drop closes the connection without answering, after reading the request.
func drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

const accepted = `{"status":"in_progress","message":"ok","correlation_id":"c-1"}`

func retryClient(t *testing.T, url string, p RetryPolicy, events *[]RetryEvent) *Client {
	t.Helper()
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(url+"/api/v1"), WithRetryPolicy(p),
		WithHooks(Hooks{OnRetry: func(ev RetryEvent) { *events = append(*events, ev) }})))
	require.NoError(t, err)
	return c
}

var fastPolicy = RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	MaxRetryAfter: 20 * time.Millisecond, MaxTotalWait: time.Second}

func TestRetryDecisions(t *testing.T) {
	patch := func(c *Client) error {
		_, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
		return err
	}
	get := func(c *Client) error {
		_, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
		return err
	}
	info := `{"id":"cvm_1","name":"my-app","status":"running"}`
	cases := []struct {
		name    string
		call    func(*Client) error
		steps   []func(http.ResponseWriter, *http.Request)
		hits    int32
		wantErr error
	}{
		{"503 then accepted", patch, []func(http.ResponseWriter, *http.Request){status(503, `{}`), status(202, accepted)}, 2, nil},
		{"429 then accepted", patch, []func(http.ResponseWriter, *http.Request){status(429, `{}`, "Retry-After", "1"), status(202, accepted)}, 2, nil},
		{"409 in progress then accepted", patch, []func(http.ResponseWriter, *http.Request){status(409, `{"detail":"Another operation is in progress"}`), status(202, accepted)}, 2, nil},
		{"409 with a code is final", patch, []func(http.ResponseWriter, *http.Request){status(409, `{"error_code":"ERR-03-007","message":"conflict"}`)}, 1, ErrConflict},
		{"500 on a change is final", patch, []func(http.ResponseWriter, *http.Request){status(500, `{"detail":"boom"}`)}, 1, ErrServer},
		{"502 on a change is final", patch, []func(http.ResponseWriter, *http.Request){status(502, `bad gateway`)}, 1, &APIError{StatusCode: 502}},
		{"502 on a read is retried", get, []func(http.ResponseWriter, *http.Request){status(502, `bad gateway`), status(200, info)}, 2, nil},
		{"dropped change is final", patch, []func(http.ResponseWriter, *http.Request){drop, status(202, accepted)}, 1, nil},
		{"dropped read is retried", get, []func(http.ResponseWriter, *http.Request){drop, status(200, info)}, 2, nil},
		{"465 is final", patch, []func(http.ResponseWriter, *http.Request){status(465, `{"detail":"x"}`)}, 1, ErrComposeHashRequired},
		{"503 three times gives up", patch, []func(http.ResponseWriter, *http.Request){status(503, `{}`)}, 3, ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{steps: tc.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			var events []RetryEvent
			err := tc.call(retryClient(t, srv.URL, fastPolicy, &events))
			assert.Equal(t, tc.hits, s.hits.Load(), "requests that reached the server")
			assert.Len(t, events, int(tc.hits)-1, "retry events")
			switch {
			case tc.name == "dropped change is final":
				var te *TransportError
				assert.ErrorAs(t, err, &te)
			case tc.wantErr != nil:
				assert.ErrorIs(t, err, tc.wantErr)
			default:
				assert.NoError(t, err)
			}
			for _, b := range s.bodies[1:] {
				assert.Equal(t, s.bodies[0], b, "a retry replays the same body")
			}
		})
	}
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(429, `{}`, "Retry-After", "7"), status(202, accepted)}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var events []RetryEvent
	_, err := audited(retryClient(t, srv.URL, fastPolicy, &events).UpdateDockerCompose(context.Background(), "x1234", "a: b\n", nil))
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, fastPolicy.MaxRetryAfter, events[0].Wait, "7 s capped by MaxRetryAfter")
	assert.Equal(t, 429, events[0].StatusCode)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	d, ok := parseRetryAfter("3", now)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)
	d, ok = parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now)
	assert.True(t, ok)
	assert.Equal(t, 90*time.Second, d)
	_, ok = parseRetryAfter("soon", now)
	assert.False(t, ok)
	_, ok = parseRetryAfter("-1", now)
	assert.False(t, ok)
}

func TestRetryTotalWaitIsBounded(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(503, `{}`, "Retry-After", "1")}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := RetryPolicy{MaxAttempts: 10, MaxRetryAfter: 40 * time.Millisecond, MaxTotalWait: 100 * time.Millisecond}
	var events []RetryEvent
	_, err := audited(retryClient(t, srv.URL, p, &events).UpdateDockerCompose(context.Background(), "x1234", "a: b\n", nil))
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.Len(t, events, 2, "two waits of 40 ms fit in 100 ms, a third does not")
	assert.Equal(t, int32(3), s.hits.Load())
}

func TestDialFailureIsRetriedEvenForChanges(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial is refused
	var events []RetryEvent
	c := retryClient(t, "http://"+addr, fastPolicy, &events)
	_, err = audited(c.UpdateDockerCompose(context.Background(), "x1234", "a: b\n", nil))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Len(t, events, 2)
	assert.NotContains(t, err.Error(), "k-secret")
}

func TestCancelStopsTheWait(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(503, `{}`, "Retry-After", "5")}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	p := RetryPolicy{MaxAttempts: 3, MaxRetryAfter: 10 * time.Second, MaxTotalWait: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	var events []RetryEvent
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithRetryPolicy(p),
		WithHooks(Hooks{OnRetry: func(ev RetryEvent) { events = append(events, ev); go cancel() }})))
	require.NoError(t, err)
	start := time.Now()
	_, err = audited(c.UpdateDockerCompose(ctx, "x1234", "a: b\n", nil))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 4*time.Second, "the 5 s wait was cut short")
	assert.Equal(t, int32(1), s.hits.Load())
}

func TestWithoutRetries(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(503, `{}`)}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithoutRetries()))
	require.NoError(t, err)
	_, err = audited(c.UpdateDockerCompose(context.Background(), "x1234", "a: b\n", nil))
	assert.True(t, errors.Is(err, ErrUnavailable))
	assert.Equal(t, int32(1), s.hits.Load())
}

// The retry policy and APIError.Retryable classify every answer alike:
// the policy retries exactly the answers whose *APIError says Retryable,
// the method included (a 502 is retryable on a read only), and a 409's
// code is found wherever the body puts it.
func TestOneRetryClassification(t *testing.T) {
	get := func(c *Client) error {
		_, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
		return err
	}
	patch := func(c *Client) error {
		_, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
		return err
	}
	cases := []struct {
		name      string
		call      func(*Client) error
		status    int
		body      string
		retryable bool
	}{
		{"GET 502", get, 502, `bad gateway`, true},
		{"PATCH 502", patch, 502, `bad gateway`, false},
		{"GET 504", get, 504, `{}`, true},
		{"PATCH 504", patch, 504, `{}`, false},
		{"PATCH 429", patch, 429, `{}`, true},
		{"GET 503", get, 503, `{}`, true},
		{"PATCH 409 in progress", patch, 409, `{"detail":"Another operation is in progress"}`, true},
		{"PATCH 409 with a code", patch, 409, `{"error_code":"ERR-03-007","message":"conflict"}`, false},
		{"PATCH 409 with a code beside a detail object", patch, 409, `{"error_code":"ERR-03-007","detail":{"message":"conflict"}}`, false},
		{"PATCH 409 with a code inside detail", patch, 409, `{"detail":{"error_code":"ERR-03-007","message":"conflict"}}`, false},
		{"GET 500", get, 500, `{}`, false},
		{"GET 404", get, 404, `{"error_code":"ERR-03-001"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(tc.status, tc.body)}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			var events []RetryEvent
			p := fastPolicy
			p.MaxAttempts = 2
			err := tc.call(retryClient(t, srv.URL, p, &events))
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.retryable, apiErr.Retryable(), "APIError.Retryable")
			retried := s.hits.Load() == 2
			assert.Equal(t, tc.retryable, retried, "the policy retried")
		})
	}
}

// A 409 without a code ("another operation is in progress") that outlasts
// the retries says what to do, and how many attempts were made over how
// long; so does a transport error after retries (issue 24, point 6).
func TestErrorAfterRetriesSaysAttemptsAndWhatToDo(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(409, `{"detail":"Another operation is in progress"}`)}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-409-conflict"), WithBaseURL(srv.URL+"/api/v1"), WithRetryPolicy(fastPolicy)))
	require.NoError(t, err)
	_, err = audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
	require.ErrorIs(t, err, ErrConflict)
	assert.Regexp(t, `^phala: HTTP 409: Another operation is in progress after 3 attempts over [0-9.]+m?s; another operation is running on this CVM: wait until it ends \(WaitForCVM`, err.Error())
	assert.EqualValues(t, 3, s.hits.Load())

	// One attempt: no count.
	c1, err := auditedClient(NewClient(WithAPIKey("k-409-conflict"), WithBaseURL(srv.URL+"/api/v1"), WithoutRetries()))
	require.NoError(t, err)
	_, err = audited(c1.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
	require.ErrorIs(t, err, ErrConflict)
	assert.NotContains(t, err.Error(), "attempts")
	assert.Contains(t, err.Error(), "WaitForCVM")

	// A read that never gets an answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	c2, err := auditedClient(NewClient(WithAPIKey("k-409-conflict"), WithBaseURL("http://"+addr+"/api/v1"), WithRetryPolicy(fastPolicy)))
	require.NoError(t, err)
	_, err = audited(c2.GetCVMInfo(context.Background(), "my-app"))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Regexp(t, `^phala: GET /api/v1/cvms/my-app after 3 attempts over [0-9.]+m?s: `, err.Error())
}
