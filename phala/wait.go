package phala

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

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
// before any request; its text names the fix for each case. In particular
// UpdateCVMResources, UpdateOSImage and CommitCVMComposeFileUpdate return
// only an error: their update is waited on through an UpdateResult filled
// by WithUpdateResult, and an UpdateResult no call filled is refused.
func (c *Client) WaitForUpdate(ctx context.Context, cvmID string, result Waitable, opts *WaitOptions) (out *CVMState, err error) {
	if ctx, err = c.beginWait(ctx); err != nil {
		return nil, err
	}
	if result != nil && result.waitNoChange() {
		return c.GetCVMState(ctx, cvmID)
	}
	if why := nothingToWaitFor(result); why != "" {
		return nil, invalidArg("result", "%s", why)
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
// event; when ctx ends first, an error that names the CVM, the status
// waited for, the last status seen and how long the wait lasted, and wraps
// ctx's error (errors.Is(err, context.DeadlineExceeded) or
// context.Canceled holds); an *APIError for other answers.
func (c *Client) WaitForCVM(ctx context.Context, cvmID string, opts *WaitOptions) (out *CVMState, err error) {
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
	st, err := w.run(ctx)
	if err != nil && ctx.Err() != nil {
		return nil, w.ended(err, ctx.Err())
	}
	return st, err
}

// ended wraps the error of a wait that ctx ended (its deadline, say) with
// what a caller needs to act on: the CVM, the status waited for (not one
// the CVM has), the last status seen and how long the wait lasted.
// errors.Is still finds context.DeadlineExceeded or context.Canceled.
// ctxErr, ctx's own error, says whether it was cancelled or timed out.
func (w *waiter) ended(err, ctxErr error) error {
	last := "none yet"
	if w.last != "" {
		last = fmt.Sprintf("%q", w.last)
	}
	what := fmt.Sprintf("CVM %s to reach status %q", w.id, w.o.Target)
	if w.o.CorrelationID != "" {
		what = fmt.Sprintf("update %s of CVM %s to finish with status %q", w.o.CorrelationID, w.id, w.o.Target)
	}
	how := "cancelled"
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		how = "timed out (ctx deadline)"
	}
	return fmt.Errorf("phala: wait for %s %s after %s; last status seen: %s: %w",
		what, how, roundElapsed(time.Since(w.begun)), last, err)
}

// roundElapsed rounds a duration for a message: milliseconds below a
// second, tenths of a second above.
func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

type waiter struct {
	c     *Client
	id    string
	o     WaitOptions
	begun time.Time
	// started: a state showed the awaited update begin (its correlation id
	// in the progress, or the CVM away from the target).
	started bool
	// last is the last status seen, for the error when ctx ends the wait.
	last string
}

// observe notes the status and whether it shows the awaited update under way.
func (w *waiter) observe(status string, p *CVMProgress) {
	if status != "" {
		w.last = status
	}
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
	if st.BootErrorMessage != "" {
		return true, &BootError{CVMID: w.id, Status: st.Status, Message: st.BootErrorMessage}
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
