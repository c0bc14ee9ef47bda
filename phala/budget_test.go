package phala

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A PATCH carrying Idempotency-Key (or X-Idempotency-Key) on a reused
// keep-alive connection that dies after the server read it used to be
// resent by net/http itself, on a fresh connection: the change was applied
// twice. The SDK strips both headers from changes, whoever set them.
func TestChangeIsNotReplayedOnAReusedConnection(t *testing.T) {
	var patches atomic.Int32
	var sawReplayHeader atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cvms/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"cvm_1","name":"my-app","status":"running"}`)
	})
	mux.HandleFunc("PATCH /api/v1/cvms/{id}/docker-compose", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		patches.Add(1) // the change is applied ...
		if r.Header.Get("Idempotency-Key") != "" || r.Header.Get("X-Idempotency-Key") != "" {
			sawReplayHeader.Store(true)
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // ... and the connection dies before the answer
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithoutRetries(),
		WithHooks(Hooks{BeforeSend: func(_ context.Context, req *http.Request) {
			req.Header.Set("Idempotency-Key", "op-1")
			req.Header.Set("X-Idempotency-Key", "op-1")
		}})))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = audited(c.GetCVMInfo(ctx, "my-app")) // leaves an idle keep-alive connection
	require.NoError(t, err)
	_, err = audited(c.UpdateDockerCompose(ctx, "my-app", "services: {}\n", nil))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, int32(1), patches.Load(), "the PATCH reached the server once")
	assert.False(t, sawReplayHeader.Load(), "the replay headers were stripped")
	assert.Equal(t, int32(1), conns.Load(), "the PATCH went over the reused connection and was not resent on another")

	// WithHeader refuses them outright.
	for _, h := range []string{"Idempotency-Key", "x-idempotency-key"} {
		_, err := auditedClient(NewClient(WithHeader(h, "op-1")))
		var ia *InvalidArgumentError
		require.ErrorAs(t, err, &ia, h)
		assert.Equal(t, "WithHeader", ia.Field)
	}
}

// perPath answers each method and path with 429 (Retry-After: 1) the
// first time, then with its success.
type perPath struct {
	mu    sync.Mutex
	seen  map[string]int
	ok    map[string]string
	calls atomic.Int32
}

func (p *perPath) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	p.calls.Add(1)
	k := r.Method + " " + r.URL.Path
	p.mu.Lock()
	p.seen[k]++
	n := p.seen[k]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	body, ok := p.ok[k]
	switch {
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"no such path"}`)
	case n == 1:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error_code":"ERR-05-002","message":"slow down"}`)
	default:
		fmt.Fprint(w, body)
	}
}

// The retry budget (MaxTotalWait) holds per method call: EncryptAndUpdateEnvs,
// provision and visibility make two requests each here, and used to get
// the whole budget for each of them.
func TestRetryBudgetHoldsPerMethodCall(t *testing.T) {
	const pub = "7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b"
	detail := `{"id":"cvm_1","name":"my-app","status":"running","app_id":"app_9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796",` +
		`"public_logs":true,"public_sysinfo":true,"kms_info":{"encrypted_env_pubkey":"` + pub + `"}}`
	ok := map[string]string{
		"GET /api/v1/cvms/my-app":                         detail,
		"PATCH /api/v1/cvms/my-app/visibility":            `{"public_sysinfo":true,"public_logs":false}`,
		"PATCH /api/v1/cvms/my-app/envs":                  accepted,
		"GET /api/v1/cvms/my-app/compose_file":            `{"name":"my-app","docker_compose_file":"services: {}\n"}`,
		"POST /api/v1/cvms/my-app/compose_file/provision": `{"compose_hash":"` + strings.Repeat("a", 64) + `"}`,
	}
	// Each wait is capped at 20 ms; 30 ms in all allows one retry per call.
	p := RetryPolicy{MaxAttempts: 3, MaxRetryAfter: 20 * time.Millisecond, MaxTotalWait: 30 * time.Millisecond}
	calls := map[string]func(c *Client) error{
		"UpdateCVMVisibility": func(c *Client) error {
			_, err := audited(c.UpdateCVMVisibility(context.Background(), "my-app", &UpdateVisibilityRequest{PublicLogs: Bool(false)}))
			return err
		},
		"EncryptAndUpdateEnvs": func(c *Client) error {
			_, err := audited(c.EncryptAndUpdateEnvs(context.Background(), "my-app", secretEnvs([]EnvVar{{Key: "A", Value: "b"}}), nil))
			return err
		},
		"ProvisionCVMComposeFileUpdate": func(c *Client) error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(context.Background(), "my-app", &ProvisionComposeUpdateRequest{DockerComposeFile: "x: y\n"}))
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			s := &perPath{seen: map[string]int{}, ok: ok}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			var events []RetryEvent
			c := retryClient(t, srv.URL, p, &events)
			err := call(c)
			require.ErrorIs(t, err, ErrRateLimited, "the second request's retry would exceed the call's budget")
			var total time.Duration
			for _, ev := range events {
				total += ev.Wait
			}
			assert.LessOrEqual(t, total, p.MaxTotalWait)
			assert.Len(t, events, 1, "one retry in the whole call")
			assert.Equal(t, int32(3), s.calls.Load(), "429, its retry, then the second request's 429")
		})
	}

	// Calls do not share a budget: the next call has all of it again.
	s := &perPath{seen: map[string]int{}, ok: ok}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	var events []RetryEvent
	c := retryClient(t, srv.URL, p, &events)
	_, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	_, err = audited(c.GetCVMComposeFile(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Len(t, events, 2)
}

// A context deadline that ends before the Retry-After wait returns the 429
// at once, with its code and Retry-After, instead of sleeping until the
// deadline and returning context.DeadlineExceeded.
func TestDeadlineSoonerThanRetryAfterReturnsTheAnswer(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){
		status(429, `{"error_code":"ERR-05-002","message":"slow down"}`, "Retry-After", "8"),
	}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	var events []RetryEvent
	c := retryClient(t, srv.URL, DefaultRetryPolicy(), &events)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	_, err := audited(c.GetCVMInfo(ctx, "my-app"))
	var api *APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, http.StatusTooManyRequests, api.StatusCode)
	assert.Equal(t, CodeRateLimitExceeded, api.Code)
	assert.Equal(t, "8", api.RetryAfter)
	assert.NoError(t, ctx.Err(), "returned before the deadline")
	assert.Empty(t, events, "no wait was started")
	assert.Equal(t, int32(1), s.hits.Load())
}

// A GET whose body is cut mid-read is retried (reads are, on read errors,
// as the README says); a PATCH whose answer is cut is not.
func TestReadRetriedWhenTheBodyIsCut(t *testing.T) {
	cut := func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{\"id\":\"cvm_1\",")
		_ = buf.Flush()
		conn.Close()
	}
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){cut,
		status(200, `{"id":"cvm_1","name":"my-app","status":"running"}`)}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	var events []RetryEvent
	c := retryClient(t, srv.URL, fastPolicy, &events)
	info, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, "my-app", info.Name)
	require.Len(t, events, 1)
	assert.Error(t, events[0].Err, "the retry names the read error")
	assert.Equal(t, int32(2), s.hits.Load())

	p := &scripted{steps: []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{\"status\":")
		_ = buf.Flush()
		conn.Close()
	}, status(202, accepted)}}
	srv2 := httptest.NewServer(p)
	t.Cleanup(srv2.Close)
	c2 := retryClient(t, srv2.URL, fastPolicy, &events)
	_, err = audited(c2.UpdateDockerCompose(context.Background(), "my-app", "a: b\n", nil))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, int32(1), p.hits.Load(), "a change whose answer was cut may have been applied: not retried")
}

// The worst case of a call is bounded by its parts, which this test pins:
// WithTimeout ends each attempt (a server that never answers costs one
// timeout per attempt), a read makes at most MaxAttempts attempts, a change
// that may have been received makes one, and the waits between them come
// out of the call's MaxTotalWait. So a call of R requests takes at most
// R x MaxAttempts x timeout + MaxTotalWait (README, "Reliability and
// security defaults").
func TestEveryAttemptIsBoundedByTheTimeout(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(srv.Close)
	var attempts []RequestInfo
	var events []RetryEvent
	p := RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxTotalWait: 10 * time.Millisecond}
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithTimeout(30*time.Millisecond),
		WithRetryPolicy(p), WithHooks(Hooks{
			AfterAttempt: func(_ context.Context, info RequestInfo) { attempts = append(attempts, info) },
			OnRetry:      func(ev RetryEvent) { events = append(events, ev) }})))
	require.NoError(t, err)

	_, err = audited(c.GetCVMInfo(context.Background(), "my-app")) // no deadline of its own
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(3), hits.Load(), "a read: MaxAttempts attempts")
	require.Len(t, attempts, 3)
	for _, a := range attempts {
		assert.ErrorIs(t, a.Err, context.DeadlineExceeded, "each attempt ended by the timeout")
	}
	var waited time.Duration
	for _, ev := range events {
		waited += ev.Wait
	}
	assert.LessOrEqual(t, waited, p.MaxTotalWait)

	hits.Store(0)
	_, err = audited(c.UpdateDockerCompose(context.Background(), "my-app", "a: b\n", nil))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(1), hits.Load(), "a change the server received: one attempt")
}
