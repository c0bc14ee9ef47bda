package phalatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"
)

// stateStream answers GET /cvms/{id}/state?target= as the real API does:
// a text/event-stream of "state" events (one at once, then one per
// change), ending with "complete" when the status equals target, "error"
// when the CVM failed to boot, or "timeout" when timeout (capped by
// WithMaxStreamDuration) has passed. DropStreams cuts streams short.
func (s *Server) stateStream(c *cvm, target string, timeout time.Duration) response {
	if s.opts.maxStream > 0 && timeout > s.opts.maxStream {
		timeout = s.opts.maxStream
	}
	drop := false
	if s.dropStreams > 0 { // the caller holds s.mu
		s.dropStreams--
		drop = true
	}
	h := http.Header{}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	return response{status: http.StatusOK, header: h, stream: func(w http.ResponseWriter, r *http.Request) {
		s.writeStates(w, r, c, target, timeout, drop)
	}}
}

func (s *Server) writeStates(w http.ResponseWriter, r *http.Request, c *cvm, target string, timeout time.Duration, drop bool) {
	flusher, _ := w.(http.Flusher)
	send := func(event string, data any) bool {
		b, _ := json.Marshal(data)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(s.opts.streamTick)
	defer tick.Stop()
	var last map[string]any
	for {
		s.mu.Lock()
		c.refresh(s.opts.clock())
		st, status, bootErr := c.stateJSON(), c.status, c.bootError
		s.mu.Unlock()
		switch {
		case bootErr != "":
			send("error", map[string]any{"status": status, "message": bootErr})
			return
		case status == target:
			send("complete", st)
			return
		case !reflect.DeepEqual(st, last):
			if !send("state", st) {
				return
			}
			last = st
			if drop {
				return // cut short after the first event (DropStreams)
			}
		}
		if !time.Now().Before(deadline) {
			send("timeout", map[string]any{"status": status})
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// DropStreams makes the next n state streams end right after their first
// event, without a final one, as a proxy that cuts long connections does.
func (s *Server) DropStreams(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropStreams += n
}

// FailNextBoot makes the next accepted update of cvmID end in status
// "error" with boot_error set to message (the state stream then sends an
// "error" event). It reports whether the CVM exists.
func (s *Server) FailNextBoot(cvmID, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return false
	}
	c.failNext = message
	return true
}
