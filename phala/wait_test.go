package phala

import (
	"context"
	"errors"
	"fmt"
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

// stateServer serves /api/v1/cvms/{id}/state as scripted streams (one per
// connection) and /api/v1/cvms/{id} with a progress that clears after
// detailCalls reads.
type stateServer struct {
	streams     []string // each a full SSE body; "" answers JSON (no streaming)
	jsonState   string
	streamsUsed atomic.Int32
	polls       atomic.Int32
	detailCalls atomic.Int32
	clearAfter  int32
	mu          sync.Mutex
	paths       []string
}

func (s *stateServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cvms/{id}/state", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.EscapedPath())
		s.mu.Unlock()
		if r.URL.Query().Get("target") != "" {
			i := int(s.streamsUsed.Add(1)) - 1
			if i < len(s.streams) && s.streams[i] != "" {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, s.streams[i])
				return
			}
		}
		s.polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, s.jsonState)
	})
	mux.HandleFunc("GET /api/v1/cvms/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := s.detailCalls.Add(1)
		progress := `{"target":"update","correlation_id":"corr-1"}`
		if n > s.clearAfter {
			progress = "null"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"cvm_1","name":"my-app","status":"running","progress":%s}`, progress)
	})
	return mux
}

func waitClient(t *testing.T, s *stateServer) *Client {
	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1")))
	require.NoError(t, err)
	return c
}

var quick = &WaitOptions{PollInterval: 5 * time.Millisecond}

func sse(events ...string) string { return strings.Join(events, "\n\n") + "\n\n" }

func TestWaitStreamsToCompletion(t *testing.T) {
	s := &stateServer{streams: []string{sse(
		`event: state`+"\n"+`data: {"name":"my-app","status":"stopping"}`,
		`event: state`+"\n"+`data: {"name":"my-app","status":"starting","boot_progress":"50%"}`,
		`event: complete`+"\n"+`data: {"name":"my-app","status":"running"}`,
	)}}
	var seen []string
	o := *quick
	o.OnEvent = func(st CVMState) { seen = append(seen, st.Status) }
	st, err := audited(waitClient(t, s).WaitForCVM(context.Background(), "my-app", &o))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, []string{"stopping", "starting", "running"}, seen)
	assert.Equal(t, int32(0), s.polls.Load(), "no polling when streaming works")
}

func TestWaitReconnectsAfterServerTimeout(t *testing.T) {
	s := &stateServer{streams: []string{
		sse(`event: state`+"\n"+`data: {"status":"starting"}`, `event: timeout`+"\n"+`data: {}`),
		sse(`: keep-alive`, `event: state`+"\n"+`data: {"status":"starting"}`), // ends early
		sse(`event: complete` + "\n" + `data: {"status":"running"}`),
	}}
	st, err := audited(waitClient(t, s).WaitForCVM(context.Background(), "my-app", quick))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, int32(3), s.streamsUsed.Load())
}

func TestWaitFallsBackToPolling(t *testing.T) {
	s := &stateServer{jsonState: `{"name":"my-app","status":"running"}`} // never streams
	st, err := audited(waitClient(t, s).WaitForCVM(context.Background(), "my-app", quick))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.GreaterOrEqual(t, s.polls.Load(), int32(1))
}

func TestWaitBootError(t *testing.T) {
	s := &stateServer{streams: []string{sse(`event: state` + "\n" + `data: {"status":"exited","boot_error":"pre-launch script failed: exit 1"}`)}}
	_, err := audited(waitClient(t, s).WaitForCVM(context.Background(), "my-app", quick))
	var be *BootError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "pre-launch script failed: exit 1", be.Message)

	s = &stateServer{streams: []string{sse(`event: error` + "\n" + `data: {"message":"CVM failed to boot"}`)}}
	_, err = audited(waitClient(t, s).WaitForCVM(context.Background(), "my-app", quick))
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "CVM failed to boot", be.Message)
}

func TestWaitContextCancel(t *testing.T) {
	s := &stateServer{jsonState: `{"status":"starting"}`}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := audited(waitClient(t, s).WaitForCVM(ctx, "my-app", &WaitOptions{PollInterval: 5 * time.Millisecond, DisableStreaming: true}))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestWaitForUpdateMatchesCorrelationID(t *testing.T) {
	// The status says running at once, but the detail still carries the
	// update for two reads: the wait must not return before it clears.
	s := &stateServer{jsonState: `{"status":"running"}`, clearAfter: 2}
	st, err := audited(waitClient(t, s).WaitForUpdate(context.Background(), "my-app",
		&UpdateResult{Status: StatusInProgress, CorrelationID: "corr-1"}, &WaitOptions{PollInterval: 5 * time.Millisecond, DisableStreaming: true}))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, int32(3), s.detailCalls.Load())

	_, err = audited(waitClient(t, s).WaitForUpdate(context.Background(), "my-app", &UpdateResult{RequiresOnChainHash: true}, nil))
	assert.True(t, errors.Is(err, ErrInvalidArgument))
}

func TestWaitEscapesEveryIDForm(t *testing.T) {
	s := &stateServer{jsonState: `{"status":"running"}`}
	c := waitClient(t, s)
	for _, id := range []string{"my-app", "app_" + strings.Repeat("ab", 20), strings.Repeat("cd", 20), "0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a", "a%b"} {
		_, err := audited(c.WaitForCVM(context.Background(), id, &WaitOptions{DisableStreaming: true}))
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"/api/v1/cvms/my-app/state", "/api/v1/cvms/app_" + strings.Repeat("ab", 20) + "/state",
		"/api/v1/cvms/app_" + strings.Repeat("cd", 20) + "/state", "/api/v1/cvms/0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a/state",
		"/api/v1/cvms/a%25b/state"}, s.paths)
}

// A state stream whose headers never arrive used to block WaitForCVM for
// as long as the context allowed (forever without a deadline); the header
// wait is bounded by the attempt timeout, after which the waiter polls.
func TestWaitFallsBackWhenStreamHeadersNeverArrive(t *testing.T) {
	var streams, polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") == "text/event-stream" {
			streams.Add(1)
			<-r.Context().Done() // never answers; ends when the client gives up
			return
		}
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"my-app","status":"running"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithTimeout(100*time.Millisecond)))
	require.NoError(t, err)
	// The deadline only stops the old code from hanging the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := audited(c.WaitForCVM(ctx, "my-app", quick))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, int32(1), streams.Load())
	assert.Equal(t, int32(1), polls.Load())
}

// A stream that sent its headers and then went silent, missing its own
// "timeout" event, is ended by the SDK at StreamTimeout plus the attempt
// timeout, and the waiter reconnects.
func TestWaitEndsASilentStream(t *testing.T) {
	var streams atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if streams.Add(1) == 1 {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done() // silent from here on
			return
		}
		fmt.Fprint(w, sse(`event: complete`+"\n"+`data: {"name":"my-app","status":"running"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithTimeout(50*time.Millisecond)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// StreamTimeout below the 10 s WaitForCVM accepts, set on the waiter
	// itself so that the test does not wait 10 s.
	w := &waiter{c: c, id: "my-app", o: WaitOptions{Target: "running", PollInterval: 5 * time.Millisecond, StreamTimeout: 50 * time.Millisecond}}
	st, err := w.run(ctx)
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, int32(2), streams.Load(), "the silent stream was ended and the waiter reconnected")
}

// A typed nil result (what a failed update returns) names no update: an
// ErrInvalidArgument error, not a panic, and nothing is sent.
func TestWaitForUpdateTypedNil(t *testing.T) {
	s := &stateServer{jsonState: `{"status":"running"}`}
	c := waitClient(t, s)
	for _, r := range []Waitable{(*UpdateResult)(nil), (*PatchCVMResponse)(nil), (*CVMActionResponse)(nil), nil} {
		require.NotPanics(t, func() {
			_, err := audited(c.WaitForUpdate(context.Background(), "my-app", r, nil))
			var ia *InvalidArgumentError
			require.ErrorAs(t, err, &ia)
			assert.Equal(t, "result", ia.Field)
		})
	}
	assert.Zero(t, s.polls.Load()+s.streamsUsed.Load()+s.detailCalls.Load())
}

// One state event over MaxEventSize ends the wait with an error instead of
// being buffered.
func TestWaitEventTooLarge(t *testing.T) {
	big := `data: {"status":"starting","boot_progress":"` + strings.Repeat("x", MaxEventSize) + `"}`
	s := &stateServer{streams: []string{sse(big)}}
	c := waitClient(t, s)
	_, err := audited(c.WaitForCVM(context.Background(), "my-app", quick))
	require.ErrorContains(t, err, "state event over")
}
