package attest

import (
	"errors"
	"fmt"
)

// Check names one verification step. Every error this package returns for
// evidence that fails verification is an *Error carrying the Check that
// failed, so callers can tell a wrong compose hash from an expired
// collateral without reading messages.
type Check string

// The checks, in the order Verify runs them.
const (
	CheckInput          Check = "input"                    // a caller-supplied argument is malformed
	CheckQuoteFormat    Check = "quote-format"             // the quote cannot be parsed or is not a TDX ECDSA-P256 quote
	CheckPCKChain       Check = "pck-chain"                // the PCK certificate chain does not lead to Intel's root
	CheckCRL            Check = "crl"                      // a CRL is invalid, or a certificate in a chain is revoked
	CheckCollateral     Check = "collateral"               // TCB info or QE identity is malformed, mis-signed or for another platform
	CheckNotYetValid    Check = "collateral-not-yet-valid" // a certificate, CRL, TCB info or QE identity is issued after the verification time
	CheckExpired        Check = "collateral-expired"       // a certificate, CRL, TCB info or QE identity expired before the verification time
	CheckQEReport       Check = "qe-report"                // the QE report signature, its binding of the attestation key, or the QE identity does not hold
	CheckQuoteSignature Check = "quote-signature"          // the attestation key's signature over header and TD report is invalid
	CheckTCBLevel       Check = "tcb-level"                // no TCB level of the TCB info matches the platform
	CheckTDXModule      Check = "tdx-module"               // the TDX module identity (MRSIGNERSEAM, SEAM attributes, module SVN) does not match
	CheckTCBStatus      Check = "tcb-status"               // the resulting TCB status is not accepted by the caller's policy
	CheckDebug          Check = "debug"                    // the TD (or the QE) runs in debug mode
	CheckTDAttributes   Check = "td-attributes"            // reserved TD attribute bits set, SEPT_VE_DISABLE clear, or a service TD bound
	CheckEventLog       Check = "event-log"                // an event is malformed or its digest field disagrees with its content
	CheckRTMR           Check = "rtmr"                     // replaying the event log does not give the quote's RTMR
	CheckComposeHash    Check = "compose-hash"             // the compose-hash event is not the caller's compose hash
	CheckAppID          Check = "app-id"                   // the app-id event is not the caller's app
	CheckKeyProvider    Check = "key-provider"             // the key-provider event does not name the caller's KMS
	CheckMRConfigID     Check = "mr-config-id"             // mr_config_id does not bind the compose hash / app / key provider
	CheckReportData     Check = "report-data"              // report_data is not what the caller asked the CVM to bind
	CheckOSImage        Check = "os-image"                 // MRTD, RTMR0-2 or the os-image-hash event differs from the caller's pins
)

// Error is the error every failed check returns. errors.Is(err, target)
// holds when target is an *Error with the same Check and an empty Reason,
// so the Err* sentinels below match any failure of their check.
type Error struct {
	Check  Check  // which check failed
	Reason string // what was wrong, without secrets
	Err    error  // an underlying error (crypto/x509, encoding), if any
}

func (e *Error) Error() string {
	msg := "attest: " + string(e.Check) + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is a sentinel (*Error without Reason) of the same check.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Err == nil && t.Check == e.Check
}

// Sentinels for errors.Is, one per Check.
var (
	ErrInput          = &Error{Check: CheckInput}
	ErrQuoteFormat    = &Error{Check: CheckQuoteFormat}
	ErrPCKChain       = &Error{Check: CheckPCKChain}
	ErrCRL            = &Error{Check: CheckCRL}
	ErrCollateral     = &Error{Check: CheckCollateral}
	ErrNotYetValid    = &Error{Check: CheckNotYetValid}
	ErrExpired        = &Error{Check: CheckExpired}
	ErrQEReport       = &Error{Check: CheckQEReport}
	ErrQuoteSignature = &Error{Check: CheckQuoteSignature}
	ErrTCBLevel       = &Error{Check: CheckTCBLevel}
	ErrTDXModule      = &Error{Check: CheckTDXModule}
	ErrTCBStatus      = &Error{Check: CheckTCBStatus}
	ErrDebug          = &Error{Check: CheckDebug}
	ErrTDAttributes   = &Error{Check: CheckTDAttributes}
	ErrEventLog       = &Error{Check: CheckEventLog}
	ErrRTMR           = &Error{Check: CheckRTMR}
	ErrComposeHash    = &Error{Check: CheckComposeHash}
	ErrAppID          = &Error{Check: CheckAppID}
	ErrKeyProvider    = &Error{Check: CheckKeyProvider}
	ErrMRConfigID     = &Error{Check: CheckMRConfigID}
	ErrReportData     = &Error{Check: CheckReportData}
	ErrOSImage        = &Error{Check: CheckOSImage}
)

func fail(c Check, format string, args ...any) *Error {
	return &Error{Check: c, Reason: fmt.Sprintf(format, args...)}
}

func failErr(c Check, err error, format string, args ...any) *Error {
	return &Error{Check: c, Reason: fmt.Sprintf(format, args...), Err: err}
}

// CheckOf returns the Check of the first *Error in err's chain, or "" when
// err is nil or not from this package.
func CheckOf(err error) Check {
	var e *Error
	if errors.As(err, &e) {
		return e.Check
	}
	return ""
}
