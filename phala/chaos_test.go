package phala_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

const callHeader = "X-Test-Call"

// tagCalls marks every request of a call with the call id (from ctx), so
// that the server's request log can be grouped by call.
func tagCalls(onRetry func(phala.RetryEvent)) phala.Option {
	return phala.WithHooks(phala.Hooks{BeforeSend: func(ctx context.Context, req *http.Request) {
		if id, ok := ctx.Value(callKey{}).(int); ok {
			req.Header.Set(callHeader, strconv.Itoa(id))
		}
	}, OnRetry: onRetry})
}

type callKey struct{}

// mutations are the changes the chaos and concurrency tests send; each
// body differs per call so nothing could be merged by accident.
func mutations(c *phala.Client, cvm string, i int) []func(context.Context) error {
	return []func(context.Context) error{
		func(ctx context.Context) error {
			_, err := audited(c.UpdateDockerCompose(ctx, cvm, fmt.Sprintf("services:\n  app:\n    image: nginx:1.%d\n", i), nil))
			return err
		},
		func(ctx context.Context) error {
			_, err := audited(c.UpdatePreLaunchScript(ctx, cvm, fmt.Sprintf("#!/bin/sh\necho call %d\n", i), nil))
			return err
		},
		func(ctx context.Context) error {
			_, err := audited(c.PatchCVM(ctx, cvm, &phala.PatchCVMRequest{VCPU: phala.Int(1 + i%8), PublicLogs: phala.Bool(i%2 == 0)}))
			return err
		},
		func(ctx context.Context) error {
			return auditedErr(c.UpdateCVMResources(ctx, cvm, &phala.UpdateResourcesRequest{Memory: phala.Int(1024 * (1 + i%8))}))
		},
		func(ctx context.Context) error {
			return auditedErr(c.UpdateOSImage(ctx, cvm, &phala.UpdateOSImageRequest{OSImageName: fmt.Sprintf("dstack-0.5.%d", 3+i%3)}))
		},
	}
}

// TestChaosNeverAppliesTwice sends 500 changes from 16 goroutines through
// injected 429s, 503s, dropped connections (before and after the change
// was applied), 500s after applying, and latency. Every call must either
// succeed having been applied exactly once, or fail with a clear error
// having been applied at most once; no call may take longer than its
// retry budget.
func TestChaosNeverAppliesTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: not run with -short (make test-short); make test runs it")
	}
	const workers, calls = 16, 500
	var seeds []phalatest.Option
	for w := range workers {
		seeds = append(seeds, phalatest.WithCVM(phalatest.CVMSeed{Name: fmt.Sprintf("chaos-%02d", w)}))
	}
	srv := phalatest.NewTestServer(t, append(seeds, phalatest.WithUpdateDelay(0), phalatest.WithSeed(7))...)
	srv.InjectFaults(
		phalatest.Fault{Kind: phalatest.FaultRateLimit, Fraction: 0.06, RetryAfter: time.Second},
		phalatest.Fault{Kind: phalatest.FaultUnavailable, Fraction: 0.06},
		phalatest.Fault{Kind: phalatest.FaultDrop, Fraction: 0.03},
		phalatest.Fault{Kind: phalatest.FaultDrop, Fraction: 0.03, AfterApply: true},
		phalatest.Fault{Kind: phalatest.FaultInternal, Fraction: 0.03, AfterApply: true},
		phalatest.Fault{Kind: phalatest.FaultLatency, Fraction: 0.1, Latency: 5 * time.Millisecond},
	)
	policy := phala.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond,
		MaxRetryAfter: 20 * time.Millisecond, MaxTotalWait: 200 * time.Millisecond}
	const timeout = 2 * time.Second
	var retries atomic.Int64
	c := auditedFake(srv.Client(phala.WithRetryPolicy(policy), phala.WithTimeout(timeout), tagCalls(func(phala.RetryEvent) { retries.Add(1) })))

	errs := make([]error, calls)
	took := make([]time.Duration, calls)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cvm := fmt.Sprintf("chaos-%02d", w)
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				ops := mutations(c, cvm, i)
				ctx := context.WithValue(context.Background(), callKey{}, i)
				start := time.Now()
				errs[i] = ops[i%len(ops)](ctx)
				took[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()

	attempts := map[int]int{}
	applied := map[int]int{}
	for _, r := range srv.Requests() {
		id, err := strconv.Atoi(r.Header.Get(callHeader))
		if err != nil {
			continue
		}
		attempts[id]++
		if r.Applied {
			applied[id]++
		}
	}
	budget := time.Duration(policy.MaxAttempts)*(timeout+10*time.Millisecond) + policy.MaxTotalWait
	var ok, failed, totalAttempts int
	for i := range calls {
		totalAttempts += attempts[i]
		assert.LessOrEqual(t, applied[i], 1, "call %d applied %d times", i, applied[i])
		assert.LessOrEqual(t, took[i], budget, "call %d took longer than its retry budget", i)
		if errs[i] == nil {
			ok++
			assert.Equal(t, 1, applied[i], "call %d succeeded without being applied once", i)
			continue
		}
		failed++
		var apiErr *phala.APIError
		var trErr *phala.TransportError
		assert.True(t, errors.As(errs[i], &apiErr) || errors.As(errs[i], &trErr), "call %d: unclear error %v", i, errs[i])
	}
	t.Logf("chaos: %d calls, %d attempts, %d retries, %d succeeded, %d failed", calls, totalAttempts, retries.Load(), ok, failed)
	require.Equal(t, calls, ok+failed)
	assert.Equal(t, int64(totalAttempts-calls), retries.Load(), "every extra attempt was a visible retry")
	assert.Greater(t, retries.Load(), int64(0), "faults caused retries")
	assert.Greater(t, failed, 0, "faults after apply must surface as errors, never as silent retries")
}

// TestOneClientManyGoroutines shares one client among 64 goroutines that
// mix every method, under -race.
func TestOneClientManyGoroutines(t *testing.T) {
	const workers = 64
	var seeds []phalatest.Option
	for w := range workers {
		seeds = append(seeds, phalatest.WithCVM(phalatest.CVMSeed{Name: fmt.Sprintf("many-%02d", w), AllowedEnvs: []string{"A", "B"}}))
	}
	srv := phalatest.NewTestServer(t, append(seeds, phalatest.WithUpdateDelay(0))...)
	c := auditedFake(srv.Client())
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers*16)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cvm := fmt.Sprintf("many-%02d", w)
			for _, op := range mutations(c, cvm, w) {
				errs <- op(ctx)
			}
			_, err := audited(c.UpdateCVMVisibility(ctx, cvm, &phala.UpdateVisibilityRequest{PublicSysinfo: phala.Bool(w%2 == 0)}))
			errs <- err
			_, err = audited(c.EncryptAndUpdateEnvs(ctx, cvm, secretEnvs([]phala.EnvVar{{Key: "A", Value: strconv.Itoa(w)}}), nil))
			errs <- err
			p, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, cvm, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: fmt.Sprintf("services:\n  w%d:\n    image: busybox\n", w)}))
			errs <- err
			if err == nil {
				errs <- auditedErr(c.CommitCVMComposeFileUpdate(ctx, cvm, &phala.CommitComposeUpdateRequest{ComposeHash: p.ComposeHash}))
			}
			_, err = audited(c.GetCVMInfo(ctx, cvm))
			errs <- err
			_, err = audited(c.GetCVMState(ctx, cvm))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		n++
		assert.NoError(t, err)
	}
	assert.Equal(t, workers*11, n)
	for w := range workers {
		assert.Equal(t, map[string]string{"A": strconv.Itoa(w)}, srv.Envs(fmt.Sprintf("many-%02d", w)))
	}
}
