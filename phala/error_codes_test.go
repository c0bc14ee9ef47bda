package phala_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/phalacloud/go-sdk/phala"
)

// officialErrorCodes is the table of the official Go SDK's go/error_codes.go
// (github.com/Phala-Network/phala-cloud, the ErrXxx constants), keyed by our
// constant's name. The same values are @phala/cloud 0.2.9's ErrorCodes;
// TestInteropErrorCodesWithJS compares with that table when node is present.
var officialErrorCodes = map[string]struct {
	got      phala.ErrorCode
	official string
}{
	"CodeNodeNotFound":                  {phala.CodeNodeNotFound, "ERR-01-001"},                  // ErrNodeNotFound
	"CodeComposeRequired":               {phala.CodeComposeRequired, "ERR-01-002"},               // ErrComposeFileRequired
	"CodeInvalidCompose":                {phala.CodeInvalidCompose, "ERR-01-003"},                // ErrInvalidComposeFile
	"CodeDuplicateName":                 {phala.CodeDuplicateName, "ERR-01-004"},                 // ErrDuplicateCvmName
	"CodeComposeHashExpired":            {phala.CodeComposeHashExpired, "ERR-01-006"},            // ErrHashInvalidExpired
	"CodeTransactionVerificationFailed": {phala.CodeTransactionVerificationFailed, "ERR-01-007"}, // ErrTxVerifyFailed
	"CodeComposeHashNotAllowed":         {phala.CodeComposeHashNotAllowed, "ERR-01-008"},         // ErrHashNotAllowed
	"CodeInstanceTypeNotFound":          {phala.CodeInstanceTypeNotFound, "ERR-02-001"},          // ErrInstanceTypeNotFound
	"CodeResourceNotAvailable":          {phala.CodeResourceNotAvailable, "ERR-02-002"},          // ErrResourceNotAvailable
	"CodeInsufficientVCPU":              {phala.CodeInsufficientVCPU, "ERR-02-003"},              // ErrInsufficientVcpu
	"CodeInsufficientMemory":            {phala.CodeInsufficientMemory, "ERR-02-004"},            // ErrInsufficientMemory
	"CodeInsufficientSlots":             {phala.CodeInsufficientSlots, "ERR-02-005"},             // ErrInsufficientSlots
	"CodeGPUAllocationFailed":           {phala.CodeGPUAllocationFailed, "ERR-02-006"},           // ErrGpuAllocation
	"CodeInsufficientGPU":               {phala.CodeInsufficientGPU, "ERR-02-007"},               // ErrInsufficientGpu
	"CodeInvalidResourceRequest":        {phala.CodeInvalidResourceRequest, "ERR-02-008"},        // ErrInvalidRequest
	"CodeIncompatibleConfig":            {phala.CodeIncompatibleConfig, "ERR-02-009"},            // ErrIncompatibleConfig
	"CodeImageNotFound":                 {phala.CodeImageNotFound, "ERR-02-010"},                 // ErrImageNotFound
	"CodeKMSNotFound":                   {phala.CodeKMSNotFound, "ERR-02-011"},                   // ErrKmsNotFound
	"CodeNodeNotAccessible":             {phala.CodeNodeNotAccessible, "ERR-02-012"},             // ErrTeepodNotAccessible
	"CodeOSImageIncompatible":           {phala.CodeOSImageIncompatible, "ERR-02-013"},           // ErrOsImageNotCompatible
	"CodeNodeCapacityNotConfigured":     {phala.CodeNodeCapacityNotConfigured, "ERR-02-014"},     // ErrNodeCapacityNotConfig
	"CodeQuotaExceeded":                 {phala.CodeQuotaExceeded, "ERR-02-015"},                 // ErrQuotaExceeded
	"CodeCVMNotFound":                   {phala.CodeCVMNotFound, "ERR-03-001"},                   // ErrCvmNotFound
	"CodeMultipleCVMsShareName":         {phala.CodeMultipleCVMsShareName, "ERR-03-002"},         // ErrMultipleCvmsSameName
	"CodeCVMNotInWorkspace":             {phala.CodeCVMNotInWorkspace, "ERR-03-003"},             // ErrCvmNotInWorkspace
	"CodeAccessDenied":                  {phala.CodeAccessDenied, "ERR-03-005"},                  // ErrCvmAccessDenied
	"CodeReplicaImageNotAvailable":      {phala.CodeReplicaImageNotAvailable, "ERR-03-006"},      // ErrReplicaImageNotAvail
	"CodeAppIDConflict":                 {phala.CodeAppIDConflict, "ERR-03-007"},                 // ErrCvmAppIdConflict
	"CodeInsufficientBalance":           {phala.CodeInsufficientBalance, "ERR-04-001"},           // ErrInsufficientBalance
	"CodeMaxCVMLimit":                   {phala.CodeMaxCVMLimit, "ERR-04-002"},                   // ErrMaxCvmLimit
	"CodeResourceLimitExceeded":         {phala.CodeResourceLimitExceeded, "ERR-04-003"},         // ErrResourceLimitExceed
	"CodeTokenLimitExceeded":            {phala.CodeTokenLimitExceeded, "ERR-05-001"},            // ErrTokenLimitExceeded
	"CodeRateLimitExceeded":             {phala.CodeRateLimitExceeded, "ERR-05-002"},             // ErrTokenRateLimit
	"CodeOAuthEmailInvalid":             {phala.CodeOAuthEmailInvalid, "ERR-06-001"},             // ErrOAuthEmailInvalid
}

// TestErrorCodesMatchOfficialSDK: every Code constant has the value of the
// official SDKs' constant of the same meaning, and no two share a value.
func TestErrorCodesMatchOfficialSDK(t *testing.T) {
	seen := map[phala.ErrorCode]string{}
	for name, c := range officialErrorCodes {
		assert.Equal(t, c.official, string(c.got), name)
		if other, dup := seen[c.got]; dup {
			t.Errorf("%s and %s share %s", name, other, c.got)
		}
		seen[c.got] = name
	}
}
