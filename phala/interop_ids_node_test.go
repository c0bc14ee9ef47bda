package phala

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
)

// cvmIDInteropScript normalises each stdin line (a JSON string) with
// @phala/cloud's CvmIdSchema, as its actions do before building a path.
const cvmIDInteropScript = `
const fs = require("fs");
const cloud = require("@phala/cloud");
const ids = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
process.stdout.write(JSON.stringify(ids.map((id) => cloud.CvmIdSchema.parse({ id }).cvmId)));
`

// TestInteropCVMIDWithJS: every id the SDK accepts is sent exactly as
// @phala/cloud 0.2.9 would send it.
func TestInteropCVMIDWithJS(t *testing.T) {
	dir := nodejs.Install(t)
	ids := []string{
		"cvm_kq3Zp8", "my-app", "4211", "instance_2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a",
		"9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796", "9B5B3C1A4F2E6D7C8B9A0F1E2D3C4B5A69788796",
		"9b5B3c1A4f2E6d7C8b9A0f1E2d3C4b5A69788796", "app_9B5B3C1A4F2E6D7C8B9A0F1E2D3C4B5A69788796",
		"9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a6978879", "9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a697887960",
		"0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a", "0F3C5A9E-1B2D-4C3E-8F7A-6B5C4D3E2F1A",
		"0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a", "0f3c5a9e-1b2d4c3e-8f7a6b5c4d3e2f1a",
		"0f3c5a9e-1b2d-1c3e-8f7a-6b5c4d3e2f1a", "0f3c5a9e-1b2d-4c3e-7f7a-6b5c4d3e2f1a",
		"0f3c5a9e--1b2d-4c3e-8f7a-6b5c4d3e2f1a", "q?x=1#frag", "..%2Fkms", "ünïcode",
	}
	var stdin strings.Builder
	for _, id := range ids {
		b, err := json.Marshal(id)
		require.NoError(t, err)
		stdin.Write(append(b, '\n'))
	}
	var js []string
	require.NoError(t, json.Unmarshal(nodejs.Run(t, dir, cvmIDInteropScript, []byte(stdin.String())), &js))
	require.Len(t, js, len(ids))
	for i, id := range ids {
		got, err := checkCVMID(id)
		require.NoError(t, err, id)
		assert.Equal(t, js[i], got, "cvmID %q", id)
	}
}

// TestInteropErrorCodesWithJS compares every Code constant with the
// ErrorCodes table @phala/cloud 0.2.9 exports, and finds every code of that
// table among ours.
func TestInteropErrorCodesWithJS(t *testing.T) {
	dir := nodejs.Install(t)
	var js map[string]string
	require.NoError(t, json.Unmarshal(nodejs.Run(t, dir,
		`process.stdout.write(JSON.stringify(require("@phala/cloud").ErrorCodes));`, nil), &js))
	ours := map[string]ErrorCode{
		"NODE_NOT_FOUND": CodeNodeNotFound, "COMPOSE_FILE_REQUIRED": CodeComposeRequired,
		"INVALID_COMPOSE_FILE": CodeInvalidCompose, "DUPLICATE_CVM_NAME": CodeDuplicateName,
		"HASH_REGISTRATION_REQUIRED": ErrorCode("ERR-01-005"), "HASH_INVALID_OR_EXPIRED": CodeComposeHashExpired,
		"TX_VERIFICATION_FAILED": CodeTransactionVerificationFailed, "HASH_NOT_ALLOWED": CodeComposeHashNotAllowed,
		"INSTANCE_TYPE_NOT_FOUND": CodeInstanceTypeNotFound, "RESOURCE_NOT_AVAILABLE": CodeResourceNotAvailable,
		"INSUFFICIENT_VCPU": CodeInsufficientVCPU, "INSUFFICIENT_MEMORY": CodeInsufficientMemory,
		"INSUFFICIENT_SLOTS": CodeInsufficientSlots, "GPU_ALLOCATION_ERROR": CodeGPUAllocationFailed,
		"INSUFFICIENT_GPU": CodeInsufficientGPU, "INVALID_REQUEST": CodeInvalidResourceRequest,
		"INCOMPATIBLE_CONFIG": CodeIncompatibleConfig, "IMAGE_NOT_FOUND": CodeImageNotFound,
		"KMS_NOT_FOUND": CodeKMSNotFound, "TEEPOD_NOT_ACCESSIBLE": CodeNodeNotAccessible,
		"OS_IMAGE_NOT_COMPATIBLE": CodeOSImageIncompatible, "NODE_CAPACITY_NOT_CONFIGURED": CodeNodeCapacityNotConfigured,
		"QUOTA_EXCEEDED": CodeQuotaExceeded, "CVM_NOT_FOUND": CodeCVMNotFound,
		"MULTIPLE_CVMS_SAME_NAME": CodeMultipleCVMsShareName, "CVM_NOT_IN_WORKSPACE": CodeCVMNotInWorkspace,
		"CVM_ACCESS_DENIED": CodeAccessDenied, "REPLICA_IMAGE_NOT_AVAILABLE": CodeReplicaImageNotAvailable,
		"CVM_APP_ID_CONFLICT": CodeAppIDConflict, "INSUFFICIENT_BALANCE": CodeInsufficientBalance,
		"MAX_CVM_LIMIT": CodeMaxCVMLimit, "RESOURCE_LIMIT_EXCEEDED": CodeResourceLimitExceeded,
		"TOKEN_LIMIT_EXCEEDED": CodeTokenLimitExceeded, "TOKEN_RATE_LIMIT": CodeRateLimitExceeded,
		"OAUTH_EMAIL_INVALID": CodeOAuthEmailInvalid,
	}
	for name, code := range js {
		want, ok := ours[name]
		if assert.True(t, ok, "@phala/cloud ErrorCodes.%s (%s) has no Code constant here", name, code) {
			assert.Equal(t, code, string(want), name)
		}
	}
	for name := range ours {
		_, ok := js[name]
		assert.True(t, ok, "ErrorCodes.%s is not in @phala/cloud 0.2.9", name)
	}
}
