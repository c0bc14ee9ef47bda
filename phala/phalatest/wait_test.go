package phalatest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestWaitBootError makes the update's boot fail: the stream sends an
// error event and the client returns a *phala.BootError with the server's
// message; polling sees boot_error too; the next update boots fine.
func TestWaitBootError(t *testing.T) {
	const msg = "pre-launch script failed: exit status 3"
	s := heldServer(t)
	c := noRetry(s)
	require.False(t, s.FailNextBoot("no-such-cvm", msg))
	require.True(t, s.FailNextBoot(phalatest.CentralCVMName, msg))
	res := updateCentral(t, s, "nginx:broken")
	var log eventLog
	o := quickWait()
	o.OnEvent = releaseOn(t, s, &log, 1)
	_, err := c.WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	var be *phala.BootError
	require.ErrorAs(t, err, &be)
	require.Equal(t, msg, be.Message)
	require.Equal(t, "exited", be.Status)
	got := s.Streams()
	require.Len(t, got, 1)
	require.Equal(t, phalatest.StreamError, got[0].End)
	require.Equal(t, []string{"state", "error"}, got[0].Events)

	state, err := c.GetCVMState(ctxT(t), phalatest.CentralCVMName)
	require.NoError(t, err)
	require.Equal(t, "exited", state.Status)
	require.Equal(t, msg, state.BootErrorMessage)
	require.NotEmpty(t, state.ExitedAt)
	require.Equal(t, "exited", s.Status(phalatest.CentralCVMName))

	// A client that polls sees the same failure.
	o = quickWait()
	o.DisableStreaming = true
	_, err = c.WaitForCVM(ctxT(t), phalatest.CentralCVMName, o)
	require.ErrorAs(t, err, &be)
	require.Equal(t, msg, be.Message)

	// The next update boots fine and clears boot_error.
	s.HoldUpdates()
	res = updateCentral(t, s, "nginx:fixed")
	var log2 eventLog
	o = quickWait()
	o.OnEvent = releaseOn(t, s, &log2, 1)
	st, err := c.WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	require.Empty(t, st.BootErrorMessage)
	require.Equal(t, []string{"updating", "running"}, log2.statuses())

	// Without an update delay the failure is immediate.
	s2 := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	require.True(t, s2.FailNextBoot(phalatest.CentralCVMName, ""))
	res = updateCentral(t, s2, "nginx:broken")
	_, err = noRetry(s2).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, quickWait())
	require.ErrorAs(t, err, &be)
	require.Equal(t, "boot failed", be.Message)
}

// testDeadline is a context whose deadline passes when the test says so
// (expire): Err is then context.DeadlineExceeded, as for a real deadline.
type testDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newDeadline(parent context.Context) *testDeadline {
	return &testDeadline{Context: parent, done: make(chan struct{})}
}

func (d *testDeadline) expire()               { d.once.Do(func() { close(d.done) }) }
func (d *testDeadline) Done() <-chan struct{} { return d.done }
func (d *testDeadline) Err() error {
	select {
	case <-d.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestWaitContextCancel ends waits by their context, on a stream and
// while polling; the server sees the stream's client go away.
func TestWaitContextCancel(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := noRetry(s)

	// The deadline passes once the stream is open (the first event has
	// arrived), however long the machine took to get there.
	ctx := newDeadline(ctxT(t))
	_, err := c.WaitForCVM(ctx, phalatest.CentralCVMName, &phala.WaitOptions{Target: "stopped", PollInterval: 5 * time.Millisecond,
		OnEvent: func(phala.CVMState) { ctx.expire() }})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool {
		got := s.Streams()
		return len(got) == 1 && got[0].End == phalatest.StreamClientGone
	}, time.Minute, 5*time.Millisecond, "the server saw the client leave: %+v", s.Streams())

	// Cancelled from the progress callback, mid-stream.
	ctx2, cancel2 := context.WithCancel(ctxT(t))
	defer cancel2()
	o := &phala.WaitOptions{Target: "stopped", OnEvent: func(phala.CVMState) { cancel2() }}
	_, err = c.WaitForCVM(ctx2, phalatest.CentralCVMName, o)
	require.ErrorIs(t, err, context.Canceled)

	// While polling.
	ctx3, cancel3 := context.WithTimeout(ctxT(t), 50*time.Millisecond)
	defer cancel3()
	_, err = c.WaitForCVM(ctx3, phalatest.CentralCVMName, &phala.WaitOptions{Target: "stopped", PollInterval: 5 * time.Millisecond, DisableStreaming: true})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestWaitForUpdateMatchesCorrelationID checks that WaitForUpdate returns
// only once the update with the result's correlation id has finished: not
// while the update is held, with the CVM running and its detail no longer
// carrying the update, after consulting the detail.
func TestWaitForUpdateMatchesCorrelationID(t *testing.T) {
	s := heldServer(t)
	c := noRetry(s)
	first := updateCentral(t, s, "nginx:first")
	var log eventLog
	var released atomic.Bool
	o := quickWait()
	o.OnEvent = func(st phala.CVMState) {
		log.on(st)
		if st.Status == "updating" && !released.Load() {
			released.Store(true)
			assert.Equal(t, 1, s.ReleaseUpdates())
		}
	}
	st, err := c.WaitForUpdate(ctxT(t), phalatest.CentralCVMName, first, o)
	require.NoError(t, err)
	require.True(t, released.Load(), "returned before the update ended")
	require.Equal(t, "running", st.Status)
	require.Equal(t, []string{first.CorrelationID}, log.correlationIDs())

	info, err := c.GetCVMInfo(ctxT(t), phalatest.CentralCVMName)
	require.NoError(t, err)
	require.Equal(t, "running", info.Status)
	require.Nil(t, info.Progress)
	applied := s.Applied(phalatest.CentralCVMName)
	require.Equal(t, first.CorrelationID, applied[len(applied)-1].CorrelationID)

	// The client checked the detail (the authoritative progress) after
	// the stream completed.
	reqs := s.Requests()
	var ops []string
	for _, q := range reqs {
		ops = append(ops, q.Operation)
	}
	require.Equal(t, []string{"updateDockerCompose", "getCVMState", "getCVMInfo", "getCVMInfo"}, ops)

	// A second update: waiting for it sees only its own correlation id.
	s.HoldUpdates()
	released.Store(false)
	second := updateCentral(t, s, "nginx:second")
	require.NotEqual(t, first.CorrelationID, second.CorrelationID)
	var log2 eventLog
	o.OnEvent = func(st phala.CVMState) {
		log2.on(st)
		if st.Status == "updating" && !released.Load() {
			released.Store(true)
			assert.Equal(t, 1, s.ReleaseUpdates())
		}
	}
	st, err = c.WaitForUpdate(ctxT(t), phalatest.CentralCVMName, second, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	require.Equal(t, []string{second.CorrelationID}, log2.correlationIDs())
	require.True(t, released.Load(), "returned before the second update ended")

	// A result without a correlation id is refused before any request.
	s.ResetRequests()
	_, err = c.WaitForUpdate(ctxT(t), phalatest.CentralCVMName, &phala.UpdateResult{RequiresOnChainHash: true}, o)
	require.True(t, errors.Is(err, phala.ErrInvalidArgument))
	require.Empty(t, s.Requests())
}

// TestWaitForCVMEveryIDForm waits on a running update through every id
// form of both seeded CVMs; each stream is served for the right CVM.
func TestWaitForCVMEveryIDForm(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(time.Hour))
	c := noRetry(s)
	central, onchain := seeds(t, s)
	for _, sd := range []phalatest.CVMSeed{central, onchain} {
		forms := map[string]string{
			"name":                sd.Name,
			"hashed id":           sd.ID,
			"app id with app_":    "app_" + sd.AppID,
			"app id without app_": sd.AppID,
			"app id upper case":   strings.ToUpper(sd.AppID),
			"uuid with dashes":    sd.VMUUID,
			"uuid without dashes": strings.ReplaceAll(sd.VMUUID, "-", ""),
			"instance id":         "instance_" + sd.InstanceID,
		}
		for form, id := range forms {
			t.Run(sd.Name+"/"+form, func(t *testing.T) {
				// Start an update so that there is something to wait for
				// (a resize needs no on-chain step); it ends when the
				// client has seen it.
				s.HoldUpdates()
				require.NoError(t, c.UpdateCVMResources(ctxT(t), sd.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)}))
				require.Equal(t, "updating", s.Status(sd.ID))
				n := len(s.Streams())
				var log eventLog
				o := quickWait()
				o.OnEvent = releaseOn(t, s, &log, 1)
				st, err := c.WaitForCVM(ctxT(t), id, o)
				require.NoError(t, err)
				require.Equal(t, "running", st.Status)
				require.Equal(t, sd.ID, st.ID)
				got := s.Streams()[n:]
				require.Len(t, got, 1)
				assert.Equal(t, sd.ID, got[0].CVMID)
				assert.Equal(t, []string{"state", "complete"}, got[0].Events)
				assert.Equal(t, []string{"updating", "running"}, log.statuses())
			})
		}
	}
}

// TestStreamEndsOnClose checks that Close ends open streams instead of
// waiting for them.
func TestStreamEndsOnClose(t *testing.T) {
	s := phalatest.NewServer()
	c := noRetry(s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.WaitForCVM(ctx, phalatest.CentralCVMName, &phala.WaitOptions{Target: "stopped", PollInterval: time.Hour})
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(s.Streams()) == 1 }, time.Minute, 2*time.Millisecond)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute): // the stream would otherwise stay open for its 300 s timeout
		t.Fatal("Close blocked on an open stream")
	}
	require.Equal(t, phalatest.StreamServerClosed, s.Streams()[0].End)
	cancel() // the client was pausing before it reconnects
	require.ErrorIs(t, <-errc, context.Canceled)
}
