package phala

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// attemptCtx is the context of one attempt: the request's context bounded
// by the per-attempt timeout, ended when the answer's body is closed.
//
// It is context.WithTimeout plus what the sender keeps per attempt, in one
// allocation: the answer's body wrappers (key scrubber, end of attempt on
// Close, the buffered copy) and the response read hands on. Written by
// hand because, with what net/http's Transport does to it, it costs 8
// allocations where context.WithTimeout costs 10, and the wrappers and
// the response would be up to 5 more (BenchmarkAttemptContext).
// The transport still derives its context from this one: the AfterFunc
// method below is what context.WithCancelCause uses on a parent that is
// not a standard cancelCtx, instead of a goroutine per request.
type attemptCtx struct {
	parent   context.Context
	deadline time.Time // zero when the attempt has no timeout of its own
	done     chan struct{}

	mu         sync.Mutex
	err        error
	timer      *attemptTimer
	stopParent func() bool
	after      func()   // the first AfterFunc callback (the transport's)
	more       []func() // any further ones; a stopped one is nil

	scrub    scrubReader    // the answer's body through the key scrubber
	respBody releaseOnClose // ... ending the attempt on Close
	buffered bufferedBody   // ... or read in full within the attempt
	out      response       // what read makes of the answer
}

// newAttemptCtx starts an attempt under parent, bounded by timeout when it
// is positive and sooner than parent's own deadline.
func newAttemptCtx(parent context.Context, timeout time.Duration) *attemptCtx {
	a := &attemptCtx{parent: parent, done: make(chan struct{})}
	a.buffered.out = &a.out
	if timeout > 0 {
		a.deadline = time.Now().Add(timeout)
		if pd, ok := parent.Deadline(); ok && !pd.After(a.deadline) {
			a.deadline = time.Time{} // the parent ends first: its deadline rules
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if pdone := parent.Done(); pdone != nil {
		select {
		case <-pdone:
			a.endLocked(parent.Err())
			return a
		default:
		}
		// Runs in its own goroutine, after this function has released mu.
		a.stopParent = context.AfterFunc(parent, func() { a.end(parent.Err()) })
	}
	if !a.deadline.IsZero() {
		a.timer = armTimer(a, time.Until(a.deadline))
	}
	return a
}

// Deadline is the attempt's deadline or the parent's, whichever is sooner.
func (a *attemptCtx) Deadline() (time.Time, bool) {
	if !a.deadline.IsZero() {
		return a.deadline, true
	}
	return a.parent.Deadline()
}

// Done is closed when the attempt ends: timeout, parent done, or released.
func (a *attemptCtx) Done() <-chan struct{} { return a.done }

// Err is nil until Done is closed, then context.DeadlineExceeded after
// the timeout, the parent's error, or context.Canceled once released.
func (a *attemptCtx) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Value is the parent's: the attempt adds no values.
func (a *attemptCtx) Value(key any) any { return a.parent.Value(key) }

// String names the context in panics and debug output.
func (a *attemptCtx) String() string { return "phala.attempt" }

// AfterFunc arranges to call f in its own goroutine once the attempt ends,
// as context.AfterFunc documents for a Context with this method; stop
// unregisters f and reports whether it did so before f was started.
func (a *attemptCtx) AfterFunc(f func()) (stop func() bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		go f()
		return func() bool { return false }
	}
	if a.after == nil && len(a.more) == 0 {
		a.after = f
		return a.stopFirst
	}
	a.more = append(a.more, f)
	i := len(a.more) - 1
	return func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		f := a.more[i]
		a.more[i] = nil
		return f != nil
	}
}

func (a *attemptCtx) stopFirst() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.after
	a.after = nil
	return f != nil
}

func (a *attemptCtx) expire() { a.end(context.DeadlineExceeded) }

// release ends the attempt once its answer has been read or abandoned,
// freeing the timer and the parent registration.
func (a *attemptCtx) release() { a.end(context.Canceled) }

func (a *attemptCtx) end(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.endLocked(err)
}

func (a *attemptCtx) endLocked(err error) {
	if a.err != nil {
		return
	}
	a.err = err
	close(a.done)
	if a.timer != nil {
		a.timer.stop()
	}
	if a.stopParent != nil {
		a.stopParent()
	}
	if a.after != nil {
		go a.after()
		a.after = nil
	}
	for i, f := range a.more {
		if f != nil {
			go f()
			a.more[i] = nil
		}
	}
}

// releaseOnClose is the answer's body: closing it ends the attempt.
type releaseOnClose struct {
	io.ReadCloser
	a *attemptCtx
}

func (b *releaseOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.a.release()
	return err
}

// attemptTimer is a stopped timer kept for the next attempt: a timer and
// its callback are two allocations, and nearly every attempt ends before
// its timeout, so the timer is stopped in time and can be reused.
type attemptTimer struct {
	t *time.Timer
	// a is the attempt the timer is armed for; it is only changed while
	// the timer is stopped, so fire never sees an attempt it was not armed
	// for.
	a atomic.Pointer[attemptCtx]
}

var attemptTimers sync.Pool // of *attemptTimer, stopped

// armTimer ends a after d.
func armTimer(a *attemptCtx, d time.Duration) *attemptTimer {
	t, _ := attemptTimers.Get().(*attemptTimer)
	if t == nil {
		t = &attemptTimer{}
		t.a.Store(a)
		t.t = time.AfterFunc(d, t.fire)
		return t
	}
	t.a.Store(a)
	t.t.Reset(d)
	return t
}

func (t *attemptTimer) fire() { t.a.Load().expire() }

// stop disarms the timer; only a timer stopped before it fired goes back
// to the pool (one that fired is still running, or ran, fire).
func (t *attemptTimer) stop() {
	if t.t.Stop() {
		attemptTimers.Put(t)
	}
}

// responseFor is where read puts the response to body's answer: inside the
// attempt's allocation when body is one the sender made, else a new one.
func responseFor(body io.ReadCloser) *response {
	switch b := body.(type) {
	case *releaseOnClose:
		return &b.a.out
	case *bufferedBody:
		if b.out != nil {
			return b.out
		}
	}
	return new(response)
}
