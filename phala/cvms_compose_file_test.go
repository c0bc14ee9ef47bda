package phala_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// TestProvisionKeepsEverySpecKey checks that a provision, which overlays
// the caller's changes on the current app-compose, carries over every key
// of the spec's AppCompose schema that the caller did not change: a key
// that gen types but the overlay forgets would silently vanish from the
// new document (and change its compose hash).
func TestProvisionKeepsEverySpecKey(t *testing.T) {
	schema := loadSpec(t).Components.Schemas["AppCompose"].Value
	current := map[string]any{}
	for k, p := range schema.Properties {
		switch {
		case k == "runner":
			current[k] = "docker-compose"
		case p.Value.Type.Is("string"):
			current[k] = "v-" + k
		case p.Value.Type.Is("boolean"):
			current[k] = true
		case p.Value.Type.Is("integer"):
			current[k] = 2.0 // float64, as json.Unmarshal gives it back
		case p.Value.Type.Is("array"):
			current[k] = []any{"V_" + k}
		default:
			t.Fatalf("property %s: no sample value for type %v", k, p.Value.Type)
		}
	}
	current["x_vendor"] = "keep-me"
	body, err := json.Marshal(current)
	require.NoError(t, err)

	h := newHarness(t)
	h.reply("GET /cvms/{id}/compose_file", http.StatusOK, string(body))
	h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"compose_hash":"`+testHash+`"}`)
	newCompose := "services:\n  app:\n    image: nginx:1.27\n"
	_, err = audited(h.client().ProvisionCVMComposeFileUpdate(t.Context(), "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: newCompose}))
	require.NoError(t, err)

	reqs := h.requests()
	require.Len(t, reqs, 2)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[1].Body, &sent))
	want := current
	want["docker_compose_file"] = newCompose
	for k, v := range want {
		assert.Equal(t, v, sent[k], "key %s", k)
	}
}

// currentAppCompose has fields the SDK's types do not know (custom,
// x_vendor); the provision request must carry them on.
const currentAppCompose = `{
	"name": "demo",
	"runner": "docker-compose",
	"docker_compose_file": "services:\n  app:\n    image: nginx:1.25\n",
	"pre_launch_script": "#!/bin/sh\nold\n",
	"allowed_envs": ["FOO"],
	"features": ["kms", "tproxy-net"],
	"manifest_version": 2,
	"kms_enabled": true,
	"gateway_enabled": true,
	"public_logs": true,
	"public_sysinfo": true,
	"public_tcbinfo": false,
	"secure_time": false,
	"storage_fs": "zfs",
	"salt": "c2FsdA",
	"custom": {"nested": [1, 2, {"deep": true}]},
	"x_vendor": "keep-me"
}`

func TestProvisionCVMComposeFileUpdate(t *testing.T) {
	ctx := context.Background()
	t.Run("overlay on the current app-compose", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
		h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{
			"app_id": "`+testAppID+`", "device_id": "`+testDeviceID+`", "compose_hash": "`+testHash+`",
			"kms_info": {"id": "kms_base_prod", "slug": "base-prod", "url": "https://kms.base.example", "version": "v0.5.3",
				"chain_id": 8453, "kms_contract_address": "0x2f83172a49584c017f2b256f0fb2dca14126ba9c", "gateway_app_id": "0xabc"},
			"compose_hash_registered": true}`)
		newCompose := "services:\n  app:\n    image: nginx:1.27\n"
		resp, err := audited(h.client().ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{
			DockerComposeFile: newCompose, AllowedEnvs: []string{"FOO", "BAR"}, PublicLogs: phala.Bool(false),
			SecureTime: phala.Bool(true), UpdateEnvVars: phala.Bool(true)}))
		require.NoError(t, err)

		reqs := h.requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, http.MethodGet, reqs[0].Method)
		assert.Equal(t, "/api/v1/cvms/my-app/compose_file", reqs[0].EscapedPath)
		assertSDKHeaders(t, reqs[0], "")
		assert.Equal(t, http.MethodPost, reqs[1].Method)
		assert.Equal(t, "/api/v1/cvms/my-app/compose_file/provision", reqs[1].EscapedPath)
		assertSDKHeaders(t, reqs[1], "application/json")
		assert.JSONEq(t, `{
			"name": "demo",
			"runner": "docker-compose",
			"docker_compose_file": "services:\n  app:\n    image: nginx:1.27\n",
			"pre_launch_script": "#!/bin/sh\nold\n",
			"allowed_envs": ["FOO", "BAR"],
			"features": ["kms", "tproxy-net"],
			"manifest_version": 2,
			"kms_enabled": true,
			"gateway_enabled": true,
			"public_logs": false,
			"public_sysinfo": true,
			"public_tcbinfo": false,
			"secure_time": true,
			"storage_fs": "zfs",
			"salt": "c2FsdA",
			"custom": {"nested": [1, 2, {"deep": true}]},
			"x_vendor": "keep-me",
			"update_env_vars": true
		}`, string(reqs[1].Body))

		chain := int64(8453)
		assert.False(t, resp.ComposeHashMatchesSent, "testHash is no document's hash")
		assert.Equal(t, &phala.ProvisionCVMResponse{ComposeHash: testHash, SentComposeHash: sentHash(t, reqs[1].Body), AppID: testAppID, DeviceID: testDeviceID,
			ComposeHashRegistered: true, KMSInfo: &phala.KMSInfo{ID: "kms_base_prod", Slug: "base-prod",
				URL: "https://kms.base.example", Version: "v0.5.3", ChainID: &chain,
				KMSContractAddress: "0x2f83172a49584c017f2b256f0fb2dca14126ba9c", GatewayAppID: "0xabc"}}, resp)
	})
	t.Run("rename and script only; compose kept", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
		h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"compose_hash":"`+testHash+`","kms_info":null}`)
		resp, err := audited(h.client().ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{
			Name: phala.String("demo2"), PreLaunchScript: phala.String("")}))
		require.NoError(t, err)
		body := h.requests()[1].JSON(t)
		assert.Equal(t, "demo2", body["name"])
		assert.Equal(t, "", body["pre_launch_script"])
		assert.Equal(t, "services:\n  app:\n    image: nginx:1.25\n", body["docker_compose_file"])
		assert.Equal(t, "keep-me", body["x_vendor"])
		assert.NotContains(t, body, "update_env_vars")
		assert.Equal(t, &phala.ProvisionCVMResponse{ComposeHash: testHash, SentComposeHash: sentHash(t, h.requests()[1].Body)}, resp)
	})
	t.Run("the read fails: nothing is provisioned", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}/compose_file", http.StatusForbidden, `{"error_code":"ERR-03-005","message":"Access denied"}`)
		_, err := audited(h.client().ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
		require.ErrorIs(t, err, phala.ErrForbidden)
		require.Equal(t, 1, h.count())
	})
	t.Run("an answer without a compose hash is an error", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("the spec requires compose_hash; this answer lacks it on purpose"))
		h.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
		h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"app_id":"`+testAppID+`"}`)
		_, err := audited(h.client().ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
		require.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		var ue *phala.UnexpectedResponseError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, http.StatusOK, ue.StatusCode)
	})
}

func TestCommitCVMComposeFileUpdate(t *testing.T) {
	ctx := context.Background()
	t.Run("hash only", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/compose_file", http.StatusAccepted, acceptedJSON)
		require.NoError(t, auditedErr(h.client().CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash})))
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/compose_file", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		assertNoPhase2Headers(t, r)
		assert.JSONEq(t, `{"compose_hash":"`+testHash+`"}`, string(r.Body))
	})
	t.Run("with env", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/compose_file", http.StatusAccepted, acceptedJSON)
		require.NoError(t, auditedErr(h.client().CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{
			ComposeHash: testHash, EncryptedEnv: encHex, EnvKeys: []string{"FOO"}, UpdateEnvVars: phala.Bool(false)})))
		assert.JSONEq(t, `{"compose_hash":"`+testHash+`","encrypted_env":"`+encHex+`","env_keys":["FOO"],"update_env_vars":false}`,
			string(h.only().Body))
	})
	t.Run("expired provision", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/compose_file", phala.HTTPStatusComposeHashExpired,
			`{"error_code":"ERR-01-006","message":"Compose hash is invalid or expired"}`)
		err := auditedErr(h.client().CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
		require.ErrorIs(t, err, phala.ErrComposeHashExpired)
	})
}

// sentHash is the dump-form hash of a provision body without its request
// option update_env_vars: the app-compose the SDK sent.
func sentHash(t *testing.T, body []byte) string {
	t.Helper()
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &doc))
	delete(doc, "update_env_vars")
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	h, err := audited(phala.DumpAppComposeHash(b))
	require.NoError(t, err)
	return h
}
