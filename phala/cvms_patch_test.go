package phala_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

func TestPatchCVM(t *testing.T) {
	ctx := context.Background()
	t.Run("every field", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", http.StatusAccepted, acceptedJSON, "X-Request-ID", "req_9")
		compose, script, image := testCompose, "#!/bin/sh\ntrue\n", "dstack-0.5.4"
		resp, err := audited(h.client().PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{
			DockerComposeFile: &compose, PreLaunchScript: &script, EncryptedEnv: phala.String(encHex),
			AllowedEnvs:   []string{"FOO", "BAR"},
			PublicSysinfo: phala.Bool(true), PublicLogs: phala.Bool(false), PublicTcbinfo: phala.Bool(true),
			SecureTime: phala.Bool(true), Listed: phala.Bool(false),
			VCPU: phala.Int(4), Memory: phala.Int(8192), DiskSize: phala.Int(50),
			InstanceType: phala.String("tdx.large"), OSImageName: &image, AllowRestart: phala.Bool(true),
			UserConfig: phala.String("cfg"), ShutdownTimeout: phala.Int(120), AllowForceStop: phala.Bool(true),
		}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/cvms/my-app", r.EscapedPath)
		assertSDKHeaders(t, r, "application/json")
		assertNoPhase2Headers(t, r)
		assert.JSONEq(t, `{
			"docker_compose_file": "services:\n  app:\n    image: nginx:latest\n",
			"pre_launch_script": "#!/bin/sh\ntrue\n",
			"encrypted_env": "`+encHex+`",
			"allowed_envs": ["FOO","BAR"],
			"public_sysinfo": true, "public_logs": false, "public_tcbinfo": true,
			"secure_time": true, "listed": false,
			"vcpu": 4, "memory": 8192, "disk_size": 50,
			"instance_type": "tdx.large",
			"image": "dstack-0.5.4", "os_image_name": "dstack-0.5.4",
			"allow_restart": true,
			"user_config": "cfg", "shutdown_timeout": 120, "allow_force_stop": true
		}`, string(r.Body))
		assert.Equal(t, &phala.PatchCVMResponse{Status: phala.StatusInProgress, CorrelationID: testCorrID, Message: "CVM update started", RequestID: "req_9"}, resp)
	})
	t.Run("OS image alone is sent under both names", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{OSImageName: phala.String("dstack-0.5.4")}))
		require.NoError(t, err)
		assert.JSONEq(t, `{"image":"dstack-0.5.4","os_image_name":"dstack-0.5.4"}`, string(h.only().Body))
	})
	t.Run("phase 2 and prepare-only headers", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", http.StatusAccepted, acceptedJSON)
		_, err := audited(h.client().PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{
			DockerComposeFile: phala.String(testCompose), ComposeHash: phala.String(testHash),
			TransactionHash: phala.String(testTx), PrepareOnly: true}))
		require.NoError(t, err)
		r := h.only()
		assert.Equal(t, testHash, r.Header.Get("X-Compose-Hash"))
		assert.Equal(t, testTx, r.Header.Get("X-Transaction-Hash"))
		assert.Equal(t, "true", r.Header.Get("X-Prepare-Only"))
		// The hashes go in headers only on PatchCVM.
		assert.JSONEq(t, `{"docker_compose_file":"services:\n  app:\n    image: nginx:latest\n"}`, string(r.Body))
	})
}

func TestConfirmCVMPatch(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", http.StatusAccepted, acceptedJSON)
	resp, err := audited(h.client().ConfirmCVMPatch(context.Background(), "my-app",
		&phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
	require.NoError(t, err)
	r := h.only()
	assert.Equal(t, http.MethodPatch, r.Method)
	assert.Equal(t, "/api/v1/cvms/my-app", r.EscapedPath)
	assertSDKHeaders(t, r, "application/json")
	assert.Equal(t, []string{testHash}, r.Header.Values("X-Compose-Hash"))
	assert.Equal(t, []string{testTx}, r.Header.Values("X-Transaction-Hash"))
	assert.Empty(t, r.Header.Values("X-Prepare-Only"))
	assert.JSONEq(t, `{"compose_hash":"`+testHash+`","transaction_hash":"`+testTx+`"}`, string(r.Body))
	assert.Equal(t, &phala.CVMActionResponse{CorrelationID: testCorrID, Status: "in_progress", Message: "CVM update started"}, resp)
}
