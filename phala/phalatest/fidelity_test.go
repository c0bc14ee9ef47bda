package phalatest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Issue 13, items 1, 2, 3, 7 and 10: the fake answers updates in the real
// API's shapes (each answer is validated against the spec by
// NewTestServer), and the SDK reads them.

// Item 1: the multisig 465 carries the commit token and its companions as
// details entries only, as the API does; the SDK finds them there.
func TestPrepareOnly465InTheRealShape(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	_, oc := seeds(t, s)
	r := do(t, s, "PATCH", "/cvms/"+oc.ID, "application/json", `{"allowed_envs":["FOO","NEW"]}`, map[string]string{"X-Prepare-Only": "true"})
	require.Equal(t, 465, r.status)
	for _, k := range []string{"commit_token", "commit_url", "api_commit_url", "onchain_status", "compose_hash", "app_id"} {
		assert.NotContains(t, r.body, k, "no top-level %s: the API puts it in details", k)
	}
	fields := map[string]any{}
	for _, d := range r.body["details"].([]any) {
		e := d.(map[string]any)
		fields[e["field"].(string)] = e["value"]
	}
	for _, k := range []string{"compose_hash", "app_id", "device_id", "kms_info", "commit_token", "commit_url", "api_commit_url", "onchain_status"} {
		assert.Contains(t, fields, k)
	}

	p, err := noRetry(s).PatchCVM(ctxT(t), oc.ID, &phala.PatchCVMRequest{AllowedEnvs: []string{"FOO", "NEW"}, PrepareOnly: true})
	require.NoError(t, err)
	require.True(t, p.RequiresOnChainHash)
	assert.True(t, strings.HasPrefix(p.CommitToken, "ct_"))
	assert.Equal(t, "https://cloud.phala.fake.invalid/commit/"+p.CommitToken, p.CommitURL)
	assert.Contains(t, p.APICommitURL, "/commit-update?token="+p.CommitToken)
	require.NotNil(t, p.OnChainStatus)
	assert.True(t, p.OnChainStatus.DeviceIDAllowed)
	assert.Equal(t, fields["compose_hash"], p.ComposeHash)
}

// Item 2: sending what already runs answers no_change; nothing is applied
// and nothing restarts; WaitForUpdate returns at once.
func TestNoChangeWhenNothingChanges(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(time.Hour))
	c := noRetry(s)
	ctx := ctxT(t)
	central, oc := seeds(t, s)

	for _, id := range []string{central.ID, oc.ID} {
		ac, _, _ := s.AppCompose(id)
		res, err := c.UpdateDockerCompose(ctx, id, ac["docker_compose_file"].(string), nil)
		require.NoError(t, err)
		assert.Equal(t, phala.StatusNoChange, res.Status, "no 465 either on the on-chain KMS: the hash is unchanged")
		assert.Empty(t, res.CorrelationID)
		assert.False(t, res.RequiresOnChainHash)
		assert.Empty(t, s.Applied(id))
		assert.Equal(t, "running", s.Status(id))

		st, err := c.WaitForUpdate(ctx, id, res, nil)
		require.NoError(t, err)
		assert.Equal(t, "running", st.Status)
	}

	// Pre-launch script: the same script twice.
	res, err := c.UpdatePreLaunchScript(ctx, central.ID, "#!/bin/sh\necho hi\n", nil)
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	s2, c2 := instantServer(t)
	_, err = c2.UpdatePreLaunchScript(ctx, central.ID, "#!/bin/sh\necho hi\n", nil)
	require.NoError(t, err)
	res, err = c2.UpdatePreLaunchScript(ctx, central.ID, "#!/bin/sh\necho hi\n", nil)
	require.NoError(t, err)
	assert.Equal(t, phala.StatusNoChange, res.Status)
	assert.Len(t, s2.Applied(central.ID), 1)

	// Envs: the same set twice (fresh encryption, same plaintext).
	envs := []phala.EnvVar{{Key: "FOO", Value: "same"}}
	res, err = c2.EncryptAndUpdateEnvs(ctx, central.ID, envs, nil)
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	res, err = c2.EncryptAndUpdateEnvs(ctx, central.ID, envs, nil)
	require.NoError(t, err)
	assert.Equal(t, phala.StatusNoChange, res.Status)
	assert.Len(t, s2.Applied(central.ID), 2)
	// A different value is a change again.
	res, err = c2.EncryptAndUpdateEnvs(ctx, central.ID, []phala.EnvVar{{Key: "FOO", Value: "other"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, phala.StatusInProgress, res.Status)

	// The unified PATCH: an app-compose that stays the same is no_change;
	// with a resize besides it is an update.
	ac, _, _ := s2.AppCompose(central.ID)
	same := ac["docker_compose_file"].(string)
	p, err := c2.PatchCVM(ctx, central.ID, &phala.PatchCVMRequest{DockerComposeFile: &same, PublicLogs: phala.Ptr(ac["public_logs"].(bool))})
	require.NoError(t, err)
	assert.Equal(t, phala.StatusNoChange, p.Status)
	assert.Empty(t, p.CorrelationID)
	n := len(s2.Applied(central.ID))
	p, err = c2.PatchCVM(ctx, central.ID, &phala.PatchCVMRequest{DockerComposeFile: &same, VCPU: phala.Ptr(3)})
	require.NoError(t, err)
	assert.Equal(t, phala.StatusInProgress, p.Status)
	assert.NotEmpty(t, p.CorrelationID)
	assert.Len(t, s2.Applied(central.ID), n+1)
}

// Item 3: the provision answer says whether the compose is unchanged.
func TestProvisionComposeUnchanged(t *testing.T) {
	s, c := instantServer(t)
	central, _ := seeds(t, s)
	ac, h, _ := s.AppCompose(central.ID)
	same, err := c.ProvisionCVMComposeFileUpdate(ctxT(t), central.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: ac["docker_compose_file"].(string)})
	require.NoError(t, err)
	assert.True(t, same.ComposeUnchanged)
	assert.Equal(t, h, same.ComposeHash)
	changed, err := c.ProvisionCVMComposeFileUpdate(ctxT(t), central.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  v2: {}\n"})
	require.NoError(t, err)
	assert.False(t, changed.ComposeUnchanged)
}

// Item 10: the 202 of resources, OS image and compose commit carries the
// correlation id of the change applied, and WithUpdateResult hands it over.
func TestErrorOnlyUpdatesReportTheirCorrelationID(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	central, _ := seeds(t, s)
	prov, err := c.ProvisionCVMComposeFileUpdate(ctx, central.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  v2: {}\n"})
	require.NoError(t, err)
	calls := []func(ctx context.Context) error{
		func(ctx context.Context) error {
			return c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)})
		},
		func(ctx context.Context) error {
			return c.UpdateOSImage(ctx, central.ID, &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.5"})
		},
		func(ctx context.Context) error {
			return c.CommitCVMComposeFileUpdate(ctx, central.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash})
		},
	}
	seen := map[string]bool{}
	for i, call := range calls {
		var res phala.UpdateResult
		require.NoError(t, call(phala.WithUpdateResult(ctx, &res)))
		applied := s.Applied(central.ID)
		require.Len(t, applied, i+1)
		assert.Equal(t, applied[i].CorrelationID, res.CorrelationID)
		assert.Equal(t, phala.StatusInProgress, res.Status)
		assert.False(t, seen[res.CorrelationID])
		seen[res.CorrelationID] = true
	}
}

// Item 10: a wait for the update an error-only call started waits for
// exactly that change. It is deterministic: the fake's clock moves only
// when the test says, and the wait's OnEvent hands each state to the test
// before the wait may go on.
func TestWaitForUpdateWaitsForTheNewChange(t *testing.T) {
	clock := newClock()
	s := phalatest.NewTestServer(t, phalatest.WithClock(clock.Now), phalatest.WithRestartLag(time.Minute),
		phalatest.WithUpdateDelay(time.Minute))
	c := noRetry(s)
	ctx := ctxT(t)
	central, _ := seeds(t, s)

	// An older update, finished.
	var old phala.UpdateResult
	require.NoError(t, c.UpdateCVMResources(phala.WithUpdateResult(ctx, &old), central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4)}))
	clock.Advance(2 * time.Minute)
	require.Equal(t, "running", s.Status(central.ID))

	// The new one: accepted, but its restart has not begun.
	var res phala.UpdateResult
	require.NoError(t, c.UpdateOSImage(phala.WithUpdateResult(ctx, &res), central.ID, &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.5"}))
	require.NotEmpty(t, res.CorrelationID)
	require.NotEqual(t, old.CorrelationID, res.CorrelationID)

	events := make(chan phala.CVMState)
	type outcome struct {
		st  *phala.CVMState
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		st, err := c.WaitForUpdate(ctx, central.ID, &res, &phala.WaitOptions{PollInterval: time.Millisecond,
			DisableStreaming: true, StartTimeout: -1, OnEvent: func(st phala.CVMState) {
				select {
				case events <- st:
				case <-ctx.Done():
				}
			}})
		done <- outcome{st, err}
	}()
	next := func(what string) phala.CVMState {
		t.Helper()
		select {
		case st := <-events:
			return st
		case o := <-done:
			t.Fatalf("the wait returned %v, %v %s", o.st, o.err, what)
		case <-ctx.Done():
			t.Fatalf("no state %s: %v", what, ctx.Err())
		}
		return phala.CVMState{}
	}

	// Before the restart begins the CVM says running without progress, the
	// same as after the old update: the wait must not return.
	for range 5 {
		st := next("before the restart began")
		require.Equal(t, "running", st.Status)
		require.Nil(t, st.Progress)
	}
	clock.Advance(time.Minute) // the restart begins
	var st phala.CVMState
	for st.Status != "updating" {
		st = next("while the restart begins")
	}
	require.NotNil(t, st.Progress)
	require.Equal(t, res.CorrelationID, st.Progress.CorrelationID, "the new change, not the old one")
	for range 3 {
		st = next("during the update")
		require.Equal(t, "updating", st.Status)
	}
	clock.Advance(time.Minute) // the update ends
	for {
		select {
		case st := <-events:
			require.Contains(t, []string{"updating", "running"}, st.Status)
			continue
		case o := <-done:
			require.NoError(t, o.err)
			require.Equal(t, "running", o.st.Status)
			info, err := c.GetCVMInfo(ctx, central.ID)
			require.NoError(t, err)
			require.Nil(t, info.Progress)
			applied := s.Applied(central.ID)
			require.Equal(t, res.CorrelationID, applied[len(applied)-1].CorrelationID)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		break
	}
}

// Item 10: an update that began and ended unseen (here: before the wait
// began) is taken as finished once StartTimeout has passed without a trace
// of it; with a negative StartTimeout the wait goes on until its context
// ends, never guessing.
func TestWaitForUpdateStartTimeout(t *testing.T) {
	s, c := instantServer(t)
	central, _ := seeds(t, s)
	var res phala.UpdateResult
	require.NoError(t, c.UpdateCVMResources(phala.WithUpdateResult(ctxT(t), &res), central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(3)}))
	st, err := c.WaitForUpdate(ctxT(t), central.ID, &res, &phala.WaitOptions{PollInterval: time.Millisecond, StartTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)

	ctx, cancel := context.WithTimeout(ctxT(t), 30*time.Millisecond)
	defer cancel()
	_, err = c.WaitForUpdate(ctx, central.ID, &res, &phala.WaitOptions{PollInterval: time.Millisecond, StartTimeout: -1})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// Item 7: the fake's success answers are API answers: every update answer
// is a JSON object with a status (and a correlation id unless no_change).
func TestUpdateAnswersCarryStatusAndCorrelationID(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	central, _ := seeds(t, s)
	for _, q := range []struct{ method, path, ct, body string }{
		{"PATCH", "/cvms/" + central.ID + "/resources", "application/json", `{"vcpu":3}`},
		{"PATCH", "/cvms/" + central.ID + "/os-image", "application/json", `{"os_image_name":"dstack-0.5.4"}`},
		{"PATCH", "/cvms/" + central.ID + "/docker-compose", "text/yaml", "services:\n  z: {}\n"},
	} {
		r := do(t, s, q.method, q.path, q.ct, q.body, nil)
		require.Equal(t, http.StatusAccepted, r.status, q.path)
		assert.Equal(t, "in_progress", r.body["status"])
		assert.NotEmpty(t, r.body["correlation_id"])
	}
}
