package phala

// The Phala Cloud status codes of the on-chain KMS flow.
const (
	// HTTPStatusComposeHashRequired (465): register the compose hash on-chain
	// first. The update methods turn it into a result, not an error.
	HTTPStatusComposeHashRequired = 465
	// HTTPStatusComposeHashExpired (466): the hash is invalid or its pending
	// registration expired.
	HTTPStatusComposeHashExpired = 466
	// HTTPStatusTransactionVerificationFailed (467): the transaction does not
	// prove the registration.
	HTTPStatusTransactionVerificationFailed = 467
	// HTTPStatusComposeHashNotAllowed (468): the app contract does not allow the hash.
	HTTPStatusComposeHashNotAllowed = 468
)

// Phala Cloud error codes (APIError.Code), "ERR-<module>-<number>". The
// values are those of the official SDKs: the official Go SDK's
// go/error_codes.go (github.com/Phala-Network/phala-cloud) and the ErrorCodes
// table of @phala/cloud 0.2.9 (dist/index.js). Compare with errors.Is and a
// sentinel built from a code, e.g. &APIError{StatusCode: 400, Code: CodeQuotaExceeded},
// or read APIError.Code directly.
const (
	// Module 01: CVM preflight and compose hash.
	CodeNodeNotFound             = "ERR-01-001"
	CodeComposeRequired          = "ERR-01-002"
	CodeInvalidCompose           = "ERR-01-003"
	CodeDuplicateName            = "ERR-01-004"
	CodeHashRegistrationRequired = "ERR-01-005"
	CodeHashInvalidOrExpired     = "ERR-01-006"
	CodeTxVerificationFailed     = "ERR-01-007"
	CodeHashNotAllowed           = "ERR-01-008"

	// Module 02: inventory (instance types, capacity, images, KMS).
	CodeInstanceTypeNotFound      = "ERR-02-001"
	CodeResourceNotAvailable      = "ERR-02-002"
	CodeInsufficientVCPU          = "ERR-02-003"
	CodeInsufficientMemory        = "ERR-02-004"
	CodeInsufficientSlots         = "ERR-02-005"
	CodeGPUAllocationFailed       = "ERR-02-006"
	CodeInsufficientGPU           = "ERR-02-007"
	CodeInvalidResourceRequest    = "ERR-02-008"
	CodeIncompatibleConfig        = "ERR-02-009"
	CodeImageNotFound             = "ERR-02-010"
	CodeKMSNotFound               = "ERR-02-011"
	CodeNodeNotAccessible         = "ERR-02-012"
	CodeOSImageIncompatible       = "ERR-02-013"
	CodeNodeCapacityNotConfigured = "ERR-02-014"
	CodeQuotaExceeded             = "ERR-02-015"

	// Module 03: CVM operations.
	CodeCVMNotFound           = "ERR-03-001"
	CodeMultipleCVMsShareName = "ERR-03-002"
	// CodeCVMNotInWorkspace: the CVM is not in the key's workspace. The
	// official Go SDK notes that ERR-03-004 is a variant of the same error
	// (one reveals that the CVM exists, the other hides it); it names no
	// constant for it, and neither does this SDK.
	CodeCVMNotInWorkspace        = "ERR-03-003"
	CodeAccessDenied             = "ERR-03-005"
	CodeReplicaImageNotAvailable = "ERR-03-006"
	CodeAppIDConflict            = "ERR-03-007"

	// Module 04: workspace.
	CodeInsufficientBalance   = "ERR-04-001"
	CodeMaxCVMLimit           = "ERR-04-002"
	CodeResourceLimitExceeded = "ERR-04-003"

	// Module 05: credentials.
	CodeTokenLimitExceeded = "ERR-05-001"
	CodeRateLimitExceeded  = "ERR-05-002"

	// Module 06: auth.
	CodeOAuthEmailInvalid = "ERR-06-001"
)
