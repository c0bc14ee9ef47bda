package phalatest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestHoldUpdates checks the hold/release control: a held update outlasts
// its delay (the clock moves far past it), mutating calls keep answering
// 409, ReleaseUpdates ends it at once, and a held failing boot fails on
// release.
func TestHoldUpdates(t *testing.T) {
	clock := newClock()
	s := phalatest.NewTestServer(t, phalatest.WithClock(clock.Now), phalatest.WithUpdateDelay(time.Minute))
	c := noRetry(s)
	ctx := ctxT(t)
	central, _ := seeds(t, s)
	require.Equal(t, 0, s.ReleaseUpdates(), "nothing held")

	s.HoldUpdates()
	require.Equal(t, 0, s.ReleaseUpdates(), "held, but no update running")
	s.HoldUpdates()
	res, err := c.UpdateDockerCompose(ctx, central.ID, "services:\n  a: {}\n", nil)
	require.NoError(t, err)
	clock.Advance(24 * time.Hour)
	require.Equal(t, "updating", s.Status(central.ID))
	info, err := c.GetCVMInfo(ctx, central.ID)
	require.NoError(t, err)
	require.Equal(t, "updating", info.Status)
	require.Equal(t, res.CorrelationID, info.Progress.CorrelationID)
	apiError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)}), http.StatusConflict)

	require.Equal(t, 1, s.ReleaseUpdates())
	require.Equal(t, "running", s.Status(central.ID))
	info, err = c.GetCVMInfo(ctx, central.ID)
	require.NoError(t, err)
	require.Nil(t, info.Progress)
	require.Equal(t, 0, s.ReleaseUpdates(), "released already")

	// Released before the delay has passed: it ends at once all the same.
	s.HoldUpdates()
	require.True(t, s.FailNextBoot(central.ID, "held boot failed"))
	require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)}))
	require.Equal(t, "updating", s.Status(central.ID))
	require.Equal(t, 1, s.ReleaseUpdates())
	st, err := c.GetCVMState(ctx, central.ID)
	require.NoError(t, err)
	require.Equal(t, "exited", st.Status)
	require.Equal(t, "held boot failed", st.BootErrorMessage)

	// After the release, updates run for the update delay again.
	require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)}))
	require.Equal(t, "updating", s.Status(central.ID))
	clock.Advance(time.Minute)
	require.Equal(t, "running", s.Status(central.ID))
}

// TestFinishUpdatesKeepsTheHold: FinishUpdates ends the running update
// and the next one is held as well, until ReleaseUpdates.
func TestFinishUpdatesKeepsTheHold(t *testing.T) {
	clock := newClock()
	s := phalatest.NewTestServer(t, phalatest.WithClock(clock.Now), phalatest.WithUpdateDelay(time.Minute))
	c := noRetry(s)
	ctx := ctxT(t)
	central, _ := seeds(t, s)
	s.HoldUpdates()
	for i := range 2 {
		require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2 + i)}))
		clock.Advance(time.Hour)
		require.Equal(t, "updating", s.Status(central.ID), "update %d is held", i)
		require.Equal(t, 1, s.FinishUpdates())
		require.Equal(t, "running", s.Status(central.ID))
	}
	require.Equal(t, 0, s.FinishUpdates(), "nothing running")
	require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(8)}))
	require.Equal(t, 1, s.ReleaseUpdates())
	require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)}))
	clock.Advance(time.Minute)
	require.Equal(t, "running", s.Status(central.ID), "released: the update delay applies again")
}

// TestHeldStreamWaitsForRelease checks that a state stream of a held
// update whose delay has long passed on the server's clock keeps
// reporting "updating", and completes once the update is released.
func TestHeldStreamWaitsForRelease(t *testing.T) {
	clock := newClock()
	s := phalatest.NewTestServer(t, phalatest.WithClock(clock.Now), phalatest.WithUpdateDelay(time.Millisecond))
	s.HoldUpdates()
	res := updateCentral(t, s, "nginx:held")
	clock.Advance(time.Hour)
	var log eventLog
	o := quickWait()
	o.OnEvent = func(st phala.CVMState) {
		log.on(st)
		if st.Status == "updating" {
			require.Equal(t, 1, s.ReleaseUpdates())
		}
	}
	st, err := noRetry(s).WaitForUpdate(ctxT(t), phalatest.CentralCVMName, res, o)
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
	require.Equal(t, []string{"updating", "running"}, log.statuses())
	got := s.Streams()
	require.Len(t, got, 1)
	require.Equal(t, []string{"state", "complete"}, got[0].Events)
}
