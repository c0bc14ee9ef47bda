package phalatest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func lastRequest(t *testing.T, s *phalatest.Server) phalatest.RecordedRequest {
	t.Helper()
	reqs := s.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

func TestFaultDropBeforeAndAfterApply(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	central, _ := seeds(t, s)
	resize := func() error {
		return c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)})
	}

	// Dropped before the operation: an error, nothing applied.
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultDrop})
	err := resize()
	var te *phala.TransportError
	require.ErrorAs(t, err, &te)
	require.Empty(t, s.Applied(central.ID))
	q := lastRequest(t, s)
	require.Equal(t, "drop", q.Fault)
	require.False(t, q.Applied)
	require.Equal(t, 0, q.Status)

	// Dropped after the operation: the same error, but the change is applied.
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultDrop, AfterApply: true})
	err = resize()
	require.ErrorAs(t, err, &te)
	require.Len(t, s.Applied(central.ID), 1)
	q = lastRequest(t, s)
	require.Equal(t, "drop", q.Fault)
	require.True(t, q.Applied)

	// The fault was used up: the next call goes through.
	require.NoError(t, resize())
	require.Len(t, s.Applied(central.ID), 2)
}

func TestFaultStatusAnswers(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	central, _ := seeds(t, s)
	get := func() error { _, err := c.GetCVMInfo(ctx, central.ID); return err }

	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultRateLimit, RetryAfter: 2 * time.Second})
	ae := apiError(t, get(), http.StatusTooManyRequests)
	require.Equal(t, "2", ae.RetryAfter)
	require.Equal(t, phala.CodeRateLimitExceeded, ae.Code)

	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultUnavailable, RetryAfter: time.Second})
	ae = apiError(t, get(), http.StatusServiceUnavailable)
	require.Equal(t, "1", ae.RetryAfter)

	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultInternal, Count: 2})
	apiError(t, get(), http.StatusInternalServerError)
	apiError(t, get(), http.StatusInternalServerError)
	require.NoError(t, get())

	// 500 after apply: the client sees a failure, the server applied it.
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultInternal, AfterApply: true, Method: "PATCH"})
	require.NoError(t, get(), "the method filter spares the GET")
	err := c.UpdateOSImage(ctx, central.ID, &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})
	apiError(t, err, http.StatusInternalServerError)
	require.Len(t, s.Applied(central.ID), 1)

	// Path filter.
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultUnavailable, PathSuffix: "/resources"})
	require.NoError(t, get())
	err = c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(3)})
	apiError(t, err, http.StatusServiceUnavailable)

	// ClearFaults.
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultInternal, Count: 5})
	s.ClearFaults()
	require.NoError(t, get())
}

func TestFaultLatency(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := noRetry(s)
	ctx := ctxT(t)
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultLatency, Latency: 150 * time.Millisecond})
	start := time.Now()
	_, err := c.GetCVMInfo(ctx, phalatest.CentralCVMName)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	start = time.Now()
	_, err = c.GetCVMInfo(ctx, phalatest.CentralCVMName)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 150*time.Millisecond)
}

func TestFaultFractionIsSeeded(t *testing.T) {
	pattern := func(seed uint64) []bool {
		s := phalatest.NewTestServer(t, phalatest.WithSeed(seed))
		c := noRetry(s)
		ctx := ctxT(t)
		s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultUnavailable, Fraction: 0.5})
		var out []bool
		for range 60 {
			_, err := c.GetCVMInfo(ctx, phalatest.CentralCVMName)
			out = append(out, err != nil)
		}
		return out
	}
	a, b, other := pattern(7), pattern(7), pattern(8)
	require.Equal(t, a, b, "the same seed gives the same faults")
	require.NotEqual(t, a, other)
	hits := 0
	for _, f := range a {
		if f {
			hits++
		}
	}
	require.InDelta(t, 30, hits, 15)

	// Fraction with Count: at most Count hits.
	s := phalatest.NewTestServer(t)
	c := noRetry(s)
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultInternal, Fraction: 0.9, Count: 3})
	hits = 0
	for range 30 {
		if _, err := c.GetCVMInfo(ctxT(t), phalatest.CentralCVMName); err != nil {
			hits++
		}
	}
	require.Equal(t, 3, hits)
}

// TestRetriesThroughFaults shows the SDK's default retries against the
// fake: a 503 before apply is retried and applied once.
func TestRetriesThroughFaults(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	c := s.Client(phala.WithRetryPolicy(phala.RetryPolicy{MaxAttempts: 3, MaxRetryAfter: 10 * time.Millisecond, MaxTotalWait: time.Second}))
	central, _ := seeds(t, s)
	s.InjectFaults(phalatest.Fault{Kind: phalatest.FaultUnavailable})
	require.NoError(t, c.UpdateCVMResources(ctxT(t), central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)}))
	require.Len(t, s.Applied(central.ID), 1)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, http.StatusServiceUnavailable, reqs[0].Status)
	require.Equal(t, http.StatusAccepted, reqs[1].Status)
}
