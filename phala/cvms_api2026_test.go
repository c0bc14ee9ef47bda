package phala_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Equivalents of the official SDKs' tests of the calls added upstream
// (shared/reference/api-2026.md section 3): official Go go/cvms_config_test.go
// @2c295aff (UpdateCVMListed, UpgradePreLaunchScript,
// GetPreLaunchScriptUpgradeStatus), Python
// tests/test_prelaunch_script_upgrade.py @992e13d2 and
// tests/test_update_cvm_resources.py @2c295aff. The facts each test checks
// are named where it checks them.

func TestUpdateCVMListed(t *testing.T) {
	ctx := context.Background()
	for _, listed := range []bool{true, false} {
		h := newHarness(t)
		// Official reference: 200 with the CVM's VM object.
		h.reply("PATCH /cvms/{id}/listed", http.StatusOK, `{"id":4211,"name":"my-app","status":"running"}`)
		require.NoError(t, auditedErr(h.client().UpdateCVMListed(ctx, "my-app", listed)))
		r := h.only()
		// Go cvms_config_test.go: PATCH /cvms/{id}/listed with {"listed": bool}.
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/listed", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		if listed {
			assert.JSONEq(t, `{"listed":true}`, string(r.Body))
		} else {
			assert.JSONEq(t, `{"listed":false}`, string(r.Body), "false is sent, not dropped")
		}
	}
	t.Run("not a JSON object", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("a proxy's page"))
		h.reply("PATCH /cvms/{id}/listed", http.StatusOK, `<html>hi</html>`)
		assert.ErrorIs(t, auditedErr(h.client().UpdateCVMListed(ctx, "my-app", true)), phala.ErrUnexpectedResponse)
	})
	t.Run("against phalatest, in place", func(t *testing.T) {
		srv := phalatest.NewTestServer(t)
		c := auditedFake(srv.Client())
		before, _, _ := srv.AppCompose(phalatest.CentralCVMName)
		require.NoError(t, auditedErr(c.UpdateCVMListed(ctx, phalatest.CentralCVMName, true)))
		info, err := audited(c.GetCVMInfo(ctx, phalatest.CentralCVMName))
		require.NoError(t, err)
		assert.True(t, info.Listed)
		assert.Equal(t, "running", info.Status, "no restart")
		after, _, _ := srv.AppCompose(phalatest.CentralCVMName)
		assert.Equal(t, before, after, "no compose change")
		require.NoError(t, auditedErr(c.UpdateCVMListed(ctx, phalatest.CentralCVMName, false)))
		info, err = audited(c.GetCVMInfo(ctx, phalatest.CentralCVMName))
		require.NoError(t, err)
		assert.False(t, info.Listed)
		assert.Empty(t, srv.SpecViolations())
	})
	t.Run("bad id", func(t *testing.T) {
		h := newHarness(t)
		assert.ErrorIs(t, auditedErr(h.client().UpdateCVMListed(ctx, "", true)), phala.ErrInvalidArgument)
		assert.Equal(t, 0, h.count())
	})
}

func TestGetPreLaunchScriptUpgradeStatus(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	// Python test_prelaunch_script_upgrade.py / JS get_prelaunch_script_upgrade_status.ts:
	// {current_hash|null, latest_official_hash, is_official, is_latest, can_upgrade}.
	h.reply("GET /cvms/a/pre-launch-script/upgrade-status", http.StatusOK,
		`{"current_hash":"aa11","latest_official_hash":"bb22","is_official":true,"is_latest":false,"can_upgrade":true}`)
	h.reply("GET /cvms/b/pre-launch-script/upgrade-status", http.StatusOK,
		`{"current_hash":null,"latest_official_hash":"bb22","is_official":false,"is_latest":false,"can_upgrade":false}`)
	s, err := audited(h.client().GetPreLaunchScriptUpgradeStatus(ctx, "a"))
	require.NoError(t, err)
	assert.Equal(t, &phala.PreLaunchScriptUpgradeStatus{CurrentHash: "aa11", LatestOfficialHash: "bb22",
		IsOfficial: true, CanUpgrade: true}, s)
	assert.Equal(t, http.MethodGet, h.requests()[0].Method)
	s, err = audited(h.client().GetPreLaunchScriptUpgradeStatus(ctx, "b"))
	require.NoError(t, err)
	assert.Equal(t, &phala.PreLaunchScriptUpgradeStatus{LatestOfficialHash: "bb22"}, s, "null current_hash: no script")

	t.Run("a missing can_upgrade is not read as false", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("the field the spec requires is missing"))
		h.reply("GET /cvms/{id}/pre-launch-script/upgrade-status", http.StatusOK,
			`{"current_hash":"aa11","latest_official_hash":"bb22","is_official":true,"is_latest":false}`)
		_, err := audited(h.client().GetPreLaunchScriptUpgradeStatus(ctx, "a"))
		assert.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		assert.ErrorContains(t, err, "can_upgrade")
	})
}

func TestUpgradePreLaunchScript(t *testing.T) {
	ctx := context.Background()
	t.Run("phase 1 accepted", func(t *testing.T) {
		h := newHarness(t)
		h.reply("POST /cvms/{id}/pre-launch-script/upgrade-to-latest-official", http.StatusAccepted, acceptedJSON)
		res, err := audited(h.client().UpgradePreLaunchScript(ctx, "my-app", nil))
		require.NoError(t, err)
		r := h.only()
		// Go cvms_compose.go / JS upgrade_prelaunch_script.ts: POST, no body, no hashes.
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/pre-launch-script/upgrade-to-latest-official", r.EscapedPath)
		assertSDKHeaders(t, r, "")
		assert.Empty(t, r.Body)
		assertNoPhase2Headers(t, r)
		assert.Equal(t, &phala.UpdateResult{Status: phala.StatusInProgress, Message: "CVM update started", CorrelationID: testCorrID}, res)
	})
	t.Run("465 is a result", func(t *testing.T) {
		// Python test_prelaunch_script_upgrade.py: the 465 becomes
		// {status: precondition_required, compose_hash, app_id, device_id, kms_info}.
		h := newHarness(t)
		h.reply("POST /cvms/{id}/pre-launch-script/upgrade-to-latest-official", 465,
			`{"error_code":"ERR-01-005","message":"Compose hash verification required","details":[
				{"field":"compose_hash","value":"`+testHash+`"},{"field":"app_id","value":"`+testAppID+`"},
				{"field":"device_id","value":"`+testDeviceID+`"},
				{"field":"kms_info","value":{"id":"kms_base_prod","chain_id":8453,"k256_pubkey":"0x0334c7"}}]}`)
		res, err := audited(h.client().UpgradePreLaunchScript(ctx, "my-app", nil))
		require.NoError(t, err)
		assert.Empty(t, res.Status)
		assert.True(t, res.RequiresOnChainHash)
		assert.Equal(t, testHash, res.ComposeHash)
		assert.Equal(t, testAppID, res.AppID)
		assert.Equal(t, testDeviceID, res.DeviceID)
		require.NotNil(t, res.KMSInfo)
		assert.Equal(t, int64(8453), *res.KMSInfo.ChainID)
		assert.Equal(t, "0x0334c7", res.KMSInfo.K256PublicKey, "shown as the API gave it")
	})
	t.Run("465 without device_id", func(t *testing.T) {
		// Python test_prelaunch_script_upgrade.py: device_id is "" when the 465 lacks it.
		h := newHarness(t)
		h.reply("POST /cvms/{id}/pre-launch-script/upgrade-to-latest-official", 465,
			`{"error_code":"ERR-01-005","message":"Compose hash verification required","details":[
				{"field":"compose_hash","value":"`+testHash+`"},{"field":"app_id","value":"`+testAppID+`"}]}`)
		res, err := audited(h.client().UpgradePreLaunchScript(ctx, "my-app", nil))
		require.NoError(t, err)
		assert.True(t, res.RequiresOnChainHash)
		assert.Empty(t, res.DeviceID)
		assert.Equal(t, "Compose hash verification required", res.Message)
	})
	t.Run("phase 2 headers", func(t *testing.T) {
		h := newHarness(t)
		h.reply("POST /cvms/{id}/pre-launch-script/upgrade-to-latest-official", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().UpgradePreLaunchScript(ctx, "my-app", &phala.ComposeUpdateOptions{ComposeHash: testHash, TransactionHash: testTx}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, []string{testHash}, r.Header.Values("X-Compose-Hash"))
		assert.Equal(t, []string{testTx}, r.Header.Values("X-Transaction-Hash"))
		assert.Empty(t, r.Body)
	})
	t.Run("half a phase 2 is refused before sending", func(t *testing.T) {
		h := newHarness(t)
		_, err := audited(h.client().UpgradePreLaunchScript(ctx, "my-app", &phala.ComposeUpdateOptions{ComposeHash: testHash}))
		assert.ErrorIs(t, err, phala.ErrInvalidArgument)
		assert.Equal(t, 0, h.count())
	})
	t.Run("against phalatest, both phases", func(t *testing.T) {
		old := phalatest.OfficialPreLaunchScripts()[0]
		srv := phalatest.NewTestServer(t, phalatest.WithoutDefaultCVMs(),
			phalatest.WithCVM(phalatest.CVMSeed{Name: "chain-app", ChainID: 8453, PreLaunchScript: old}))
		c := auditedFake(srv.Client())
		st, err := audited(c.GetPreLaunchScriptUpgradeStatus(ctx, "chain-app"))
		require.NoError(t, err)
		assert.True(t, st.IsOfficial)
		assert.False(t, st.IsLatest)
		assert.True(t, st.CanUpgrade)

		res, err := audited(c.UpgradePreLaunchScript(ctx, "chain-app", nil))
		require.NoError(t, err)
		require.True(t, res.RequiresOnChainHash)
		assert.Equal(t, srv.KMSSigner(), res.KMSInfo.K256PublicKey, "shown from the 465's kms_info")
		tx := srv.RegisterComposeHash("chain-app", res.ComposeHash)
		res, err = audited(c.UpgradePreLaunchScript(ctx, "chain-app", &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: tx}))
		require.NoError(t, err)
		assert.Equal(t, phala.StatusInProgress, res.Status)
		_, err = audited(c.WaitForUpdate(ctx, "chain-app", res, nil))
		require.NoError(t, err)
		ac, _, _ := srv.AppCompose("chain-app")
		latest := phalatest.OfficialPreLaunchScripts()[len(phalatest.OfficialPreLaunchScripts())-1]
		assert.Equal(t, latest, ac["pre_launch_script"])
		st, err = audited(c.GetPreLaunchScriptUpgradeStatus(ctx, "chain-app"))
		require.NoError(t, err)
		assert.True(t, st.IsLatest)
		assert.False(t, st.CanUpgrade)
		res, err = audited(c.UpgradePreLaunchScript(ctx, "chain-app", nil))
		require.NoError(t, err)
		assert.Equal(t, phala.StatusNoChange, res.Status, "already the latest")
		assert.Empty(t, srv.SpecViolations())
	})
}

// TestResizeThroughPatchCVM is the equivalent of Python
// test_update_cvm_resources.py @2c295aff: the official SDKs moved resizing
// to PATCH /cvms/{id} ("migrate resize endpoint across all SDKs", 56638f1);
// PatchCVM sends exactly {"vcpu": 4} and returns the answer's
// correlation_id (mock answer {"message":"queued","correlation_id":"corr-1",
// "status":"in_progress"}).
func TestResizeThroughPatchCVM(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", http.StatusAccepted, `{"message":"queued","correlation_id":"corr-1","status":"in_progress"}`)
	p, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(4)}))
	require.NoError(t, err)
	r := h.only()
	assert.Equal(t, "/api/v1/cvms/my-app", r.EscapedPath)
	assert.JSONEq(t, `{"vcpu":4}`, string(r.Body))
	assert.Equal(t, "corr-1", p.CorrelationID)
	assert.False(t, p.RequiresOnChainHash)
}

// TestCommitComposeFileTransactionHash: Python 0.4.6b4 sends
// transaction_hash on the compose-file commit (cf2d639); optional here.
func TestCommitComposeFileTransactionHash(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}/compose_file", http.StatusAccepted, acceptedJSON)
	c := h.client()
	require.NoError(t, auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, TransactionHash: testTx})))
	require.NoError(t, auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash})))
	reqs := h.requests()
	require.Len(t, reqs, 2)
	assert.JSONEq(t, `{"compose_hash":"`+testHash+`","transaction_hash":"`+testTx+`"}`, string(reqs[0].Body))
	assert.JSONEq(t, `{"compose_hash":"`+testHash+`"}`, string(reqs[1].Body), "absent when not given")
	err := auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, TransactionHash: "0x12"}))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)
	assert.ErrorContains(t, err, "req.TransactionHash")
	assert.Equal(t, 2, h.count())
}

// TestNewerPrepareSupersedesPending: a prepare-only request for a CVM whose
// previous prepared update was never committed supersedes the old commit
// token (phala-docs multisig-governance.mdx @af079833; the commit then
// answers 466), even with the old hash registered on chain.
func TestNewerPrepareSupersedesPending(t *testing.T) {
	ctx := context.Background()
	srv := phalatest.NewTestServer(t)
	c := auditedFake(srv.Client())
	first, err := audited(c.PatchCVM(ctx, phalatest.OnChainCVMName, &phala.PatchCVMRequest{
		DockerComposeFile: phala.String("services:\n  a:\n    image: nginx:1.27\n"), PrepareOnly: true}))
	require.NoError(t, err)
	require.NotEmpty(t, first.CommitToken)
	tx1 := srv.RegisterComposeHash(phalatest.OnChainCVMName, first.ComposeHash)

	second, err := audited(c.PatchCVM(ctx, phalatest.OnChainCVMName, &phala.PatchCVMRequest{
		DockerComposeFile: phala.String("services:\n  b:\n    image: nginx:1.28\n"), PrepareOnly: true}))
	require.NoError(t, err)
	require.NotEqual(t, first.CommitToken, second.CommitToken)

	_, err = audited(c.CommitCVMUpdate(ctx, phalatest.OnChainCVMName, secretToken(first.CommitToken), first.ComposeHash, tx1))
	require.ErrorIs(t, err, phala.ErrComposeHashExpired, "the first token was superseded")
	assert.Empty(t, srv.Applied(phalatest.OnChainCVMName))

	tx2 := srv.RegisterComposeHash(phalatest.OnChainCVMName, second.ComposeHash)
	_, err = audited(c.CommitCVMUpdate(ctx, phalatest.OnChainCVMName, secretToken(second.CommitToken), second.ComposeHash, tx2))
	require.NoError(t, err)
	assert.Len(t, srv.Applied(phalatest.OnChainCVMName), 1)
	assert.Empty(t, srv.SpecViolations())
}

// TestCommitComposeFileTransactionHashAgainstPhalatest: the fake checks a
// given transaction_hash like a phase-2 transaction.
func TestCommitComposeFileTransactionHashAgainstPhalatest(t *testing.T) {
	ctx := context.Background()
	srv := phalatest.NewTestServer(t)
	c := auditedFake(srv.Client())
	p, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, phalatest.OnChainCVMName,
		&phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  a:\n    image: nginx:1.29\n"}))
	require.NoError(t, err)
	tx := srv.RegisterComposeHash(phalatest.OnChainCVMName, p.ComposeHash)
	err = auditedErr(c.CommitCVMComposeFileUpdate(ctx, phalatest.OnChainCVMName, &phala.CommitComposeUpdateRequest{ComposeHash: p.ComposeHash, TransactionHash: testTx}))
	require.ErrorIs(t, err, phala.ErrTransactionVerificationFailed, "another transaction than the registration")
	require.NoError(t, auditedErr(c.CommitCVMComposeFileUpdate(ctx, phalatest.OnChainCVMName, &phala.CommitComposeUpdateRequest{ComposeHash: p.ComposeHash, TransactionHash: tx})))
	assert.Len(t, srv.Applied(phalatest.OnChainCVMName), 1)
	assert.Empty(t, srv.SpecViolations())
}
