// Package attest verifies dstack confidential VMs' attestations down to
// Intel's root: a TDX quote (DCAP v4 or v5) with its Intel collateral, the
// event log replayed into the quote's RTMRs, and what the CVM runs checked
// against what the caller approved (compose hash, app id, KMS,
// mr_config_id, report data, OS image measurements).
//
// Trust rests only on Intel's SGX Root CA (pinned in this package), on
// values the caller passes, and on hashes this package computes itself.
// Values an API returns beside the quote (tcb_info's rtmr fields, a
// compose_hash field, a digest field of an event) are compared with the
// verified ones, never believed.
//
// Every verification takes an explicit time; every failure is an *Error
// naming the failed Check, so errors.Is(err, attest.ErrComposeHash),
// errors.Is(err, attest.ErrExpired) and the other sentinels tell the
// failures apart. The package uses the Go standard library only.
package attest
