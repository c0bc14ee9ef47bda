package phala

import "slices"

// Version is this SDK's version, sent in the User-Agent. The published
// spec's info.version equals it (a test in openapi/ checks both).
const Version = "0.1.0"

// The API versions (X-Phala-Version) whose response shapes this SDK
// decodes: those the official SDKs support. @phala/cloud 0.2.9 supports
// 2025-10-28 and 2026-01-21 (SUPPORTED_API_VERSIONS, default 2026-01-21);
// the official Go SDK pins 2026-05-22 (go/version.go DefaultAPIVersion).
const (
	// APIVersion20251028 answers the legacy CVM detail (CvmBasicInfo:
	// integer id, flat vcpu, memory in MB, disk_size in GB).
	APIVersion20251028 = "2025-10-28"
	// APIVersion20260121 answers the CVM detail (CVMInfoDetail: cvm_...
	// id, nested resource with memory_in_gb). It is DefaultAPIVersion.
	APIVersion20260121 = "2026-01-21"
	// APIVersion20260522 answers the same CVMInfoDetail shape as 2026-01-21
	// for every call this SDK makes.
	APIVersion20260522 = "2026-05-22"
)

// SupportedAPIVersions lists the versions WithAPIVersion accepts, oldest
// first. It returns a new slice on every call.
func SupportedAPIVersions() []string {
	return []string{APIVersion20251028, APIVersion20260121, APIVersion20260522}
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
