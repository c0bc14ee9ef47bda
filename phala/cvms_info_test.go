package phala_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

func TestGetCVMInfo(t *testing.T) {
	ctx := context.Background()
	t.Run("central KMS", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, `{
			"id": "cvm_kq3Zp8", "name": "my-app", "app_id": "`+testAppID+`",
			"vm_uuid": "0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a",
			"instance_id": "instance_2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
			"resource": {"instance_type": "tdx.medium", "vcpu": 2, "memory_in_gb": 4, "disk_in_gb": 40},
			"kms_type": "phala",
			"kms_info": {"chain_id": null, "encrypted_env_pubkey": "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"},
			"status": "running", "progress": null,
			"compose_hash": "`+testHash+`",
			"gateway": {"base_domain": "dstack-prod5.phala.network", "cname": null},
			"public_logs": true, "public_sysinfo": true, "public_tcbinfo": false,
			"gateway_enabled": true, "secure_time": true, "listed": true, "storage_fs": "zfs",
			"unknown_future_field": {"a": 1}
		}`)
		info, err := audited(h.client().GetCVMInfo(ctx, "my-app"))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app", r.EscapedPath)
		assertSDKHeaders(t, r, "")
		assert.Empty(t, r.Body)
		assert.Equal(t, &phala.CVMInfo{ID: "cvm_kq3Zp8", Name: "my-app", AppID: testAppID,
			VMUUID: "0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a", InstanceID: "instance_2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
			Status: "running", KMSType: "phala",
			KMSInfo:     &phala.KMSInfo{EncryptedEnvPublicKey: "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"},
			ComposeHash: testHash, PublicLogs: true, PublicSysinfo: true, SecureTime: true, Listed: true,
			VCPU: 2, MemoryMB: 4096, MemoryGB: 4, DiskGB: 40, InstanceType: "tdx.medium"}, info)
		assert.False(t, info.KMSInfo.OnChain())
	})
	t.Run("on-chain KMS with progress", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, `{
			"id": "cvm_x", "name": "chain-app", "status": "updating",
			"progress": {"target": "update", "started_at": "2026-03-01T09:30:00Z", "correlation_id": "`+testCorrID+`"},
			"kms_type": "base",
			"kms_info": {"chain_id": 8453, "id": "kms_base_prod", "slug": "base-prod",
				"dstack_kms_address": "0x2f83", "dstack_app_address": "0x`+testAppID+`",
				"deployer_address": "0xdead", "rpc_endpoint": "https://rpc.example"},
			"resource": {"memory_in_gb": 1.5}
		}`)
		info, err := audited(h.client().GetCVMInfo(ctx, "cvm_x"))
		require.NoError(t, err)
		chain := int64(8453)
		assert.Equal(t, &phala.CVMProgress{Target: "update", StartedAt: "2026-03-01T09:30:00Z", CorrelationID: testCorrID}, info.Progress)
		assert.Equal(t, &phala.KMSInfo{ChainID: &chain, ID: "kms_base_prod", Slug: "base-prod", KMSContractAddress: "0x2f83",
			DstackAppAddress: "0x" + testAppID, DeployerAddress: "0xdead", RPCEndpoint: "https://rpc.example"}, info.KMSInfo)
		assert.True(t, info.KMSInfo.OnChain())
		assert.Equal(t, 1.5, info.MemoryGB, "memory_in_gb is a number in the spec; a fraction must survive")
		assert.Equal(t, 1536, info.MemoryMB, "converted once, 1 GB = 1024 MB")
		assert.True(t, info.InProgress)
	})
	t.Run("a success body that is not JSON", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("the body is deliberately not the declared JSON"))
		h.handle("GET /cvms/{id}", replyFunc(http.StatusOK, "text/html", "<html>login</html>"))
		_, err := audited(h.client().GetCVMInfo(ctx, "my-app"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "200")
		assert.Contains(t, err.Error(), "<html>login</html>")
	})
}
