package phala

// statusComposeHashRequired (465) is phase 1 of the on-chain KMS flow:
// register the compose hash on-chain first. The update methods turn it into
// a result (RequiresOnChainHash), any other method into an *APIError
// matching ErrComposeHashRequired; its error code is ERR-01-005.
const statusComposeHashRequired = 465

// The Phala Cloud status codes of the on-chain KMS flow after phase 1.
const (
	// HTTPStatusComposeHashExpired (466): the hash is invalid or its pending
	// registration expired.
	HTTPStatusComposeHashExpired = 466
	// HTTPStatusTransactionVerificationFailed (467): the transaction does not
	// prove the registration.
	HTTPStatusTransactionVerificationFailed = 467
	// HTTPStatusComposeHashNotAllowed (468): the app contract does not allow the hash.
	HTTPStatusComposeHashNotAllowed = 468
)

// ErrorCode is a Phala Cloud error code, "ERR-<module>-<number>", as
// APIError.Code carries it; the Code* constants name the known ones.
type ErrorCode string

// Phala Cloud error codes (APIError.Code), "ERR-<module>-<number>". The
// values are those of the official SDKs: the official Go SDK's
// go/error_codes.go (github.com/Phala-Network/phala-cloud) and the ErrorCodes
// table of @phala/cloud 0.2.9 (dist/index.js). Compare with errors.Is and a
// sentinel built from a code, e.g. &APIError{StatusCode: 400, Code: CodeQuotaExceeded},
// or read APIError.Code directly.
const (
	// Module 01: CVM preflight and compose hash.
	CodeNodeNotFound                  ErrorCode = "ERR-01-001"
	CodeComposeRequired               ErrorCode = "ERR-01-002"
	CodeInvalidCompose                ErrorCode = "ERR-01-003"
	CodeDuplicateName                 ErrorCode = "ERR-01-004"
	CodeComposeHashExpired            ErrorCode = "ERR-01-006"
	CodeTransactionVerificationFailed ErrorCode = "ERR-01-007"
	CodeComposeHashNotAllowed         ErrorCode = "ERR-01-008"

	// Module 02: inventory (instance types, capacity, images, KMS).
	CodeInstanceTypeNotFound      ErrorCode = "ERR-02-001"
	CodeResourceNotAvailable      ErrorCode = "ERR-02-002"
	CodeInsufficientVCPU          ErrorCode = "ERR-02-003"
	CodeInsufficientMemory        ErrorCode = "ERR-02-004"
	CodeInsufficientSlots         ErrorCode = "ERR-02-005"
	CodeGPUAllocationFailed       ErrorCode = "ERR-02-006"
	CodeInsufficientGPU           ErrorCode = "ERR-02-007"
	CodeInvalidResourceRequest    ErrorCode = "ERR-02-008"
	CodeIncompatibleConfig        ErrorCode = "ERR-02-009"
	CodeImageNotFound             ErrorCode = "ERR-02-010"
	CodeKMSNotFound               ErrorCode = "ERR-02-011"
	CodeNodeNotAccessible         ErrorCode = "ERR-02-012"
	CodeOSImageIncompatible       ErrorCode = "ERR-02-013"
	CodeNodeCapacityNotConfigured ErrorCode = "ERR-02-014"
	CodeQuotaExceeded             ErrorCode = "ERR-02-015"

	// Module 03: CVM operations.
	CodeCVMNotFound           ErrorCode = "ERR-03-001"
	CodeMultipleCVMsShareName ErrorCode = "ERR-03-002"
	// CodeCVMNotInWorkspace: the CVM is not in the key's workspace. The
	// official Go SDK notes that ERR-03-004 is a variant of the same error
	// (one reveals that the CVM exists, the other hides it); it names no
	// constant for it, and neither does this SDK.
	CodeCVMNotInWorkspace        ErrorCode = "ERR-03-003"
	CodeAccessDenied             ErrorCode = "ERR-03-005"
	CodeReplicaImageNotAvailable ErrorCode = "ERR-03-006"
	CodeAppIDConflict            ErrorCode = "ERR-03-007"

	// Module 04: workspace.
	CodeInsufficientBalance   ErrorCode = "ERR-04-001"
	CodeMaxCVMLimit           ErrorCode = "ERR-04-002"
	CodeResourceLimitExceeded ErrorCode = "ERR-04-003"

	// Module 05: credentials.
	CodeTokenLimitExceeded ErrorCode = "ERR-05-001"
	CodeRateLimitExceeded  ErrorCode = "ERR-05-002"

	// Module 06: auth.
	CodeOAuthEmailInvalid ErrorCode = "ERR-06-001"
)
