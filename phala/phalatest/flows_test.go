package phalatest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// instantServer is a test server whose accepted updates apply at once (no
// "updating" phase; opts come after), with a client that does not retry.
func instantServer(t *testing.T, opts ...phalatest.Option) (*phalatest.Server, *phala.Client) {
	t.Helper()
	s := phalatest.NewTestServer(t, append([]phalatest.Option{phalatest.WithUpdateDelay(0)}, opts...)...)
	return s, noRetry(s)
}

func TestEnvsAreDecryptedAndFiltered(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	central, _ := seeds(t, s)

	key, err := c.GetEnvEncryptPublicKey(ctx, central.ID, nil)
	require.NoError(t, err)
	enc, err := phala.EncryptEnvVars([]phala.EnvVar{{Key: "FOO", Value: "1"}, {Key: "API_TOKEN", Value: "t"}, {Key: "EXTRA", Value: "x"}}, key.PublicKey)
	require.NoError(t, err)
	res, err := c.UpdateCVMEnvs(ctx, central.ID, &phala.UpdateEnvsRequest{EncryptedEnv: enc})
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	require.False(t, res.AllowedEnvsChanged)
	require.Equal(t, map[string]string{"FOO": "1", "API_TOKEN": "t"}, s.Envs(central.ID), "EXTRA is not allowed")

	// Widening the allowed keys (central KMS: no on-chain step) lets EXTRA through.
	res, err = c.UpdateCVMEnvs(ctx, central.ID, &phala.UpdateEnvsRequest{EncryptedEnv: enc, EnvKeys: []string{"FOO", "API_TOKEN", "EXTRA"}})
	require.NoError(t, err)
	require.True(t, res.AllowedEnvsChanged)
	require.Equal(t, map[string]string{"FOO": "1", "API_TOKEN": "t", "EXTRA": "x"}, s.Envs(central.ID))

	// Unified PATCH with encrypted_env and allowed_envs.
	enc2, err := phala.EncryptEnvVars([]phala.EnvVar{{Key: "FOO", Value: "2"}, {Key: "EXTRA", Value: "y"}}, key.PublicKey)
	require.NoError(t, err)
	_, err = c.PatchCVM(ctx, central.ID, &phala.PatchCVMRequest{EncryptedEnv: &enc2, AllowedEnvs: []string{"FOO"}})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"FOO": "2"}, s.Envs(central.ID), "an update replaces the whole set")

	// Encrypted to another key: 400, nothing changes.
	other, err := phala.EncryptEnvVars([]phala.EnvVar{{Key: "FOO", Value: "3"}}, strings.Repeat("7b", 32))
	require.NoError(t, err)
	before := len(s.Applied(central.ID))
	_, err = c.UpdateCVMEnvs(ctx, central.ID, &phala.UpdateEnvsRequest{EncryptedEnv: other})
	ae := apiError(t, err, http.StatusBadRequest)
	require.Contains(t, ae.Message, "encrypted_env")
	require.NotContains(t, err.Error(), `"3"`)
	require.Equal(t, map[string]string{"FOO": "2"}, s.Envs(central.ID))
	require.Len(t, s.Applied(central.ID), before)
	// Too short to be a ciphertext.
	r := do(t, s, "PATCH", "/cvms/central-app/envs", "application/json", `{"encrypted_env":"abcd"}`, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.NotEmpty(t, r.body["details"])
}

func TestOnChainTwoPhases(t *testing.T) {
	clock := newClock()
	s, c := instantServer(t, phalatest.WithClock(clock.Now), phalatest.WithPendingExpiry(time.Hour))
	ctx := ctxT(t)
	_, oc := seeds(t, s)
	_, hashBefore, _ := s.AppCompose(oc.ID)

	// Phase 1: 465 with the structured details.
	compose := "services:\n  app:\n    image: nginx:2\n"
	r := do(t, s, "PATCH", "/cvms/"+oc.ID+"/docker-compose", "text/yaml", compose, nil)
	require.Equal(t, 465, r.status)
	require.Equal(t, "ERR-01-005", r.body["error_code"])
	fields := map[string]any{}
	for _, d := range r.body["details"].([]any) {
		m := d.(map[string]any)
		fields[m["field"].(string)] = m["value"]
	}
	require.Equal(t, oc.AppID, fields["app_id"])
	require.Equal(t, oc.DeviceID, fields["device_id"])
	kms := fields["kms_info"].(map[string]any)
	require.Equal(t, float64(8453), kms["chain_id"])
	require.Equal(t, oc.KMSID, kms["id"])
	hash := fields["compose_hash"].(string)
	require.Equal(t, []string{hash}, s.PendingComposeHashes(oc.ID))
	_, now, _ := s.AppCompose(oc.ID)
	require.Equal(t, hashBefore, now, "phase 1 changes nothing")

	// The SDK turns it into a result.
	res, err := c.UpdateDockerCompose(ctx, oc.ID, compose, nil)
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	require.Equal(t, hash, res.ComposeHash)

	// Phase 2 before registration: 468.
	fakeTx := "0x" + strings.Repeat("ab", 32)
	_, err = c.UpdateDockerCompose(ctx, oc.ID, compose, &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: fakeTx})
	apiError(t, err, 468)
	require.True(t, errors.Is(err, phala.ErrComposeHashNotAllowed))

	tx := s.RegisterComposeHash(oc.ID, hash)
	require.Regexp(t, `^0x[0-9a-f]{64}$`, tx)
	require.Equal(t, tx, s.RegisterComposeHash(oc.ID, "0x"+strings.ToUpper(hash)), "registering again returns the same transaction")
	require.Empty(t, s.RegisterComposeHash(oc.ID, "nothex"))
	require.Empty(t, s.RegisterComposeHash("no-such-cvm", hash))

	// A well-formed but wrong transaction: 467.
	_, err = c.UpdateDockerCompose(ctx, oc.ID, compose, &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: fakeTx})
	apiError(t, err, 467)
	require.True(t, errors.Is(err, phala.ErrTransactionVerificationFailed))
	// A malformed one in the unified PATCH's body fields (headers would be a 422): 467.
	r = do(t, s, "PATCH", "/cvms/"+oc.ID, "application/json", jsonBody(map[string]string{"compose_hash": hash, "transaction_hash": "0x1234"}), nil)
	require.Equal(t, 467, r.status)
	// A registered hash that is not the hash of this change: 466.
	_, err = c.UpdateDockerCompose(ctx, oc.ID, "services:\n  other: {}\n", &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: tx})
	apiError(t, err, 466)
	require.Empty(t, s.Applied(oc.ID))

	// The right pair: applied once.
	res, err = c.UpdateDockerCompose(ctx, oc.ID, compose, &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: tx})
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	ac, got, _ := s.AppCompose(oc.ID)
	require.Equal(t, hash, got)
	require.Equal(t, compose, ac["docker_compose_file"])
	require.Len(t, s.Applied(oc.ID), 1)
	require.Empty(t, s.PendingComposeHashes(oc.ID))
	info, err := c.GetCVMInfo(ctx, oc.ID)
	require.NoError(t, err)
	require.Equal(t, hash, info.ComposeHash, "the detail's compose hash follows the change")

	// A change that keeps the hash (resources) needs no on-chain step.
	require.NoError(t, c.UpdateCVMResources(ctx, oc.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(6)}))

	// Expiry: a pending hash older than the expiry answers 466 even when registered.
	res, err = c.UpdatePreLaunchScript(ctx, oc.ID, "#!/bin/sh\necho hi\n", nil)
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	tx2 := s.RegisterComposeHash(oc.ID, res.ComposeHash)
	clock.Advance(time.Hour + time.Second)
	_, err = c.UpdatePreLaunchScript(ctx, oc.ID, "#!/bin/sh\necho hi\n", &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: tx2})
	apiError(t, err, 466)
	require.True(t, errors.Is(err, phala.ErrComposeHashExpired))
}

func TestPatchCVMConfirm(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	_, oc := seeds(t, s)

	p, err := c.PatchCVM(ctx, oc.Name, &phala.PatchCVMRequest{DockerComposeFile: phala.Ptr("services:\n  x: {}\n"), VCPU: phala.Ptr(3)})
	require.NoError(t, err)
	require.True(t, p.RequiresOnChainHash)
	require.Empty(t, p.CommitToken, "no commit token without X-Prepare-Only")
	require.Equal(t, int64(8453), *p.KMSInfo.ChainID)

	// Confirming an unregistered hash: 468; a hash nothing is pending for: 466.
	_, err = c.ConfirmCVMPatch(ctx, oc.ID, &phala.ConfirmCVMPatchRequest{ComposeHash: p.ComposeHash, TransactionHash: "0x" + strings.Repeat("1", 64)})
	apiError(t, err, 468)
	other := strings.Repeat("c", 64)
	otherTx := s.RegisterComposeHash(oc.ID, other)
	_, err = c.ConfirmCVMPatch(ctx, oc.ID, &phala.ConfirmCVMPatchRequest{ComposeHash: other, TransactionHash: otherTx})
	apiError(t, err, 466)

	tx := s.RegisterComposeHash(oc.ID, p.ComposeHash)
	done, err := c.ConfirmCVMPatch(ctx, oc.ID, &phala.ConfirmCVMPatchRequest{ComposeHash: p.ComposeHash, TransactionHash: tx})
	require.NoError(t, err)
	require.NotEmpty(t, done.CorrelationID)
	info, err := c.GetCVMInfo(ctx, oc.ID)
	require.NoError(t, err)
	require.Equal(t, 3, info.VCPU, "the pending patch's other fields apply too")
	require.Equal(t, p.ComposeHash, info.ComposeHash)
	applied := s.Applied(oc.ID)
	require.Len(t, applied, 1)
	require.ElementsMatch(t, []string{"docker_compose_file", "vcpu"}, applied[0].Fields)

	// Confirming twice does not apply twice.
	_, err = c.ConfirmCVMPatch(ctx, oc.ID, &phala.ConfirmCVMPatchRequest{ComposeHash: p.ComposeHash, TransactionHash: tx})
	apiError(t, err, 466)
	require.Len(t, s.Applied(oc.ID), 1)

	// Multisig: X-Prepare-Only adds the commit token and on-chain status.
	p, err = c.PatchCVM(ctx, oc.ID, &phala.PatchCVMRequest{AllowedEnvs: []string{"FOO", "BAR"}, PrepareOnly: true})
	require.NoError(t, err)
	require.True(t, p.RequiresOnChainHash)
	require.True(t, strings.HasPrefix(p.CommitToken, "ct_"))
	require.Contains(t, p.APICommitURL, "/commit-update?token="+p.CommitToken)
	require.NotNil(t, p.OnChainStatus)
	require.False(t, p.OnChainStatus.ComposeHashAllowed)

	// Central KMS: the same patch applies at once.
	central, _ := seeds(t, s)
	p, err = c.PatchCVM(ctx, central.ID, &phala.PatchCVMRequest{DockerComposeFile: phala.Ptr("services:\n  x: {}\n")})
	require.NoError(t, err)
	require.False(t, p.RequiresOnChainHash)
	require.NotEmpty(t, p.CorrelationID)
}

func TestOnChainEnvsBodyFields(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	_, oc := seeds(t, s)
	key, err := c.GetEnvEncryptPublicKey(ctx, oc.ID, &phala.EnvKeyOptions{ExpectedSigner: s.KMSSigner(), AppID: oc.AppID})
	require.NoError(t, err, "the fake's KMS signature verifies with the SDK")
	require.True(t, key.OnChain)
	require.Equal(t, strings.ToLower(s.KMSSigner()), strings.ToLower(key.Signer))

	envs := []phala.EnvVar{{Key: "FOO", Value: "f"}, {Key: "BAR", Value: "b"}}
	pinned := phala.EnvKeyOptions{ExpectedSigner: s.KMSSigner(), AppID: oc.AppID}
	// Same keys as allowed: no on-chain step.
	res, err := c.EncryptAndUpdateEnvs(ctx, oc.ID, envs[:1], &phala.UpdateEnvsOptions{Key: pinned})
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	require.Equal(t, map[string]string{"FOO": "f"}, s.Envs(oc.ID))
	// New keys: two phases, the values in the body.
	res, err = c.EncryptAndUpdateEnvs(ctx, oc.ID, envs, &phala.UpdateEnvsOptions{Key: pinned})
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	tx := s.RegisterComposeHash(oc.ID, res.ComposeHash)
	res, err = c.EncryptAndUpdateEnvs(ctx, oc.ID, envs, &phala.UpdateEnvsOptions{ComposeHash: res.ComposeHash, TransactionHash: tx, Key: pinned})
	require.NoError(t, err)
	require.True(t, res.AllowedEnvsChanged)
	require.Equal(t, map[string]string{"FOO": "f", "BAR": "b"}, s.Envs(oc.ID))
}

func TestProvisionCommit(t *testing.T) {
	clock := newClock()
	s, c := instantServer(t, phalatest.WithClock(clock.Now))
	ctx := ctxT(t)
	central, oc := seeds(t, s)

	prov, err := c.ProvisionCVMComposeFileUpdate(ctx, central.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  v2: {}\n"})
	require.NoError(t, err)
	require.Equal(t, central.AppID, prov.AppID)
	require.Equal(t, central.DeviceID, prov.DeviceID)
	require.Nil(t, prov.KMSInfo.ChainID)
	require.Empty(t, s.Applied(central.ID), "provisioning changes nothing")

	// Unknown hash: 400.
	err = c.CommitCVMComposeFileUpdate(ctx, central.ID, &phala.CommitComposeUpdateRequest{ComposeHash: strings.Repeat("d", 64)})
	apiError(t, err, http.StatusBadRequest)
	// Within 14 days: applied, with the hash the provision gave.
	clock.Advance(13 * 24 * time.Hour)
	require.NoError(t, c.CommitCVMComposeFileUpdate(ctx, central.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash}))
	ac, h, _ := s.AppCompose(central.ID)
	require.Equal(t, prov.ComposeHash, h)
	require.Equal(t, "services:\n  v2: {}\n", ac["docker_compose_file"])
	// A provision is used once.
	err = c.CommitCVMComposeFileUpdate(ctx, central.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash})
	apiError(t, err, http.StatusBadRequest)

	// Expired after 14 days: 466.
	prov, err = c.ProvisionCVMComposeFileUpdate(ctx, central.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  v3: {}\n"})
	require.NoError(t, err)
	clock.Advance(phalatest.ProvisionExpiry + time.Minute)
	err = c.CommitCVMComposeFileUpdate(ctx, central.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash})
	apiError(t, err, 466)

	// On-chain: the commit waits for the registration (465), then applies.
	prov, err = c.ProvisionCVMComposeFileUpdate(ctx, oc.ID, &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  v4: {}\n"})
	require.NoError(t, err)
	require.False(t, prov.ComposeHashRegistered)
	require.Equal(t, int64(8453), *prov.KMSInfo.ChainID)
	err = c.CommitCVMComposeFileUpdate(ctx, oc.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash})
	apiError(t, err, 465)
	s.RegisterComposeHash(oc.ID, prov.ComposeHash)
	require.NoError(t, c.CommitCVMComposeFileUpdate(ctx, oc.ID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash}))
	_, h, _ = s.AppCompose(oc.ID)
	require.Equal(t, prov.ComposeHash, h)
}

func TestUpdatingAnd409(t *testing.T) {
	clock := newClock()
	s := phalatest.NewTestServer(t, phalatest.WithClock(clock.Now), phalatest.WithUpdateDelay(time.Minute))
	c := noRetry(s)
	ctx := ctxT(t)
	central, _ := seeds(t, s)

	res, err := c.UpdateDockerCompose(ctx, central.ID, "services:\n  a: {}\n", nil)
	require.NoError(t, err)
	info, err := c.GetCVMInfo(ctx, central.ID)
	require.NoError(t, err)
	require.Equal(t, "updating", info.Status)
	require.NotNil(t, info.Progress)
	require.Equal(t, res.CorrelationID, info.Progress.CorrelationID)
	require.NotEmpty(t, info.Progress.Target)
	require.Equal(t, clock.Now().Format(time.RFC3339), info.Progress.StartedAt[:len("2006-01-02T15:04:05")]+"Z")

	// Any mutating call meanwhile: 409 without error_code (retryable).
	for _, call := range []func() error{
		func() error {
			return c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)})
		},
		func() error { _, err := c.UpdatePreLaunchScript(ctx, central.ID, "x", nil); return err },
		func() error {
			_, err := c.UpdateCVMVisibility(ctx, central.ID, &phala.UpdateVisibilityRequest{PublicLogs: phala.Ptr(false), PublicSysinfo: phala.Ptr(false)})
			return err
		},
	} {
		ae := apiError(t, call(), http.StatusConflict)
		require.Empty(t, ae.Code)
		require.True(t, ae.Retryable())
	}
	r := do(t, s, "PATCH", "/cvms/"+central.ID+"/os-image", "application/json", `{"os_image_name":"dstack-0.5.4"}`, nil)
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, map[string]any{"detail": "Another operation is in progress"}, r.body)
	require.Len(t, s.Applied(central.ID), 1)

	clock.Advance(time.Minute)
	info, err = c.GetCVMInfo(ctx, central.ID)
	require.NoError(t, err)
	require.Equal(t, "running", info.Status)
	require.Nil(t, info.Progress)
	require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(2)}))

	// With the real clock the SDK's wait sees the update end (held until
	// the client has seen it running, so the machine's speed cannot matter).
	s2 := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(30*time.Millisecond))
	s2.HoldUpdates()
	c2 := noRetry(s2)
	res, err = c2.UpdateDockerCompose(ctx, central.ID, "services:\n  b: {}\n", nil)
	require.NoError(t, err)
	require.Equal(t, "updating", s2.Status(central.ID))
	st, err := c2.WaitForUpdate(ctx, central.ID, res, &phala.WaitOptions{PollInterval: 10 * time.Millisecond,
		OnEvent: func(st phala.CVMState) {
			if st.Status == "updating" {
				s2.ReleaseUpdates()
			}
		}})
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
}

func TestVisibilityAndOSImage(t *testing.T) {
	s, c := instantServer(t)
	ctx := ctxT(t)
	central, oc := seeds(t, s)
	_, h0, _ := s.AppCompose(central.ID)
	v, err := c.UpdateCVMVisibility(ctx, central.ID, &phala.UpdateVisibilityRequest{PublicTcbinfo: phala.Ptr(true), PublicLogs: phala.Ptr(false)})
	require.NoError(t, err)
	require.Equal(t, phala.CVMVisibility{PublicSysinfo: true, PublicLogs: false, PublicTcbinfo: true}, *v)
	_, h1, _ := s.AppCompose(central.ID)
	require.NotEqual(t, h0, h1, "visibility flags are part of the app-compose")
	// On-chain: applied without a 465 (the spec gives /visibility none).
	_, err = c.UpdateCVMVisibility(ctx, oc.ID, &phala.UpdateVisibilityRequest{PublicTcbinfo: phala.Ptr(true)})
	require.NoError(t, err)

	require.NoError(t, c.UpdateOSImage(ctx, central.ID, &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
	err = c.UpdateOSImage(ctx, central.ID, &phala.UpdateOSImageRequest{OSImageName: "windows-95"})
	ae := apiError(t, err, http.StatusBadRequest)
	require.Equal(t, phala.CodeImageNotFound, ae.Code)
	r := do(t, s, "GET", "/cvms/"+central.ID, "", "", nil)
	require.Equal(t, "dstack-0.5.4", r.body["os"].(map[string]any)["name"])
}
