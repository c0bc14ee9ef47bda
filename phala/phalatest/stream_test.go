package phalatest_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// quickWait makes the client's reconnect pauses and polls short.

// heldServer is a test server whose updates end only when the test says
// so (HoldUpdates): no assertion depends on how fast the machine runs.
// The update delay is long, so a hold that failed would show as a test
// that hangs until its deadline, never as a pass.
func heldServer(t *testing.T, opts ...phalatest.Option) *phalatest.Server {
	t.Helper()
	s := phalatest.NewTestServer(t, append([]phalatest.Option{phalatest.WithUpdateDelay(time.Hour)}, opts...)...)
	s.HoldUpdates()
	return s
}

// releaseOn returns an OnEvent callback that logs every state and ends
// the held update when the client has seen "updating" n times (n >= 1).
func releaseOn(t *testing.T, s *phalatest.Server, log *eventLog, n int) func(phala.CVMState) {
	var mu sync.Mutex
	seen := 0
	return func(st phala.CVMState) {
		log.on(st)
		if st.Status != "updating" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen == n {
			assert.Equal(t, 1, s.ReleaseUpdates(), "one held update ended")
		}
	}
}

// updateCentral starts an update of the central CVM and returns its result.
func updateCentral(t *testing.T, s *phalatest.Server, image string) *phala.UpdateResult {
	t.Helper()
	res, err := noRetry(s).UpdateDockerCompose(ctxT(t), phalatest.CentralCVMName, "services:\n  web:\n    image: "+image+"\n", nil)
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	require.NotEmpty(t, res.CorrelationID)
	return res
}

// stateRequests splits the server's GET /cvms/{id}/state requests into
// stream requests (with target) and plain reads.
func stateRequests(s *phalatest.Server) (streams, plain int) {
	for _, q := range s.Requests() {
		if q.Operation != "getCVMState" {
			continue
		}
		if strings.Contains(q.Query, "target=") {
			streams++
		} else {
			plain++
		}
	}
	return streams, plain
}

// eventLog records what OnEvent saw.
type eventLog struct {
	mu     sync.Mutex
	states []phala.CVMState
}

func (l *eventLog) on(st phala.CVMState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, st)
}

func (l *eventLog) statuses() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, st := range l.states {
		out = append(out, st.Status)
	}
	return out
}

func (l *eventLog) correlationIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, st := range l.states {
		if st.Progress != nil {
			out = append(out, st.Progress.CorrelationID)
		}
	}
	return out
}

type sseEvent struct {
	name string
	data map[string]any
}

// readEvents reads server-sent events until the body ends, calling each
// (when not nil) after every event.
func readEvents(t *testing.T, resp *http.Response, each func(sseEvent)) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			out = append(out, cur)
			if each != nil {
				each(cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data), "data %q", line)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestStateStreamWireFormat reads the stream with plain net/http: the
// headers, a first event at once, the update's progress, and the final
// complete event (each event's data is checked against the CVMState
// schema by NewTestServer).
func TestStateStreamWireFormat(t *testing.T) {
	s := heldServer(t)
	res := updateCentral(t, s, "nginx:wire")
	req, err := http.NewRequestWithContext(ctxT(t), "GET", s.URL()+"/cvms/central-app/state?target=running&interval=5&timeout=10", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", s.APIKey())
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, resp.Header.Get("X-Request-ID"))

	evs := readEvents(t, resp, func(ev sseEvent) {
		if ev.name == "state" {
			assert.Equal(t, 1, s.ReleaseUpdates(), "the update was still running")
		}
	})
	require.Len(t, evs, 2, "events: %v", evs)
	require.Equal(t, "state", evs[0].name)
	require.Equal(t, "updating", evs[0].data["status"])
	require.Equal(t, "central-app", evs[0].data["name"])
	progress, _ := evs[0].data["progress"].(map[string]any)
	require.Equal(t, res.CorrelationID, progress["correlation_id"])
	require.Equal(t, "complete", evs[1].name)
	require.Equal(t, "running", evs[1].data["status"])
	require.NotContains(t, evs[1].data, "progress")

	streams := s.Streams()
	require.Len(t, streams, 1)
	require.Equal(t, []string{"state", "complete"}, streams[0].Events)
	require.Equal(t, phalatest.StreamComplete, streams[0].End)
	require.Equal(t, 5*time.Second, streams[0].Interval)
	require.Equal(t, 10*time.Second, streams[0].Timeout)

	// Without the Accept header the same URL answers JSON.
	r := do(t, s, "GET", "/cvms/central-app/state?target=running", "", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "running", r.body["status"])
	require.Len(t, s.Streams(), 1)
}

// TestWaitForUpdateStreamsToCompletion drives phala.Client.WaitForUpdate
// over one stream: the client sees the update (with its correlation id)
// and then running, on one connection, without polling.
func TestWaitForUpdateStreamsToCompletion(t *testing.T) {
	s := heldServer(t)
	res := updateCentral(t, s, "nginx:stream")
	var log eventLog
	o := quickWait()
	o.OnEvent = releaseOn(t, s, &log, 1)
	st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	require.Nil(t, st.Progress)
	require.Equal(t, []string{"updating", "running"}, log.statuses())
	require.Equal(t, []string{res.CorrelationID}, log.correlationIDs())
	require.Equal(t, "running", s.Status(phalatest.CentralCVMName))

	streams, plain := stateRequests(s)
	require.Equal(t, 1, streams, "one stream connection")
	require.Equal(t, 0, plain, "no polling while the stream works")
	got := s.Streams()
	require.Len(t, got, 1)
	require.Equal(t, phalatest.StreamComplete, got[0].End)
	require.Equal(t, []string{"state", "complete"}, got[0].Events)
	require.Equal(t, "running", got[0].Target)
}

// TestWaitReconnectsAfterStreamTimeout makes the server's streams time out
// while the update is held (by both options): the client reconnects, and
// once the update ends (released when the second stream has started, so
// at least one stream timed out) a stream completes.
func TestWaitReconnectsAfterStreamTimeout(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opt         phalatest.Option
		wantTimeout time.Duration
	}{
		{"max duration", phalatest.WithMaxStreamDuration(25 * time.Millisecond), 25 * time.Millisecond},
		{"time scale", phalatest.WithStreamTimeScale(0.0025), 25 * time.Millisecond}, // timeout=10 s -> 25 ms
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := heldServer(t, tc.opt)
			res := updateCentral(t, s, "nginx:timeout")
			var log eventLog
			o := quickWait()
			o.OnEvent = releaseOn(t, s, &log, 2)
			o.StreamTimeout = 10 * time.Second
			st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
			require.NoError(t, err)
			require.Equal(t, "running", st.Status)

			got := s.Streams()
			require.GreaterOrEqual(t, len(got), 2, "streams: %+v", got)
			for _, r := range got[:len(got)-1] {
				require.Equal(t, phalatest.StreamTimeout, r.End, "streams: %+v", got)
				require.Equal(t, []string{"state", "timeout"}, r.Events)
				require.Equal(t, tc.wantTimeout, r.Timeout)
			}
			require.Equal(t, phalatest.StreamComplete, got[len(got)-1].End)
			streams, plain := stateRequests(s)
			require.Equal(t, len(got), streams)
			require.Equal(t, 0, plain, "a timeout is not a reason to poll")
		})
	}
}

// TestWaitReconnectsAfterDroppedStream ends two streams right after their
// first event (no final event): the client reconnects and finishes on the
// third.
func TestWaitReconnectsAfterDroppedStream(t *testing.T) {
	s := heldServer(t)
	res := updateCentral(t, s, "nginx:drop")
	s.DropStreams(2)
	var log eventLog
	o := quickWait()
	o.OnEvent = releaseOn(t, s, &log, 3) // the third stream's first event
	st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)

	got := s.Streams()
	require.Len(t, got, 3, "streams: %+v", got)
	for _, r := range got[:2] {
		require.Equal(t, phalatest.StreamDropped, r.End)
		require.Equal(t, []string{"state"}, r.Events)
	}
	require.Equal(t, phalatest.StreamComplete, got[2].End)
	require.Equal(t, []string{"state", "complete"}, got[2].Events)
	require.Equal(t, []string{"updating", "updating", "updating", "running"}, log.statuses())
	streams, plain := stateRequests(s)
	require.Equal(t, 3, streams)
	require.Equal(t, 0, plain)
}

// TestWaitFallsBackToPolling covers the two ways a client ends up
// polling: a server that answers JSON to a stream request, and
// DisableStreaming.
func TestWaitFallsBackToPolling(t *testing.T) {
	t.Run("server without streaming", func(t *testing.T) {
		s := heldServer(t, phalatest.WithoutStreaming())
		res := updateCentral(t, s, "nginx:poll")
		var log eventLog
		o := quickWait()
		o.OnEvent = releaseOn(t, s, &log, 1)
		st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
		require.NoError(t, err)
		require.Equal(t, "running", st.Status)
		require.Empty(t, s.Streams(), "no stream was served")
		streams, plain := stateRequests(s)
		require.Equal(t, 1, streams, "one stream attempt, answered with JSON")
		require.GreaterOrEqual(t, plain, 1, "then plain polls")
		require.Equal(t, []string{"updating", "running"}, log.statuses(), "one poll while updating, one when running")
	})
	t.Run("DisableStreaming", func(t *testing.T) {
		s := heldServer(t)
		res := updateCentral(t, s, "nginx:poll")
		var log eventLog
		o := quickWait()
		o.OnEvent = releaseOn(t, s, &log, 1)
		o.DisableStreaming = true
		st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
		require.NoError(t, err)
		require.Equal(t, "running", st.Status)
		streams, plain := stateRequests(s)
		require.Equal(t, 0, streams)
		require.Equal(t, 2, plain, "one poll while updating and one when running")
		require.Equal(t, []string{"updating", "running"}, log.statuses())
	})
}

// TestWaitSurvivesDroppedStreamConnections drops the connections of two
// stream requests before any answer (an injected fault); with the
// client's default retries the wait still ends with the update done (held
// until the client has seen it under way).
func TestWaitSurvivesDroppedStreamConnections(t *testing.T) {
	s := heldServer(t)
	res := updateCentral(t, s, "nginx:poll")
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultDrop, PathSuffix: "/state", Count: 2})
	var log eventLog
	o := quickWait()
	o.OnEvent = releaseOn(t, s, &log, 1)
	st, err := s.Client().WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	var dropped int
	for _, q := range s.Requests() {
		if q.Fault == "drop" {
			require.Equal(t, "/api/v1/cvms/central-app/state", q.Path)
			dropped++
		}
	}
	require.Equal(t, 2, dropped)
	require.Equal(t, []string{"updating", "running"}, log.statuses())
	require.Equal(t, "running", s.Status(phalatest.CentralCVMName))
}
