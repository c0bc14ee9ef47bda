package phala

import "slices"

// Version is this SDK's version, sent in the User-Agent. The published
// spec's info.version equals it (a test in openapi/ checks both).
const Version = "0.1.0"

// The API versions (X-Phala-Version) whose response shapes this SDK
// decodes: those the official SDKs support. @phala/cloud 0.2.9 supports
// 2025-10-28 and 2026-01-21 (SUPPORTED_API_VERSIONS, default 2026-01-21);
// the official Go SDK v0.2.0 defaults to 2026-06-23 (go/version.go
// DefaultAPIVersion @1844c28b), as does newer @phala/cloud
// (js/src/types/client.ts @0fb89e23). 2026-11-11 exists (the Python SDK
// 0.4.5 default) but its CVM shapes are unknown, so it is refused.
const (
	// APIVersion20251028 answers the legacy CVM detail (CvmBasicInfo:
	// integer id, flat vcpu, memory in MB, disk_size in GB).
	APIVersion20251028 = "2025-10-28"
	// APIVersion20260121 answers the CVM detail (CVMInfoDetail: cvm_...
	// id, nested resource with memory_in_gb).
	APIVersion20260121 = "2026-01-21"
	// APIVersion20260522 answers the same CVMInfoDetail shape as 2026-01-21
	// for every call this SDK makes.
	APIVersion20260522 = "2026-05-22"
	// APIVersion20260623 answers the 2026-05-22 shapes for every CVM call
	// this SDK makes (the official SDKs read them so: Python full_client
	// _model_for_response @01ee3fd2, JS get_cvm_info.ts @b5b37662); it
	// changes only the KMS listing endpoints, which this SDK does not call.
	// The KMS public-key call stays on 2026-05-22 (kmsPubkeyAPIVersion). It
	// is DefaultAPIVersion.
	APIVersion20260623 = "2026-06-23"
)

// kmsPubkeyAPIVersion is the version GET /kms/{kms}/pubkey/{appId} is sent
// with whatever the client's version: from 2026-06-23 the /kms/{x} paths
// resolve a KMS contract rather than a node, and all three official SDKs
// pin this node-keyed call to 2026-05-22 (Go kms.go, JS
// get_app_env_encrypt_pubkey.ts @0fb89e23, Python full_client @01ee3fd2).
const kmsPubkeyAPIVersion = APIVersion20260522

// SupportedAPIVersions lists the versions WithAPIVersion accepts, oldest
// first. It returns a new slice on every call.
func SupportedAPIVersions() []string {
	return []string{APIVersion20251028, APIVersion20260121, APIVersion20260522, APIVersion20260623}
}

// ErrUnsupportedAPIVersion is matched (via errors.Is) by the error NewClient
// returns for a well-formed version this SDK does not decode. That error is
// an *UnsupportedAPIVersionError, which wraps an *InvalidArgumentError
// naming "WithAPIVersion" (so it matches ErrInvalidArgument as well).
const ErrUnsupportedAPIVersion = sentinel("phala: unsupported API version")

// checkAPIVersion refuses a version outside SupportedAPIVersions.
func checkAPIVersion(v string) error {
	if !slices.Contains(SupportedAPIVersions(), v) {
		return &UnsupportedAPIVersionError{Version: v}
	}
	return nil
}
