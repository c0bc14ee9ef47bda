package phala

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phalacloud/go-sdk/gen"
)

// MaxEventSize bounds one server-sent event of the state stream: 1 MiB.
const MaxEventSize = 1 << 20

// stream follows one event stream; it returns (nil, nil) when the stream
// ended without a final state, so that the caller reconnects.
func (w *waiter) stream(ctx context.Context) (*CVMState, error) {
	secs := int(w.o.StreamTimeout / time.Second)
	interval := 5
	params := &gen.GetCVMStateParams{Target: &w.o.Target, Timeout: &secs, Interval: &interval}
	// The stream has no per-attempt timeout (it lasts up to StreamTimeout),
	// so its two waits are bounded here: the answer's headers must arrive
	// within the attempt timeout (else the waiter polls instead), and the
	// whole stream ends at StreamTimeout plus that grace, when a server that
	// went silent has missed its own "timeout" event (then it reconnects).
	grace := w.c.attemptTimeout()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headerTimer := time.AfterFunc(grace, cancel)
	req, err := gen.NewGetCVMStateRequest(w.c.server, w.id, params)
	r, err := w.c.do(sctx, opStreamCVMState, req, err)
	if !headerTimer.Stop() {
		if err == nil {
			r.stream.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errNoStream
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var e *APIError
		if !errors.As(err, &e) || noStreamStatus(e) {
			return nil, errNoStream
		}
		return nil, err
	}
	defer r.stream.Close()
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "text/event-stream" {
		return nil, errNoStream
	}
	var expired atomic.Bool
	lifeTimer := time.AfterFunc(w.o.StreamTimeout+grace, func() { expired.Store(true); cancel() })
	defer lifeTimer.Stop()
	st, err := w.events(r.stream, r.secrets)
	if err != nil && ctx.Err() == nil && expired.Load() {
		return nil, nil // the SDK ended a stream that outlived its timeout: reconnect
	}
	return st, err
}

// noStreamStatus reports an error answer that says the server has no state
// stream (the waiter polls instead): 405, 406, 501, or a 404 whose body is
// not JSON (a route the server lacks, not an unknown CVM).
func noStreamStatus(e *APIError) bool {
	switch e.StatusCode {
	case http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusNotAcceptable:
		return true
	case http.StatusNotFound:
		return !json.Valid(e.RawBody)
	}
	return false
}

// attemptTimeout is the per-attempt timeout, or DefaultTimeout when
// WithTimeout(0) removed it: a stream's header wait is always bounded.
func (c *Client) attemptTimeout() time.Duration {
	if c.cfg.timeout > 0 {
		return c.cfg.timeout
	}
	return DefaultTimeout
}

// events parses server-sent events until a final one or the end.
// Texts built from an event are scrubbed of sec as final text.
func (w *waiter) events(body io.Reader, sec secrets) (*CVMState, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), MaxEventSize)
	var name string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			st, final, err := w.dispatch(name, data.String(), sec)
			if err != nil || final {
				return st, err
			}
			name = ""
			data.Reset()
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			if data.Len()+len(line) > MaxEventSize {
				return nil, fmt.Errorf("phala: state event over %d bytes", MaxEventSize)
			}
			data.WriteString(strings.TrimPrefix(line[len("data:"):], " "))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("phala: state event over %d bytes", MaxEventSize)
		}
		return nil, nil // a broken stream: reconnect
	}
	return nil, sc.Err()
}

// dispatch handles one event. An unnamed event is a state.
func (w *waiter) dispatch(name, data string, sec secrets) (*CVMState, bool, error) {
	switch name {
	case "", "state", "complete":
		if data == "" {
			return nil, false, nil
		}
		var st CVMState
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			return nil, false, fmt.Errorf("phala: undecodable state event: %w", err)
		}
		final, err := w.seen(&st)
		return &st, final || name == "complete" && st.Status == w.o.Target, err
	case "timeout":
		return nil, true, nil // the server's per-stream limit: reconnect
	case "error":
		msg := data
		var e struct {
			Message string `json:"message"`
			Error   string `json:"error"`
			Status  string `json:"status"`
		}
		if json.Unmarshal([]byte(data), &e) == nil && (e.Message != "" || e.Error != "") {
			msg = e.Message + e.Error
		}
		// The join is final text: a secret split across the two fields
		// is whole only now.
		return nil, true, &BootError{CVMID: w.id, Status: sec.String(e.Status), Message: sec.String(msg)}
	}
	return nil, false, nil
}
