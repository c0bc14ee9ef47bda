package phala

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phalacloud/go-sdk/gen"
)

// CVMState is a CVM's run state (GET /cvms/{cvmId}/state).
type CVMState struct {
	ID         string `json:"id"`
	InstanceID string `json:"instance_id"`
	Name       string `json:"name"`
	// Status is the run status, e.g. "starting", "running", "stopped".
	Status           string `json:"status"`
	Uptime           string `json:"uptime"`
	ExitedAt         string `json:"exited_at"`
	BootProgress     string `json:"boot_progress"`
	BootError        string `json:"boot_error"`
	ShutdownProgress string `json:"shutdown_progress"`
	// Progress is the operation in progress when the server includes it.
	Progress *CVMProgress `json:"-"`
}

// UnmarshalJSON decodes a state, tolerating nulls and the progress object.
func (s *CVMState) UnmarshalJSON(b []byte) error {
	var g gen.CVMState
	if err := json.Unmarshal(b, &g); err != nil {
		return err
	}
	*s = CVMState{ID: deref(g.ID), InstanceID: deref(g.InstanceID), Name: deref(g.Name), Status: g.Status,
		Uptime: deref(g.Uptime), ExitedAt: deref(g.ExitedAt), BootProgress: deref(g.BootProgress),
		BootError: deref(g.BootError), ShutdownProgress: deref(g.ShutdownProgress)}
	if p := g.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		s.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: deref(p.StartedAt), CorrelationID: deref(p.CorrelationID)}
	}
	return nil
}

// GetCVMState reads the CVM's current run state. Errors: an
// ErrInvalidArgument error for a malformed id; an *APIError for any answer
// other than 200.
func (c *Client) GetCVMState(ctx context.Context, cvmID string) (out *CVMState, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, err
	}
	return c.getState(ctx, id)
}

func (c *Client) getState(ctx context.Context, id string) (*CVMState, error) {
	r, err := read(c.api.GetCVMState(ctx, id, nil))
	if err != nil {
		return nil, err
	}
	if err := expect(r, http.StatusOK); err != nil {
		return nil, err
	}
	var s CVMState
	if err := decodeJSON(r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// BootError reports that the CVM failed to reach the target status; Message
// is the server's text (boot_error or the stream's error event).
type BootError struct {
	CVMID   string
	Status  string
	Message string
}

// Error says which CVM failed, in which status, and the server's message.
func (e *BootError) Error() string {
	return fmt.Sprintf("phala: CVM %s failed (status %q): %s", e.CVMID, e.Status, e.Message)
}

// WaitOptions tune WaitForCVM. The zero value waits for "running".
type WaitOptions struct {
	// Target is the status to wait for; default "running".
	Target string
	// CorrelationID, when set, waits for that update: the wait first sees it
	// begin (the CVM's progress carries this correlation id, or the CVM
	// leaves Target), then waits until the CVM is at Target and its progress
	// no longer carries it. So "running" means the update has finished, not
	// that the old version is still up, whether the restart has not begun
	// yet or an older update's state is still shown.
	CorrelationID string
	// StartTimeout bounds how long a wait with CorrelationID accepts the CVM
	// at Target without having seen the update begin, for an update that
	// began and ended between two observations (or before the wait): after
	// it, the CVM at Target with no trace of the update counts as finished.
	// Default DefaultStartTimeout; a negative value waits until the update
	// is seen (or ctx ends). It is measured from the start of the wait.
	StartTimeout time.Duration
	// PollInterval is the mean interval of the polling fallback (jittered
	// ±20%); default 5 s.
	PollInterval time.Duration
	// StreamTimeout is the server's per-stream timeout, 10 s to 600 s;
	// default 300 s. The SDK reconnects when a stream ends this way.
	StreamTimeout time.Duration
	// OnEvent is called with every state seen, for progress output.
	OnEvent func(CVMState)
	// DisableStreaming polls instead of following the event stream.
	DisableStreaming bool
}

// DefaultStartTimeout is WaitOptions.StartTimeout's default: 30 s.
const DefaultStartTimeout = 30 * time.Second

// Waitable is a result that names an update to wait for: *UpdateResult
// (also as filled by WithUpdateResult), *PatchCVMResponse and
// *CVMActionResponse.
type Waitable interface {
	waitCorrelationID() string
	waitNoChange() bool
}

// The methods are nil-safe: a typed nil (a (*UpdateResult)(nil) from a
// failed call) names no update rather than panicking.

func (r *UpdateResult) waitCorrelationID() string {
	if r == nil {
		return ""
	}
	return r.CorrelationID
}

func (r *PatchCVMResponse) waitCorrelationID() string {
	if r == nil {
		return ""
	}
	return r.CorrelationID
}

func (r *CVMActionResponse) waitCorrelationID() string {
	if r == nil {
		return ""
	}
	return r.CorrelationID
}

func (r *UpdateResult) waitNoChange() bool     { return r != nil && r.Status == StatusNoChange }
func (r *PatchCVMResponse) waitNoChange() bool { return r != nil && r.Status == StatusNoChange }
func (r *CVMActionResponse) waitNoChange() bool {
	return r != nil && r.Status == string(StatusNoChange)
}

// WaitForUpdate waits until the update that result describes has finished
// and the CVM is running again: it is WaitForCVM with the result's
// correlation id, so it waits for exactly that update (see
// WaitOptions.CorrelationID). A StatusNoChange result changed nothing: the
// call returns at once with the CVM's current state (one GET
// /cvms/{cvmId}/state, no waiting). A result still waiting for on-chain
// confirmation, or without a correlation id (a nil or typed-nil result
// too), has nothing to wait for and gives an ErrInvalidArgument error
// before any request.
func (c *Client) WaitForUpdate(ctx context.Context, cvmID string, result Waitable, opts *WaitOptions) (out *CVMState, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.beginWait(ctx); err != nil {
		return nil, err
	}
	if result != nil && result.waitNoChange() {
		return c.GetCVMState(ctx, cvmID)
	}
	if result == nil || result.waitCorrelationID() == "" {
		return nil, invalidArg("result", "names no accepted update (no correlation id; confirm the on-chain step first)")
	}
	o := WaitOptions{}
	if opts != nil {
		o = *opts
	}
	o.CorrelationID = result.waitCorrelationID()
	return c.WaitForCVM(ctx, cvmID, &o)
}

// WaitForCVM blocks until the CVM's status equals opts.Target (default
// "running") and, when opts.CorrelationID is set, that update was seen
// under way and the CVM's progress no longer carries it (see
// WaitOptions.CorrelationID and StartTimeout). It follows the server's event stream,
// reconnecting when the server ends it, and falls back to jittered polling
// when streaming is unavailable, including when the stream's headers do not
// arrive within the attempt timeout (WithTimeout, DefaultTimeout when 0). A
// stream that outlives StreamTimeout by that timeout, its server having gone
// silent, is ended and reopened. ctx bounds the whole wait, which otherwise
// lasts until the target is reached. Errors: an ErrInvalidArgument error
// for a nil ctx or a malformed id or option; a
// *BootError when the CVM reports a boot error or the stream an error
// event; ctx's error when it ends first; an *APIError for other answers.
func (c *Client) WaitForCVM(ctx context.Context, cvmID string, opts *WaitOptions) (out *CVMState, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.beginWait(ctx); err != nil {
		return nil, err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, err
	}
	o := WaitOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Target == "" {
		o.Target = "running"
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.StreamTimeout == 0 {
		o.StreamTimeout = 300 * time.Second
	}
	if o.StreamTimeout < 10*time.Second || o.StreamTimeout > 600*time.Second {
		return nil, invalidArg("opts.StreamTimeout", "must be 10 s to 600 s")
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	w := &waiter{c: c, id: id, o: o, begun: time.Now()}
	return w.run(ctx)
}

type waiter struct {
	c     *Client
	id    string
	o     WaitOptions
	begun time.Time
	// started: a state showed the awaited update begin (its correlation id
	// in the progress, or the CVM away from the target).
	started bool
}

// observe notes whether st shows the awaited update under way.
func (w *waiter) observe(status string, p *CVMProgress) {
	if w.o.CorrelationID == "" {
		return
	}
	if p != nil && p.CorrelationID == w.o.CorrelationID || p == nil && status != "" && status != w.o.Target {
		w.started = true
	}
}

// errNoStream means the server did not answer with an event stream.
var errNoStream = errors.New("no event stream")

func (w *waiter) run(ctx context.Context) (*CVMState, error) {
	streaming := !w.o.DisableStreaming
	for {
		var st *CVMState
		var err error
		if streaming {
			st, err = w.stream(ctx)
			if errors.Is(err, errNoStream) {
				streaming = false
				continue
			}
		} else {
			st, err = w.poll(ctx)
		}
		if err != nil {
			return nil, err
		}
		if st == nil { // the stream ended without reaching the target: reconnect
			if err := sleep(ctx, w.jitter()); err != nil {
				return nil, err
			}
			continue
		}
		done, err := w.updateFinished(ctx, st)
		if err != nil || done {
			return st, err
		}
		if err := sleep(ctx, w.jitter()); err != nil {
			return nil, err
		}
	}
}

// seen reports a state and decides whether it is final.
func (w *waiter) seen(st *CVMState) (bool, error) {
	if w.o.OnEvent != nil {
		w.o.OnEvent(*st)
	}
	w.observe(st.Status, st.Progress)
	if st.BootError != "" {
		return true, &BootError{CVMID: w.id, Status: st.Status, Message: st.BootError}
	}
	return st.Status == w.o.Target, nil
}

// updateFinished checks the correlation id against the CVM detail, the
// authoritative source of progress, once the status matches. The update
// counts as finished only once it was seen under way (or StartTimeout
// passed without a trace of it): the target status before the restart
// begins is the old version still running.
func (w *waiter) updateFinished(ctx context.Context, st *CVMState) (bool, error) {
	if w.o.CorrelationID == "" {
		return true, nil
	}
	if st.Progress != nil && st.Progress.CorrelationID == w.o.CorrelationID {
		return false, nil
	}
	info, err := w.c.GetCVMInfo(ctx, w.id)
	if err != nil {
		return false, err
	}
	w.observe(info.Status, info.Progress)
	if info.Status != w.o.Target || info.Progress != nil && info.Progress.CorrelationID == w.o.CorrelationID {
		return false, nil
	}
	return w.started || w.o.StartTimeout > 0 && time.Since(w.begun) >= w.o.StartTimeout, nil
}

func (w *waiter) jitter() time.Duration {
	d := w.o.PollInterval
	return d*8/10 + rand.N(d*4/10+1)
}

// poll reads the state until its status is the target.
func (w *waiter) poll(ctx context.Context) (*CVMState, error) {
	for {
		st, err := w.c.getState(ctx, w.id)
		if err != nil {
			return nil, err
		}
		final, err := w.seen(st)
		if err != nil || final {
			return st, err
		}
		if err := sleep(ctx, w.jitter()); err != nil {
			return nil, err
		}
	}
}

// MaxEventSize bounds one server-sent event of the state stream: 1 MiB.
const MaxEventSize = 1 << 20

// stream follows one event stream; it returns (nil, nil) when the stream
// ended without a final state, so that the caller reconnects.
func (w *waiter) stream(ctx context.Context) (*CVMState, error) {
	secs := int(w.o.StreamTimeout / time.Second)
	interval := 5
	params := &gen.GetCVMStateParams{Target: &w.o.Target, Timeout: &secs, Interval: &interval}
	accept := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Accept", "text/event-stream")
		return nil
	}
	// The stream has no per-attempt timeout (it lasts up to StreamTimeout),
	// so its two waits are bounded here: the answer's headers must arrive
	// within the attempt timeout (else the waiter polls instead), and the
	// whole stream ends at StreamTimeout plus that grace, when a server that
	// went silent has missed its own "timeout" event (then it reconnects).
	grace := w.c.attemptTimeout()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headerTimer := time.AfterFunc(grace, cancel)
	resp, err := w.c.api.GetCVMState(withoutTimeout(sctx), w.id, params, accept)
	if !headerTimer.Stop() || err != nil {
		if err == nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errNoStream
	}
	var expired atomic.Bool
	lifeTimer := time.AfterFunc(w.o.StreamTimeout+grace, func() { expired.Store(true); cancel() })
	defer lifeTimer.Stop()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		r, err := read(resp, nil)
		if err != nil {
			if ctx.Err() == nil && expired.Load() {
				return nil, errNoStream
			}
			return nil, err
		}
		if r.status == http.StatusOK || r.status == http.StatusNotFound && mt != "application/json" ||
			r.status == http.StatusMethodNotAllowed || r.status == http.StatusNotImplemented || r.status == http.StatusNotAcceptable {
			return nil, errNoStream
		}
		return nil, newAPIError(r.status, r.header, r.body)
	}
	defer resp.Body.Close()
	st, err := w.events(resp.Body)
	if err != nil && ctx.Err() == nil && expired.Load() {
		return nil, nil // the SDK ended a stream that outlived its timeout: reconnect
	}
	return st, err
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
func (w *waiter) events(body io.Reader) (*CVMState, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), MaxEventSize)
	var name string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			st, final, err := w.dispatch(name, data.String())
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
func (w *waiter) dispatch(name, data string) (*CVMState, bool, error) {
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
		return nil, true, &BootError{CVMID: w.id, Status: e.Status, Message: msg}
	}
	return nil, false, nil
}
