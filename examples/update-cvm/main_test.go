package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestRunAgainstFake runs every step of the example against the fake and
// checks what it left behind.
func TestRunAgainstFake(t *testing.T) {
	srv := phalatest.NewTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	finishSeenUpdates(t, srv)
	var out bytes.Buffer
	require.NoError(t, runWith(ctx, &out, fakeEnv(srv)), "output:\n%s", out.String())

	text := out.String()
	for _, want := range []string{"==> 9. PatchCVM on an on-chain KMS", "phase 2:        confirmed", "All steps succeeded."} {
		require.Contains(t, text, want)
	}
	// The env step names its trust choice; the on-chain key is checked
	// against the pinned signer.
	signer := strings.ToLower(srv.KMSSigner())
	for _, want := range []string{"key anchor:     InsecureTrustAPISigner", "==> 10. Check the on-chain KMS's env key against the pinned signer",
		"signed by:      " + signer, "verified:       true", "key anchor:     pinned signer " + signer} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "demo-token", "env values must not be printed")
	// Issue 24 point 8: every wait shows its elapsed time, as do the
	// on-chain phases.
	dur := `[0-9.]+(ms|s|m[0-9.]+s)`
	require.Len(t, regexp.MustCompile(`now:            running after `+dur+`\n`).FindAllString(text, -1), 7)
	require.Regexp(t, `progress:       running \(boot: done\)  \+`+dur+`\n`, text)
	require.Regexp(t, `phase 2:        confirmed, `+dur+` after phase 1\n`, text)

	central, _ := srv.CVM(phalatest.CentralCVMName)
	require.Equal(t, map[string]string{"FOO": "bar", "API_TOKEN": "demo-token"}, srv.Envs(central.ID))
	ac, _, _ := srv.AppCompose(central.ID)
	require.Equal(t, "services:\n  web:\n    image: nginx:1.28\n    ports:\n      - \"80:80\"\n", ac["docker_compose_file"])
	require.Equal(t, "#!/bin/sh\necho \"pre-launch: $(date)\"\n", ac["pre_launch_script"])
	require.Len(t, srv.Applied(central.ID), 7, "each of the 7 central steps applied exactly once")

	onchain, _ := srv.CVM(phalatest.OnChainCVMName)
	applied := srv.Applied(onchain.ID)
	require.Len(t, applied, 1)
	require.Equal(t, "patchCVM", applied[0].Operation)
	require.Empty(t, srv.PendingComposeHashes(onchain.ID))

	// Every accepted update was waited for on the state stream, to the end.
	streams := srv.Streams()
	require.Len(t, streams, 7, "6 central updates and the on-chain patch: %+v", streams)
	for i, st := range streams {
		want := central.ID
		if i == 6 {
			want = onchain.ID
		}
		require.Equal(t, want, st.CVMID)
		require.Equal(t, phalatest.StreamComplete, st.End)
		require.Equal(t, []string{"state", "complete"}, st.Events, "stream %d saw the update, then its end", i)
	}
	// ... and the waits for results checked their correlation ids (the
	// progress lines name them).
	for _, a := range append(srv.Applied(central.ID), applied...) {
		if a.Operation == "updateCVMVisibility" {
			continue // answered at once, nothing to wait for
		}
		require.Contains(t, text, "progress:       updating (boot: booting) [update "+a.CorrelationID+"]")
	}
	require.Equal(t, 7, strings.Count(text, "progress:       running (boot: done)"))
	require.Equal(t, 7, strings.Count(text, "now:            running"))
}

// finishSeenUpdates holds the fake's updates and ends each one once the
// state stream waiting for it has sent its first event, i.e. once the
// example has seen it "updating": the checks on what the streams sent do
// not depend on how fast the machine runs. It stops when the test ends.
func finishSeenUpdates(t *testing.T, srv *phalatest.Server) {
	srv.HoldUpdates()
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			for _, st := range srv.Streams() {
				if st.End == "" && len(st.Events) > 0 {
					srv.FinishUpdates()
				}
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
}

// TestRunPicksTheFake checks that run works with no configuration.
func TestRunPicksTheFake(t *testing.T) {
	t.Setenv("PHALA_CLOUD_API_KEY", "")
	t.Setenv("PHALA_CLOUD_API_PREFIX", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out), "output:\n%s", out.String())
	require.True(t, strings.HasPrefix(out.String(), "PHALA_CLOUD_API_KEY is not set: running against an in-memory Phala Cloud"))
}

// TestRunRealNeedsCVMID checks the real-cloud mode's configuration error
// (nothing is sent: the URL is never contacted).
func TestRunRealNeedsCVMID(t *testing.T) {
	t.Setenv("PHALA_CLOUD_API_KEY", "phak_not_a_real_key")
	t.Setenv("PHALA_CLOUD_API_PREFIX", "http://127.0.0.1:1/api/v1")
	t.Setenv("PHALA_CVM_ID", "")
	err := run(context.Background(), &bytes.Buffer{})
	require.ErrorContains(t, err, "PHALA_CVM_ID")
	require.NotContains(t, err.Error(), "phak_not_a_real_key")
}

// TestRunRealRefusesABadSigner checks PHALA_KMS_SIGNER before anything is
// sent (the URL is never contacted).
func TestRunRealRefusesABadSigner(t *testing.T) {
	t.Setenv("PHALA_CLOUD_API_KEY", "phak_not_a_real_key")
	t.Setenv("PHALA_CLOUD_API_PREFIX", "http://127.0.0.1:1/api/v1")
	t.Setenv("PHALA_CVM_ID", "my-app")
	t.Setenv("PHALA_KMS_SIGNER", "0x1234")
	err := run(context.Background(), &bytes.Buffer{})
	require.ErrorContains(t, err, "PHALA_KMS_SIGNER")
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
}

// TestCheckOnChainKeyWithoutAnchor shows the refusal when no signer is
// pinned, and does not count the step as done.
func TestCheckOnChainKeyWithoutAnchor(t *testing.T) {
	srv := phalatest.NewTestServer(t)
	e := fakeEnv(srv)
	e.client, e.anchor = srv.Client(), nil
	var out bytes.Buffer
	checked, err := checkOnChainKey(context.Background(), &printer{out: &out}, e)
	require.NoError(t, err)
	require.False(t, checked)
	require.Contains(t, out.String(), "refused:        no signer pinned: set PHALA_KMS_SIGNER")
}

// The heartbeat prints while a wait lasts and stops when told; 0 prints
// nothing.
func TestHeartbeat(t *testing.T) {
	var out bytes.Buffer
	p := &printer{out: &out}
	stop := p.heartbeat(time.Millisecond, func() string { return "still waiting" })
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return strings.Contains(out.String(), "waiting:        still waiting\n")
	}, 5*time.Second, time.Millisecond)
	stop()
	p.mu.Lock()
	n := out.Len()
	p.mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	require.Equal(t, n, out.Len(), "nothing printed after stop")
	p.heartbeat(0, func() string { panic("never called") })()
}
