package phala

import (
	"context"
	"crypto/tls"
	"errors"
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

// The attempt context stands in for context.WithTimeout: these tests hold
// it to what a standard context does, through the standard functions that
// callers and net/http use on it.

func TestAttemptCtxTimesOut(t *testing.T) {
	before := time.Now()
	a := newAttemptCtx(context.Background(), 20*time.Millisecond)
	after := time.Now()
	dl, ok := a.Deadline()
	require.True(t, ok)
	assert.False(t, dl.Before(before.Add(20*time.Millisecond)) || dl.After(after.Add(20*time.Millisecond)),
		"the deadline is 20 ms after the attempt began")
	child, cancel := context.WithCancelCause(a) // what net/http's Transport derives
	defer cancel(nil)
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt's timeout did not reach the derived context")
	}
	assert.ErrorIs(t, a.Err(), context.DeadlineExceeded)
	assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	assert.ErrorIs(t, context.Cause(child), context.DeadlineExceeded)
	a.release() // after the timeout: nothing changes
	assert.ErrorIs(t, a.Err(), context.DeadlineExceeded)
}

func TestAttemptCtxFollowsItsParent(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), key{}, "v"))
	a := newAttemptCtx(parent, time.Hour)
	assert.Equal(t, "v", a.Value(key{}))
	child, cancelChild := context.WithCancel(a)
	defer cancelChild()
	boom := errors.New("boom")
	cancel(boom)
	<-child.Done()
	<-a.Done()
	assert.ErrorIs(t, a.Err(), context.Canceled)
	assert.ErrorIs(t, context.Cause(a), boom, "the parent's cause shows through")

	// A parent already done ends the attempt at once.
	b := newAttemptCtx(parent, time.Hour)
	<-b.Done()
	assert.ErrorIs(t, b.Err(), context.Canceled)
}

func TestAttemptCtxDeadlineIsTheSoonest(t *testing.T) {
	soon := time.Now().Add(time.Minute)
	parent, cancel := context.WithDeadline(context.Background(), soon)
	defer cancel()
	a := newAttemptCtx(parent, time.Hour)
	dl, ok := a.Deadline()
	require.True(t, ok)
	assert.Equal(t, soon, dl, "the parent's deadline comes first")
	assert.Nil(t, a.timer, "no timer of its own when the parent ends first")
	a.release()

	b := newAttemptCtx(context.Background(), 0)
	_, ok = b.Deadline()
	assert.False(t, ok, "no timeout, no parent deadline")
	b.release()
	assert.ErrorIs(t, b.Err(), context.Canceled)
}

func TestAttemptCtxReleaseEndsDerivedContexts(t *testing.T) {
	a := newAttemptCtx(context.Background(), time.Hour)
	child, cancel := context.WithCancel(a)
	defer cancel()
	ran := make(chan struct{})
	stop := context.AfterFunc(a, func() { close(ran) })
	a.release()
	<-child.Done()
	<-ran
	assert.False(t, stop(), "f already started")
	assert.ErrorIs(t, a.Err(), context.Canceled)
}

func TestAttemptCtxAfterFuncContract(t *testing.T) {
	a := newAttemptCtx(context.Background(), time.Hour)
	var calls atomic.Int32
	stops := make([]func() bool, 3)
	for i := range stops {
		stops[i] = a.AfterFunc(func() { calls.Add(1) })
	}
	assert.True(t, stops[1](), "stopped before the end")
	assert.False(t, stops[1](), "a second stop stops nothing")
	a.release()
	require.Eventually(t, func() bool { return calls.Load() == 2 }, 10*time.Second, time.Millisecond)
	assert.False(t, stops[0]())
	assert.False(t, stops[2]())

	// Registered after the end: called at once, in its own goroutine.
	done := make(chan struct{})
	stop := a.AfterFunc(func() { close(done) })
	<-done
	assert.False(t, stop())
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, int32(2), calls.Load(), "no callback ran twice")
}

// TestAttemptTimersAreReusedSafely arms many short and long attempts at
// once: an attempt must end by its own timer only, never by a pooled
// timer that fired for another (run with -race).
func TestAttemptTimersAreReusedSafely(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				short := (g+i)%3 == 0
				d := time.Hour
				if short {
					d = time.Duration(1+i%5) * time.Microsecond
				}
				a := newAttemptCtx(context.Background(), d)
				if short {
					<-a.Done()
					assert.ErrorIs(t, a.Err(), context.DeadlineExceeded)
					continue
				}
				assert.NoError(t, a.Err(), "a long attempt ended early")
				a.release()
				assert.ErrorIs(t, a.Err(), context.Canceled)
			}
		}()
	}
	wg.Wait()
}

func TestNeverReachedTLSRecordOnlyAtHandshake(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	assert.True(t, neverReached(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake", Conn: c1}))
	assert.False(t, neverReached(tls.RecordHeaderError{Msg: "oversized record received"}),
		"a bad record after the handshake may follow a written request")
}

// failOver is a caller's RoundTripper that sends the request, then reports
// a dial error, as one failing over to another host could: the change
// reached the server, so it must not be sent again.
type failOver struct{ next http.RoundTripper }

func (f failOver) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(r)
	if err == nil {
		resp.Body.Close()
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
}

func TestChangeThroughCallersTransportIsNotResentAfterAConnection(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){status(202, accepted)}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1"), WithRetryPolicy(fastPolicy),
		WithHTTPClient(&http.Client{Transport: failOver{next: http.DefaultTransport}}))
	require.NoError(t, err)
	_, err = c.UpdateDockerCompose(context.Background(), "x1234", "a: b\n", nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, int32(1), s.hits.Load(), "the PATCH was sent once")

	// A read through the same transport is retried: repeating it is harmless.
	_, err = c.GetCVMInfo(context.Background(), "x1234")
	require.Error(t, err)
	assert.Equal(t, int32(1+3), s.hits.Load())
}

// BenchmarkAttemptContext prices what one attempt's context costs with
// what net/http's Transport does with it (context.WithCancelCause, Done,
// cancel at the end), against the standard context.WithTimeout it
// replaces (plus the httptrace hook and body wrapper the sender no longer
// needs with net/http's Transport, counted in BENCHMARKS.md).
func BenchmarkAttemptContext(b *testing.B) {
	bg := context.Background()
	transport := func(ctx context.Context) {
		tctx, cancel := context.WithCancelCause(ctx)
		_ = tctx.Done()
		cancel(nil)
	}
	b.Run("attemptCtx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a := newAttemptCtx(bg, time.Minute)
			transport(a)
			a.release()
		}
	})
	b.Run("context.WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			transport(ctx)
			cancel()
		}
	})
}
