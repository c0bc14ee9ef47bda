package phala_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// assertSDKHeaders checks the headers every request carries, and the
// content type (none when contentType is "").
func assertSDKHeaders(t *testing.T, r recorded, contentType string) {
	t.Helper()
	assert.Equal(t, testAPIKey, r.Header.Get("X-API-Key"), "X-API-Key")
	assert.Equal(t, phala.DefaultAPIVersion, r.Header.Get("X-Phala-Version"), "X-Phala-Version")
	assert.True(t, strings.HasPrefix(r.Header.Get("User-Agent"), "phala-go-sdk/0.1.0"), "User-Agent %q", r.Header.Get("User-Agent"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"), "Accept")
	assert.Equal(t, contentType, r.Header.Get("Content-Type"), "Content-Type")
}

// assertNoPhase2Headers checks that no on-chain header was sent.
func assertNoPhase2Headers(t *testing.T, r recorded) {
	t.Helper()
	for _, h := range []string{"X-Compose-Hash", "X-Transaction-Hash", "X-Prepare-Only"} {
		assert.Empty(t, r.Header.Values(h), h)
	}
}

func TestUpdateDockerCompose(t *testing.T) {
	ctx := context.Background()
	t.Run("phase 1", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/docker-compose", http.StatusAccepted, acceptedJSON, "X-Request-ID", "req_1")
		res, err := audited(h.client().UpdateDockerCompose(ctx, "my-app", testCompose, nil))
		require.NoError(t, err)

		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/docker-compose", r.EscapedPath)
		assert.Empty(t, r.RawQuery)
		assertSDKHeaders(t, r, "text/yaml")
		assertNoPhase2Headers(t, r)
		assert.Equal(t, testCompose, string(r.Body))

		assert.Equal(t, &phala.UpdateResult{Status: phala.StatusInProgress, Message: "CVM update started",
			CorrelationID: testCorrID, RequestID: "req_1"}, res)
	})
	t.Run("phase 2 headers", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/docker-compose", http.StatusAccepted, acceptedJSON)
		res, err := audited(h.client().UpdateDockerCompose(ctx, "my-app", testCompose,
			&phala.ComposeUpdateOptions{ComposeHash: testHash, TransactionHash: testTx}))
		require.NoError(t, err)
		r := h.only()
		assertSDKHeaders(t, r, "text/yaml")
		assert.Equal(t, []string{testHash}, r.Header.Values("X-Compose-Hash"))
		assert.Equal(t, []string{testTx}, r.Header.Values("X-Transaction-Hash"))
		assert.Empty(t, r.Header.Values("X-Prepare-Only"))
		assert.Equal(t, testCompose, string(r.Body))
		assert.Equal(t, phala.StatusInProgress, res.Status)
		assert.False(t, res.RequiresOnChainHash)
	})
	t.Run("empty options send no phase 2 headers", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/docker-compose", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().UpdateDockerCompose(ctx, "my-app", testCompose, &phala.ComposeUpdateOptions{}))
		require.NoError(t, err)
		assertNoPhase2Headers(t, h.only())
	})
}

func TestUpdatePreLaunchScript(t *testing.T) {
	ctx := context.Background()
	script := "#!/bin/sh\necho 'Pre-launch setup complete'"
	t.Run("phase 1", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/pre-launch-script", http.StatusAccepted, acceptedJSON)
		res, err := audited(h.client().UpdatePreLaunchScript(ctx, "my-app", script, nil))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/pre-launch-script", r.EscapedPath)
		assertSDKHeaders(t, r, "text/plain")
		assertNoPhase2Headers(t, r)
		assert.Equal(t, script, string(r.Body))
		assert.Equal(t, &phala.UpdateResult{Status: phala.StatusInProgress, Message: "CVM update started", CorrelationID: testCorrID}, res)
	})
	t.Run("phase 2 headers", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/pre-launch-script", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().UpdatePreLaunchScript(ctx, "my-app", script,
			&phala.ComposeUpdateOptions{ComposeHash: "0x" + testHash, TransactionHash: testTx}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, "0x"+testHash, r.Header.Get("X-Compose-Hash"))
		assert.Equal(t, testTx, r.Header.Get("X-Transaction-Hash"))
		assert.Equal(t, script, string(r.Body))
	})
}

func TestUpdateCVMResources(t *testing.T) {
	ctx := context.Background()
	t.Run("all fields", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/resources", http.StatusAccepted, acceptedJSON)
		err := auditedErr(h.client().UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{
			VCPU: phala.Int(4), Memory: phala.Int(8192), DiskSize: phala.Int(50),
			InstanceType: phala.String("tdx.large"), AllowRestart: phala.Bool(true),
		}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/resources", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		assertNoPhase2Headers(t, r)
		assert.JSONEq(t, `{"vcpu":4,"memory":8192,"disk_size":50,"instance_type":"tdx.large","allow_restart":true}`, string(r.Body))
	})
	t.Run("unset fields are omitted, false is sent", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/resources", http.StatusAccepted, acceptedJSON)
		err := auditedErr(h.client().UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{
			Memory: phala.Int(2048), AllowRestart: phala.Bool(false)}))
		require.NoError(t, err)
		assert.JSONEq(t, `{"memory":2048,"allow_restart":false}`, string(h.only().Body))
	})
	t.Run("an undeclared status is an error", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("201 is not declared for /resources; the SDK must refuse it"))
		h.reply("PATCH /cvms/{id}/resources", http.StatusCreated, `{}`)
		err := auditedErr(h.client().UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1)}))
		var apiErr *phala.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusCreated, apiErr.StatusCode)
	})
}

const visibilityJSON = `{"id":4211,"name":"my-app","status":"running","public_sysinfo":true,"public_logs":false,"public_tcbinfo":true}`

func TestUpdateCVMVisibility(t *testing.T) {
	ctx := context.Background()
	t.Run("both required flags given: one request", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, visibilityJSON)
		v, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
			PublicSysinfo: phala.Bool(true), PublicLogs: phala.Bool(false), PublicTcbinfo: phala.Bool(true)}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/visibility", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		assert.JSONEq(t, `{"public_sysinfo":true,"public_logs":false,"public_tcbinfo":true}`, string(r.Body))
		assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: true, PublicLogs: false, PublicTcbinfo: true}, v)
	})
	t.Run("one flag: the other is read from the CVM", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_kq3Zp8","name":"my-app","status":"running","public_logs":true,"public_sysinfo":false,"public_tcbinfo":false}`)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, `{"id":4211,"name":"my-app","status":"running","public_sysinfo":true,"public_logs":true}`)
		v, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{PublicSysinfo: phala.Bool(true)}))
		require.NoError(t, err)
		reqs := h.requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, http.MethodGet, reqs[0].Method)
		assert.Equal(t, "/api/v1/cvms/my-app", reqs[0].EscapedPath)
		assertSDKHeaders(t, reqs[0], "")
		assert.Empty(t, reqs[0].Body)
		assert.Equal(t, http.MethodPatch, reqs[1].Method)
		assert.Equal(t, "/api/v1/cvms/my-app/visibility", reqs[1].EscapedPath)
		// public_logs comes from the GET (true); public_tcbinfo stays unset.
		assert.JSONEq(t, `{"public_sysinfo":true,"public_logs":true}`, string(reqs[1].Body))
		// The answer lacks public_tcbinfo: the detail read before says false.
		assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: true, PublicLogs: true}, v)
	})
	t.Run("only tcbinfo: both others are read", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_kq3Zp8","name":"my-app","status":"running","public_logs":false,"public_sysinfo":true}`)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, visibilityJSON)
		_, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{PublicTcbinfo: phala.Bool(false)}))
		require.NoError(t, err)
		reqs := h.requests()
		require.Len(t, reqs, 2)
		assert.JSONEq(t, `{"public_sysinfo":true,"public_logs":false,"public_tcbinfo":false}`, string(reqs[1].Body))
	})
	t.Run("an answer in the official VM shape: the flags sent are returned", func(t *testing.T) {
		// The official VM schema has no public_* flags, and an id of a type
		// the SDK does not expect must not fail a change that was applied.
		for _, answer := range []string{
			`{"id":4211,"name":"my-app","status":"running","teepod_id":8,"app_id":"` + testAppID + `","vcpu":2,"memory":4096,"disk_size":40,"created_at":"2026-03-01T09:30:00Z"}`,
			`{"id":"cvm_kq3Zp8","name":"my-app","status":"running"}`,
			`{}`,
			`{"id":{"weird":[1]},"vcpu":"two","public_logs":null,"public_sysinfo":"yes"}`,
		} {
			h := newHarness(t)
			if strings.Contains(answer, "weird") {
				h = newHarness(t, withoutResponseValidation("fields of types no schema allows, on purpose"))
			}
			h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, answer)
			v, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
				PublicSysinfo: phala.Bool(true), PublicLogs: phala.Bool(true), PublicTcbinfo: phala.Bool(true)}))
			require.NoError(t, err, answer)
			assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: true, PublicLogs: true, PublicTcbinfo: true}, v, answer)
			assert.Equal(t, 1, h.count(), answer)
		}
	})
	t.Run("tcbinfo neither sent nor answered: read back from the detail", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, `{"id":4211,"name":"my-app","status":"running"}`)
		h.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_kq3Zp8","name":"my-app","status":"running","public_logs":false,"public_sysinfo":true,"public_tcbinfo":true}`)
		v, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
			PublicSysinfo: phala.Bool(true), PublicLogs: phala.Bool(false)}))
		require.NoError(t, err)
		assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: true, PublicLogs: false, PublicTcbinfo: true}, v)
		reqs := h.requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, http.MethodPatch, reqs[0].Method)
		assert.Equal(t, http.MethodGet, reqs[1].Method)
	})
	t.Run("the answer's flags win over the values sent", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/visibility", http.StatusOK, `{"id":4211,"name":"my-app","status":"running","public_sysinfo":false,"public_logs":true,"public_tcbinfo":false}`)
		v, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
			PublicSysinfo: phala.Bool(true), PublicLogs: phala.Bool(false), PublicTcbinfo: phala.Bool(true)}))
		require.NoError(t, err)
		assert.Equal(t, &phala.CVMVisibility{PublicSysinfo: false, PublicLogs: true, PublicTcbinfo: false}, v)
	})
	t.Run("the read fails: nothing is patched", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusNotFound, `{"error_code":"ERR-03-001","message":"CVM not found"}`)
		_, err := audited(h.client().UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true)}))
		require.ErrorIs(t, err, phala.ErrNotFound)
		require.Equal(t, 1, h.count())
	})
}

// encHex has the shape of EncryptEnvVars output: a 32-byte ephemeral key,
// a 12-byte IV, a 4-byte ciphertext and a 16-byte tag (64 bytes).
const encHex = "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20" + "a1b2c3d4e5f60718293a4b5c" + "deadbeef" + "00112233445566778899aabbccddeeff"

func TestUpdateCVMEnvs(t *testing.T) {
	ctx := context.Background()
	t.Run("phase 1", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/envs", http.StatusOK,
			`{"status":"in_progress","message":"ok","correlation_id":"`+testCorrID+`","allowed_envs_changed":true}`)
		res, err := audited(h.client().UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{
			EncryptedEnv: encHex, EnvKeys: []string{"DATABASE_URL", "SECRET_KEY"}}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app/envs", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		assertNoPhase2Headers(t, r)
		assert.JSONEq(t, `{"encrypted_env":"`+encHex+`","env_keys":["DATABASE_URL","SECRET_KEY"]}`, string(r.Body))
		assert.Equal(t, &phala.UpdateResult{Status: phala.StatusInProgress, Message: "ok", CorrelationID: testCorrID,
			AllowedEnvsChanged: true}, res)
	})
	t.Run("phase 2 values travel in the body", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}/envs", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{
			EncryptedEnv: encHex, ComposeHash: phala.String(testHash), TransactionHash: phala.String(testTx)}))
		require.NoError(t, err)
		r := h.only()
		assertNoPhase2Headers(t, r)
		assert.JSONEq(t, `{"encrypted_env":"`+encHex+`","compose_hash":"`+testHash+`","transaction_hash":"`+testTx+`"}`, string(r.Body))
	})
}

func TestUpdateOSImage(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}/os-image", http.StatusAccepted, acceptedJSON)
	err := auditedErr(h.client().UpdateOSImage(context.Background(), "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
	require.NoError(t, err)
	r := h.only()
	assert.Equal(t, http.MethodPatch, r.Method)
	assert.Equal(t, "/api/v1/cvms/my-app/os-image", r.EscapedPath)
	assertSDKHeaders(t, r, "application/json")
	assert.JSONEq(t, `{"os_image_name":"dstack-0.5.4"}`, string(r.Body))
}
