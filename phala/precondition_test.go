package phala_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// The three 465 body shapes the API uses.
const (
	// precondDetails opens a structured 465: its code, message, request id
	// and the details every 465 carries, up to the open details list.
	precondDetails = `{
		"error_code": "ERR-01-005",
		"message": "Compose hash must be registered on-chain before this update",
		"request_id": "req_body",
		"details": [
			{"field": "compose_hash", "value": "` + testHash + `"},
			{"field": "app_id", "value": "` + testAppID + `"},
			{"field": "device_id", "value": "` + testDeviceID + `"},
			{"field": "kms_info", "value": {"id": "kms_base_prod", "slug": "base-prod", "url": "https://kms.base.example",
				"version": "v0.5.3", "chain_id": 8453, "kms_contract_address": "0x2f83172a49584c017f2b256f0fb2dca14126ba9c",
				"gateway_app_id": "0x0000000000000000000000000000000000000000"}}`
	precondStructured = precondDetails + `
		],
		"suggestions": ["Call addComposeHash on the app contract"]
	}`
	precondLegacyFlat = `{
		"message": "Compose hash registration required",
		"compose_hash": "` + testHash + `",
		"app_id": "` + testAppID + `",
		"device_id": "` + testDeviceID + `",
		"kms_info": {"id": "kms_base_prod", "slug": "base-prod", "url": "https://kms.base.example", "version": "v0.5.3",
			"chain_id": 8453, "kms_contract_address": "0x2f83172a49584c017f2b256f0fb2dca14126ba9c",
			"gateway_app_id": "0x0000000000000000000000000000000000000000"}
	}`
	precondLegacyWrapped = `{"detail": ` + precondLegacyFlat + `}`
)

func wantKMSInfo() *phala.KMSInfo {
	chain := int64(8453)
	return &phala.KMSInfo{ID: "kms_base_prod", Slug: "base-prod", URL: "https://kms.base.example", Version: "v0.5.3",
		ChainID: &chain, KMSContractAddress: "0x2f83172a49584c017f2b256f0fb2dca14126ba9c",
		GatewayAppID: "0x0000000000000000000000000000000000000000"}
}

var precondShapes = []struct {
	name, body, message, requestID string
}{
	{"structured", precondStructured, "Compose hash must be registered on-chain before this update", "req_body"},
	{"legacy flat", precondLegacyFlat, "Compose hash registration required", "req_header"},
	{"legacy wrapped", precondLegacyWrapped, "Compose hash registration required", "req_header"},
}

// updateCalls are the three methods that return an *UpdateResult, each
// with the route the harness must serve.
var updateCalls = []struct {
	name, pattern string
	call          func(c *phala.Client) (*phala.UpdateResult, error)
}{
	{"UpdateDockerCompose", "PATCH /cvms/{id}/docker-compose", func(c *phala.Client) (*phala.UpdateResult, error) {
		return audited(c.UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
	}},
	{"UpdatePreLaunchScript", "PATCH /cvms/{id}/pre-launch-script", func(c *phala.Client) (*phala.UpdateResult, error) {
		return audited(c.UpdatePreLaunchScript(context.Background(), "my-app", "#!/bin/sh\n", nil))
	}},
	{"UpdateCVMEnvs", "PATCH /cvms/{id}/envs", func(c *phala.Client) (*phala.UpdateResult, error) {
		return audited(c.UpdateCVMEnvs(context.Background(), "my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{"FOO"}}))
	}},
}

func TestPreconditionShapesUpdateMethods(t *testing.T) {
	for _, m := range updateCalls {
		for _, s := range precondShapes {
			t.Run(m.name+"/"+s.name, func(t *testing.T) {
				h := newHarness(t)
				h.reply(m.pattern, 465, s.body, "X-Request-ID", "req_header")
				res, err := m.call(h.client())
				require.NoError(t, err, "a 465 is a result, not an error")
				assert.Equal(t, &phala.UpdateResult{Message: s.message,
					RequiresOnChainHash: true, ComposeHash: testHash, AppID: testAppID, DeviceID: testDeviceID,
					KMSInfo: wantKMSInfo(), RequestID: s.requestID}, res)
				assert.Equal(t, 1, h.count())
			})
		}
	}
}

func TestPreconditionShapesPatchCVM(t *testing.T) {
	commitFields := `"commit_token": "ct_0a1b2c3d",
		"commit_url": "https://cloud.phala.com/commit/ct_0a1b2c3d",
		"api_commit_url": "https://cloud-api.phala.com/api/v1/cvms/my-app/commit-update?token=ct_0a1b2c3d",
		"onchain_status": {"compose_hash_allowed": false, "device_id_allowed": true, "is_allowed": false}`
	bodies := map[string]string{
		"structured":     precondStructured[:len(precondStructured)-2] + ",\n" + commitFields + "}",
		"legacy flat":    precondLegacyFlat[:len(precondLegacyFlat)-2] + ",\n" + commitFields + "}",
		"legacy wrapped": `{"detail": ` + precondLegacyFlat[:len(precondLegacyFlat)-2] + ",\n" + commitFields + "}}",
	}
	for _, s := range precondShapes {
		t.Run(s.name, func(t *testing.T) {
			h := newHarness(t)
			h.reply("PATCH /cvms/{id}", 465, bodies[s.name], "X-Request-ID", "req_header")
			resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{
				DockerComposeFile: phala.String(testCompose), PrepareOnly: true}))
			require.NoError(t, err)
			assert.Equal(t, &phala.PatchCVMResponse{RequiresOnChainHash: true, Message: s.message,
				ComposeHash: testHash, AppID: testAppID, DeviceID: testDeviceID, KMSInfo: wantKMSInfo(),
				CommitToken: "ct_0a1b2c3d", CommitURL: "https://cloud.phala.com/commit/ct_0a1b2c3d",
				APICommitURL:  "https://cloud-api.phala.com/api/v1/cvms/my-app/commit-update?token=ct_0a1b2c3d",
				OnChainStatus: &phala.OnChainStatus{DeviceIDAllowed: true}, RequestID: s.requestID}, resp)
			assert.Equal(t, "true", h.only().Header.Get("X-Prepare-Only"))
		})
	}
	t.Run("without commit fields", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", 465, precondStructured)
		resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
		require.NoError(t, err)
		assert.True(t, resp.RequiresOnChainHash)
		assert.Equal(t, testHash, resp.ComposeHash)
		assert.Empty(t, resp.CommitToken)
		assert.Nil(t, resp.OnChainStatus)
		assert.Empty(t, resp.CorrelationID)
	})
}

// A 465 whose body gives no compose hash leaves the caller nothing to
// register: it must be an error matching ErrComposeHashRequired.
func TestPreconditionWithoutComposeHash(t *testing.T) {
	bodies := map[string]string{
		"structured without the hash": `{"error_code":"ERR-01-005","message":"register first","details":[{"field":"app_id","value":"` + testAppID + `"}]}`,
		"fastapi text":                `{"detail":"Compose hash registration required"}`,
		"hash of the wrong type":      `{"message":"m","details":[{"field":"compose_hash","value":12}]}`,
	}
	calls := map[string]func(c *phala.Client) error{}
	patterns := map[string]string{}
	for _, m := range updateCalls {
		calls[m.name] = func(c *phala.Client) error { _, err := m.call(c); return err }
		patterns[m.name] = m.pattern
	}
	calls["PatchCVM"] = func(c *phala.Client) error {
		_, err := audited(c.PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
		return err
	}
	patterns["PatchCVM"] = "PATCH /cvms/{id}"
	for name, call := range calls {
		for shape, body := range bodies {
			t.Run(name+"/"+shape, func(t *testing.T) {
				h := newHarness(t)
				h.reply(patterns[name], 465, body)
				err := call(h.client())
				require.ErrorIs(t, err, phala.ErrComposeHashRequired)
				var apiErr *phala.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 465, apiErr.StatusCode)
				assert.JSONEq(t, body, string(apiErr.RawBody))
				assert.NotErrorIs(t, err, phala.ErrComposeHashExpired)
			})
		}
	}
}

// 465 is a result only for the methods that may trigger phase 1; the
// confirmation and the commit report it as an error.
func TestPreconditionOnConfirmAndCommitIsAnError(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", 465, precondStructured)
	h.reply("PATCH /cvms/{id}/compose_file", 465, precondLegacyFlat)
	c := h.client()
	_, err := audited(c.ConfirmCVMPatch(context.Background(), "my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
	require.ErrorIs(t, err, phala.ErrComposeHashRequired)
	var apiErr *phala.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, phala.ErrorCode("ERR-01-005"), apiErr.Code)
	raw, ok := apiErr.Detail("compose_hash")
	require.True(t, ok)
	assert.JSONEq(t, `"`+testHash+`"`, string(raw))

	err = auditedErr(c.CommitCVMComposeFileUpdate(context.Background(), "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
	require.ErrorIs(t, err, phala.ErrComposeHashRequired)
}

func TestAcceptedGivesInProgress(t *testing.T) {
	for _, m := range updateCalls {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t)
			h.reply(m.pattern, http.StatusAccepted, acceptedJSON)
			res, err := m.call(h.client())
			require.NoError(t, err)
			assert.Equal(t, phala.StatusInProgress, res.Status)
			assert.Equal(t, testCorrID, res.CorrelationID)
			assert.False(t, res.RequiresOnChainHash)
			assert.Empty(t, res.ComposeHash)
		})
	}
	t.Run("PatchCVM", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", http.StatusAccepted, `{"correlation_id":"`+testCorrID+`"}`)
		resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{Listed: phala.Bool(true)}))
		require.NoError(t, err)
		assert.Equal(t, &phala.PatchCVMResponse{Status: phala.StatusInProgress, CorrelationID: testCorrID}, resp)
	})
}
