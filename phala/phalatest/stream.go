package phalatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The state stream (GET /cvms/{cvmId}/state?target=X with Accept:
// text/event-stream) sends, flushing each at once:
//
//	event: state     data: the CVM state (as the plain JSON answer), first at
//	                 once and then on every change
//	event: complete  data: the state, when its status equals target; the end
//	event: error     data: the state plus "message" (the boot_error), when
//	                 the CVM failed to boot; the end
//	event: timeout   data: the state, when the stream's timeout passed; the end
//
// The stream wakes when a request changes the CVM, when a running
// update is due to end and when ReleaseUpdates ends a held one; besides,
// it re-reads the state every interval
// (the query's seconds, default 5, times WithStreamTimeScale), which is
// what notices a WithClock clock moving. Its timeout is the query's
// seconds (default 300) times WithStreamTimeScale, capped by
// WithMaxStreamDuration. Both are measured in real time.

// Stream ends, as StreamRecord.End reports them.
const (
	// StreamComplete: the status reached the target (event "complete").
	StreamComplete = "complete"
	// StreamError: the CVM failed to boot (event "error").
	StreamError = "error"
	// StreamTimeout: the stream's timeout passed (event "timeout").
	StreamTimeout = "timeout"
	// StreamDropped: DropStreams ended it after its first event, with no
	// final event.
	StreamDropped = "dropped"
	// StreamClientGone: the client closed the connection (or a write failed).
	StreamClientGone = "client_gone"
	// StreamServerClosed: Close ended it.
	StreamServerClosed = "server_closed"
)

// Defaults of the stream's query parameters, as the API has them.
const (
	defaultStreamInterval = 5   // seconds
	defaultStreamTimeout  = 300 // seconds
	minStreamPoll         = time.Millisecond
)

// WithoutStreaming makes GET /cvms/{cvmId}/state answer the plain JSON
// state even when an event stream is asked for, as a server without
// streaming would; clients must fall back to polling.
func WithoutStreaming() Option { return func(o *options) { o.noStreaming = true } }

// WithStreamTimeScale multiplies the state stream's interval and timeout
// (seconds in the query) by f, e.g. 0.001 turns "timeout=10" into 10 ms,
// so that tests see timeouts without waiting. f <= 0 means 1 (the default).
func WithStreamTimeScale(f float64) Option {
	return func(o *options) {
		if f <= 0 {
			f = 1
		}
		o.streamScale = f
	}
}

// WithMaxStreamDuration caps how long one state stream lasts before it
// ends with a "timeout" event, whatever the query's timeout; 0 (the
// default) caps nothing.
func WithMaxStreamDuration(d time.Duration) Option { return func(o *options) { o.maxStream = d } }

// StreamRecord is one state stream the server served.
type StreamRecord struct {
	// RequestID is the X-Request-ID of the stream's request (also in Requests).
	RequestID string
	// CVMID is the hashed id of the CVM.
	CVMID string
	// Target is the query's target status.
	Target string
	// Interval and Timeout are the stream's effective (scaled, capped)
	// poll interval and timeout.
	Interval, Timeout time.Duration
	// Events lists the names of the events sent, in order.
	Events []string
	// End says why the stream ended (StreamComplete, StreamError,
	// StreamTimeout, StreamDropped, StreamClientGone, StreamServerClosed);
	// empty while it is open.
	End string
}

// Streams returns the state streams served so far, oldest first (open
// ones included, with End empty).
func (s *Server) Streams() []StreamRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StreamRecord, 0, len(s.streams))
	for _, r := range s.streams {
		c := *r
		c.Events = append([]string(nil), r.Events...)
		out = append(out, c)
	}
	return out
}

// DropStreams makes the next n state streams end right after their first
// event, without a final event, as a proxy or a network failure would;
// clients must reconnect. (A stream whose first event is final ends as
// usual.) Injected faults apply to stream requests too, e.g. a FaultDrop
// with PathSuffix "/state" drops the connection before any event.
func (s *Server) DropStreams(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropStreams += n
}

// FailNextBoot makes the next accepted update of the CVM (any id form)
// end in a failed boot: once the update delay has passed, the status is
// "exited", boot_error is message and exited_at is set, and state streams
// send an "error" event. The update after that boots fine again. It
// reports whether the CVM exists.
func (s *Server) FailNextBoot(cvmID, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return false
	}
	if message == "" {
		message = "boot failed"
	}
	c.failBoot = message
	return true
}

// notifyLocked wakes every state stream. Caller holds mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// refreshLocked is cvm.refresh, waking the streams on a change. Caller
// holds mu.
func (s *Server) refreshLocked(c *cvm, now time.Time) {
	if c.refresh(now) {
		s.notifyLocked()
	}
}

// streamSeconds reads a query parameter in seconds (already validated
// against the document's bounds).
func streamSeconds(q url.Values, name string, def int) int {
	if n, err := strconv.Atoi(q.Get(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// stateStream answers the event stream; the events are written by
// stateStreamer.run once the headers are out.
func (cl *call) stateStream() response {
	s := cl.s
	q := cl.r.URL.Query()
	scale := s.opts.streamScale
	interval := time.Duration(float64(streamSeconds(q, "interval", defaultStreamInterval)) * scale * float64(time.Second))
	timeout := time.Duration(float64(streamSeconds(q, "timeout", defaultStreamTimeout)) * scale * float64(time.Second))
	if s.opts.maxStream > 0 && timeout > s.opts.maxStream {
		timeout = s.opts.maxStream
	}
	st := &stateStreamer{s: s, c: cl.cvm, rec: &StreamRecord{RequestID: cl.reqID, CVMID: cl.cvm.seed.ID,
		Target: q.Get("target"), Interval: max(interval, minStreamPoll), Timeout: timeout}}
	return response{status: http.StatusOK, stream: st.run, header: http.Header{
		"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-cache"}, "X-Accel-Buffering": {"no"}}}
}

// stateStreamer is one state stream.
type stateStreamer struct {
	s   *Server
	c   *cvm
	rec *StreamRecord
}

func (st *stateStreamer) run(w http.ResponseWriter, r *http.Request) {
	s, c, rec := st.s, st.c, st.rec
	s.mu.Lock()
	s.streams = append(s.streams, rec)
	drop := s.dropStreams > 0
	if drop {
		s.dropStreams--
	}
	s.mu.Unlock()

	rc := http.NewResponseController(w)
	deadline := time.NewTimer(rec.Timeout)
	defer deadline.Stop()
	var last []byte
	for {
		s.mu.Lock()
		now := s.opts.clock()
		s.refreshLocked(c, now)
		state := c.stateJSON()
		data := mustJSON(state)
		status, bootErr, busyUntil, changed := c.status, c.bootError, c.nextChange(), s.changed
		if c.held && c.restartAt.IsZero() {
			busyUntil = time.Time{} // ends only by FinishUpdates or ReleaseUpdates, which wake the stream
		}
		if bootErr != "" {
			state["message"] = bootErr // the error event's data: the state and the message
		}
		errData := mustJSON(state)
		s.mu.Unlock()

		name := ""
		switch {
		case status == rec.Target:
			name = "complete"
		case bootErr != "":
			name, data = "error", errData
		case !bytes.Equal(data, last):
			name = "state"
		}
		if name != "" {
			final := ""
			if name != "state" {
				final = name
			}
			if !st.send(w, rc, name, data, final) || final != "" {
				return
			}
			last = data
			if drop {
				st.end(StreamDropped)
				return
			}
		}

		wait := rec.Interval
		if !busyUntil.IsZero() {
			if d := busyUntil.Sub(now); d < wait {
				wait = max(d, minStreamPoll)
			}
		}
		tick := time.NewTimer(wait)
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline.C:
			tick.Stop()
			s.mu.Lock()
			data := mustJSON(c.stateJSON())
			s.mu.Unlock()
			st.send(w, rc, "timeout", data, StreamTimeout)
			return
		case <-r.Context().Done():
			tick.Stop()
			st.end(StreamClientGone)
			return
		case <-s.closing:
			tick.Stop()
			st.end(StreamServerClosed)
			return
		}
		tick.Stop()
	}
}

// send writes and flushes one event; it reports whether that worked. The
// data of every event is checked against the document's CVMState schema.
// A final event's end is recorded before it is written, so that a client
// that has read it finds the stream's record complete; a failed write
// records StreamClientGone.
func (st *stateStreamer) send(w http.ResponseWriter, rc *http.ResponseController, name string, data []byte, final string) bool {
	st.check(name, data)
	st.s.mu.Lock()
	st.rec.Events = append(st.rec.Events, name)
	if final != "" {
		st.rec.End = final
	}
	st.s.mu.Unlock()
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil || rc.Flush() != nil {
		st.end(StreamClientGone)
		return false
	}
	return true
}

func (st *stateStreamer) end(why string) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	st.rec.End = why
}

// check validates an event's data against the CVMState schema (when
// response validation is on), noting violations like any other answer's.
func (st *stateStreamer) check(name string, data []byte) {
	if !st.s.opts.checkResp {
		return
	}
	ref := st.s.spec.doc.Components.Schemas["CVMState"]
	if ref == nil || ref.Value == nil {
		st.s.violation("the OpenAPI document has no CVMState schema")
		return
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		st.s.violation(fmt.Sprintf("state stream event %q: data is not JSON: %v", name, err))
		return
	}
	if err := ref.Value.VisitJSON(v); err != nil {
		st.s.violation(fmt.Sprintf("state stream event %q: %v", name, err))
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
