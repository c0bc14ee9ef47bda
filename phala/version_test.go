package phala_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// legacyCentralJSON is a 2025-10-28 detail (official CvmBasicInfo, the shape
// @phala/cloud 0.2.9 parses with CvmDetailV20251028Schema): integer id, flat
// resources with memory in MB, the env key at top level.
const legacyCentralJSON = `{
	"id": 4211, "name": "my-app", "status": "running", "in_progress": false,
	"teepod_id": 8, "teepod": {"id": 8, "name": "prod5"},
	"app_id": "` + testAppID + `", "vm_uuid": "0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a",
	"instance_id": "instance_2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
	"vcpu": 2, "memory": 4096, "disk_size": 40, "base_image": "dstack-0.5.3",
	"encrypted_env_pubkey": "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13",
	"listed": true, "project_id": null, "project_type": null, "instance_type": "tdx.medium",
	"public_sysinfo": true, "public_logs": false, "dapp_dashboard_url": null, "syslog_endpoint": null,
	"kms_info": null, "contract_address": null, "deployer_address": null, "scheduled_delete_at": null,
	"public_urls": [{"app": "https://x.example", "instance": "https://y.example"}], "gateway_domain": "dstack-prod5.phala.network"
}`

// legacyOnChainJSON is the same shape for a CVM on the Base KMS, while an
// operation runs and with a memory size that is not a whole GB.
const legacyOnChainJSON = `{
	"id": 77, "name": "chain-app", "status": "updating", "in_progress": true,
	"app_id": "` + testAppID + `", "vcpu": 4, "memory": 1536, "disk_size": 20,
	"encrypted_env_pubkey": null,
	"kms_info": {"id": "kms_base_prod", "slug": "base-prod", "url": "https://kms.base.example", "version": "v0.5.3",
		"chain_id": 8453, "kms_contract_address": "0x2f83", "gateway_app_id": "0xgw"},
	"contract_address": "0x` + testAppID + `", "deployer_address": "0xdead"
}`

func TestGetCVMInfoLegacyShape(t *testing.T) {
	ctx := context.Background()
	t.Run("central KMS", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, legacyCentralJSON)
		info, err := audited(h.client(phala.WithAPIVersion(phala.APIVersion20251028)).GetCVMInfo(ctx, "my-app"))
		require.NoError(t, err)
		assert.Equal(t, &phala.CVMInfo{ID: "4211", Name: "my-app", AppID: testAppID,
			VMUUID: "0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a", InstanceID: "instance_2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
			Status:        "running",
			KMSInfo:       &phala.KMSInfo{EncryptedEnvPublicKey: "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"},
			PublicSysinfo: true, Listed: true,
			VCPU: 2, MemoryMB: 4096, MemoryGB: 4, DiskGB: 40, InstanceType: "tdx.medium"}, info)
		assert.Equal(t, []string{"2025-10-28"}, h.only().Header.Values("X-Phala-Version"))
	})
	t.Run("on-chain KMS", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, legacyOnChainJSON)
		info, err := audited(h.client(phala.WithAPIVersion(phala.APIVersion20251028)).GetCVMInfo(ctx, "chain-app"))
		require.NoError(t, err)
		chain := int64(8453)
		assert.Equal(t, &phala.KMSInfo{ChainID: &chain, ID: "kms_base_prod", Slug: "base-prod", KMSContractAddress: "0x2f83",
			DstackAppAddress: "0x" + testAppID, DeployerAddress: "0xdead"}, info.KMSInfo)
		assert.True(t, info.KMSInfo.OnChain())
		assert.True(t, info.InProgress)
		assert.Nil(t, info.Progress, "the legacy shape has no progress object")
		assert.Equal(t, 1536, info.MemoryMB, "MB as the API gives them")
		assert.Equal(t, 1.5, info.MemoryGB)
	})
	t.Run("the shape is recognised whatever the version", func(t *testing.T) {
		// A server that answers the other version's shape still decodes: the
		// type of id tells them apart.
		for _, v := range phala.SupportedAPIVersions() {
			h := newHarness(t)
			h.reply("GET /cvms/a", http.StatusOK, legacyCentralJSON)
			h.reply("GET /cvms/b", http.StatusOK, `{"id":"cvm_kq3Zp8","name":"my-app","status":"running","resource":{"memory_in_gb":4}}`)
			c := h.client(phala.WithAPIVersion(v))
			a, err := audited(c.GetCVMInfo(ctx, "a"))
			require.NoError(t, err, v)
			b, err := audited(c.GetCVMInfo(ctx, "b"))
			require.NoError(t, err, v)
			assert.Equal(t, "4211", a.ID, v)
			assert.Equal(t, "cvm_kq3Zp8", b.ID, v)
			assert.Equal(t, a.MemoryMB, b.MemoryMB, v)
		}
	})
	t.Run("visibility with one flag under 2025-10-28", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, legacyCentralJSON)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, `{"id":4211,"name":"my-app","status":"running","teepod_id":8,"app_id":"`+testAppID+`","vcpu":2,"memory":4096,"disk_size":40,"created_at":"2026-03-01T09:30:00Z"}`)
		v, err := audited(h.client(phala.WithAPIVersion(phala.APIVersion20251028)).UpdateCVMVisibility(ctx, "my-app",
			&phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true), PublicTcbinfo: phala.Bool(true)}))
		require.NoError(t, err)
		reqs := h.requests()
		require.Len(t, reqs, 2)
		assert.JSONEq(t, `{"public_sysinfo":true,"public_logs":true,"public_tcbinfo":true}`, string(reqs[1].Body))
		assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: true, PublicLogs: true, PublicTcbinfo: true}, v)
	})
	t.Run("env key under 2025-10-28", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, legacyCentralJSON)
		k, err := audited(h.client(phala.WithAPIVersion(phala.APIVersion20251028)).GetEnvEncryptPublicKey(ctx, "my-app", nil))
		require.NoError(t, err)
		assert.Equal(t, "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13", k.PublicKey)
		assert.Equal(t, testAppID, k.AppID)
	})
}

func TestNewClientRefusesUnsupportedAPIVersion(t *testing.T) {
	for _, v := range phala.SupportedAPIVersions() {
		_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithAPIVersion(v)))
		require.NoError(t, err, v)
	}
	assert.Equal(t, []string{"2025-10-28", "2026-01-21", "2026-05-22", "2026-06-23"}, phala.SupportedAPIVersions())
	assert.Contains(t, phala.SupportedAPIVersions(), phala.DefaultAPIVersion)
	// 2026-11-11 exists (python phala-cloud 0.4.5 defaults to it) but its
	// CVM shapes are unknown: refused with the supported list.
	for _, v := range []string{"2025-05-31", "2026-11-11", "2026-01-22", "1999-01-01"} {
		h := newHarness(t)
		_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(h.baseURL()), phala.WithAPIVersion(v)))
		require.ErrorIs(t, err, phala.ErrUnsupportedAPIVersion, v)
		require.ErrorIs(t, err, phala.ErrInvalidArgument, v)
		var ue *phala.UnsupportedAPIVersionError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, v, ue.Version)
		var ia *phala.InvalidArgumentError
		require.ErrorAs(t, err, &ia)
		assert.Equal(t, "WithAPIVersion", ia.Field)
		assert.Contains(t, err.Error(), v)
		assert.Contains(t, err.Error(), "2025-10-28, 2026-01-21, 2026-05-22, 2026-06-23")
		assert.Equal(t, 0, h.count())
	}
}

// TestAPIVersion20260623 covers the default version: the newest supported
// one (official Go SDK v0.2.0 go/version.go and @phala/cloud client.ts
// default to it), whose CVM detail is the 2026-05-22 shape (Python
// full_client _model_for_response @01ee3fd2 picks the V20260522 models for
// it), with the KMS public-key call still sent as 2026-05-22, as all three
// official SDKs pin it (api-2026.md, section 2.1).
func TestAPIVersion20260623(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, phala.APIVersion20260623, phala.DefaultAPIVersion)
	assert.Equal(t, phala.DefaultAPIVersion, phala.SupportedAPIVersions()[len(phala.SupportedAPIVersions())-1], "the newest is the default")

	srv := phalatest.NewTestServer(t)
	anchor, err := audited(phala.PinnedSigner(srv.KMSSigner()))
	require.NoError(t, err)
	c := auditedFake(srv.Client(phala.WithKeyAnchor(anchor)))
	info, err := audited(c.GetCVMInfo(ctx, phalatest.OnChainCVMName))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(info.ID, "cvm_"), "the 2026-05-22 detail shape: %s", info.ID)
	assert.Equal(t, 8453, int(*info.KMSInfo.ChainID))
	_, err = audited(c.GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, &phala.EnvKeyOptions{AppID: info.AppID}))
	require.NoError(t, err)
	versions := map[string]string{}
	for _, r := range srv.Requests() {
		versions[r.Operation] = r.Header.Get("X-Phala-Version")
	}
	assert.Equal(t, "2026-06-23", versions["getCVMInfo"])
	assert.Equal(t, "2026-05-22", versions["getKMSEnvEncryptPublicKey"], "the node-keyed KMS call stays on 2026-05-22")
	assert.Empty(t, srv.SpecViolations())
}

// TestK256PubkeyShownNeverTrusted: kms_info.k256_pubkey (official Go
// CvmKmsInfo and Python models, api-2026.md section 2.4) is decoded and
// shown, but a key signed by another KMS root is still refused: the
// detail's k256_pubkey is the API's word, and only the caller's anchor
// decides.
func TestK256PubkeyShownNeverTrusted(t *testing.T) {
	ctx := context.Background()
	srv := phalatest.NewTestServer(t)
	info, err := audited(auditedFake(srv.Client()).GetCVMInfo(ctx, phalatest.OnChainCVMName))
	require.NoError(t, err)
	assert.Equal(t, srv.KMSSigner(), info.KMSInfo.K256PublicKey)

	// A pinned signer other than the one the API shows: refused, although
	// the detail names the actual signer as k256_pubkey.
	other, err := audited(phala.PinnedSigner("0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")) // secp256k1 G
	require.NoError(t, err)
	_, err = audited(auditedFake(srv.Client(phala.WithKeyAnchor(other))).GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, nil))
	assert.ErrorIs(t, err, phala.ErrKeyVerification)
	// No anchor at all: refused, k256_pubkey is not a fallback.
	_, err = audited(auditedFake(srv.Client()).GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, nil))
	assert.ErrorIs(t, err, phala.ErrKeyVerification)

	t.Run("decoded from the detail", func(t *testing.T) {
		h := newHarness(t)
		body := `{"id":"cvm_x","name":"chain-app","status":"running","kms_info":{"chain_id":8453,"k256_pubkey":"0x0334c7"}}`
		h.reply("GET /cvms/a", http.StatusOK, body)
		// The same detail with repeated unknown keys decodes alike.
		h.reply("GET /cvms/b", http.StatusOK, strings.Replace(body, `"status"`, `"x":1,"x":2,"status"`, 1))
		for _, id := range []string{"a", "b"} {
			info, err := audited(h.client().GetCVMInfo(ctx, id))
			require.NoError(t, err)
			assert.Equal(t, "0x0334c7", info.KMSInfo.K256PublicKey, id)
		}
	})
}
