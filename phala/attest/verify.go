package attest

import (
	"context"
	"fmt"
	"time"
)

// Expected is what the caller approved and pinned. Verify checks the
// evidence against it; nothing in Expected comes from the evidence.
type Expected struct {
	// Time is the verification time for certificates, CRLs and
	// collateral. Required: a zero Time fails with ErrInput.
	Time time.Time
	// Collateral is Intel's collateral for the quote's platform. When nil,
	// Source fetches it; when both are nil Verify fails with ErrInput
	// unless SignatureOnly is set.
	Collateral *Collateral
	Source     CollateralSource
	// SignatureOnly verifies the quote without collateral (no CRLs, no TCB
	// status): for archived evidence whose collateral is lost only.
	SignatureOnly bool
	Policy        Policy // TCB statuses accepted; zero value: UpToDate only

	// ComposeHash is the compose hash the caller registered (32 bytes);
	// or AppCompose, the exact app-compose bytes it approved, whose SHA-256
	// is used; or ComposeHashAllowed, which decides from the caller's own
	// source (e.g. the app contract's allowed hashes read through the
	// caller's RPC). Exactly one of them is required.
	ComposeHash        []byte
	AppCompose         []byte
	ComposeHashAllowed func(ctx context.Context, composeHash [32]byte) (bool, error)
	// AppID is the caller's app id (20 bytes). Required.
	AppID []byte
	// KMS, when set, is the key provider the caller trusts; the
	// key-provider event must name it (Name and ID).
	KMS *KeyProvider
	// ReportData, when set, must be the quote's report data (see
	// ReportDataRaw, ReportDataForAppKey).
	ReportData *[64]byte
	// OS, when set, pins the OS image measurements.
	OS *OSImage
	// AllowUnboundMRConfigID accepts an all-zero mr_config_id (dstack
	// before mr_config_id binding); otherwise V1, V2 or V3 is required.
	AllowUnboundMRConfigID bool
	// GPUPolicyHash and InitScriptHashes complete a V3 mr_config_id
	// document (see MRConfig); the rest comes from the verified events.
	GPUPolicyHash    []byte
	InitScriptHashes [][32]byte
}

// OSImage pins OS image measurements; empty fields are not compared.
type OSImage struct {
	MRTD        []byte // 48 bytes
	RTMR0       []byte // 48 bytes: virtual firmware configuration
	RTMR1       []byte // 48 bytes: kernel
	RTMR2       []byte // 48 bytes: kernel command line and initrd
	OSImageHash []byte // 32 bytes: the os-image-hash event (dstack >= 0.5.3)
}

// CheckResult is one line of a Report.
type CheckResult struct {
	Check  Check
	Passed bool   // false: Skipped, or the check that failed
	Detail string // what was compared, or why it was skipped
}

// Report lists every check Verify ran and the verified values.
type Report struct {
	Quote       *QuoteResult
	Replay      *Replay
	ComposeHash [32]byte // from the compose-hash event
	// AppCompose is the evidence's app-compose, set only when its exact
	// bytes hash to the RTMR3-bound compose hash: the attested baseline an
	// on-chain update can apply the caller's change to, instead of an
	// API's copy.
	AppCompose  []byte
	AppID       []byte // from the app-id event
	InstanceID  []byte // from the instance-id event (may be empty)
	KeyProvider KeyProvider
	OSImageHash []byte // from the os-image-hash event, if the OS emits one
	MRConfigID  [48]byte
	Checks      []CheckResult
}

func (r *Report) pass(c Check, format string, args ...any) {
	r.Checks = append(r.Checks, CheckResult{Check: c, Passed: true, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) skip(c Check, why string) {
	r.Checks = append(r.Checks, CheckResult{Check: c, Detail: "skipped: " + why})
}

func (r *Report) failed(err error) error {
	r.Checks = append(r.Checks, CheckResult{Check: CheckOf(err), Detail: err.Error()})
	return err
}

// reservedEvents are the dstack system events a verifier reads; a log
// that carries one of them twice is ambiguous and rejected.
var reservedEvents = []string{"app-id", "compose-hash", "instance-id", "key-provider", "os-image-hash", "system-ready"}

// Verify checks evidence against the caller's expectations: the quote to
// Intel's root with the caller's policy, the event log replayed into the
// quote's RTMRs, the compose hash, app id, key provider, mr_config_id,
// report data and OS image pins. It returns the report of every check
// run so far and, on failure, an *Error naming the failed check.
func Verify(ctx context.Context, ev *Evidence, exp Expected) (*Report, error) {
	return intelVerifier.verifyEvidence(ctx, ev, exp)
}

func (v quoteVerifier) verifyEvidence(ctx context.Context, ev *Evidence, exp Expected) (*Report, error) {
	r := &Report{}
	if err := exp.validate(ev); err != nil {
		return r, r.failed(err)
	}
	qr, err := v.verifyQuoteFor(ctx, ev.Quote, exp)
	r.Quote = qr // set on a policy failure too: the report names the status
	if err != nil {
		return r, r.failed(err)
	}
	if qr.Status == "" {
		r.pass(CheckQuoteSignature, "PCK chain, QE report and quote signature valid; no collateral, TCB status unknown")
	} else {
		r.pass(CheckTCBStatus, "TCB %s, advisories %v, FMSPC %s, collateral valid until %s", qr.Status, qr.AdvisoryIDs, qr.FMSPC, qr.CollateralExpiry.Format(time.RFC3339))
	}
	r.pass(CheckDebug, "TD attributes %x: not debuggable", qr.Quote.Report.TDAttributes)
	for _, step := range []func(context.Context, *Evidence, Expected) error{r.checkReplay, r.checkClaims, r.checkCompose, r.checkAppAndKMS, r.checkMRConfig, r.checkReportData, r.checkOS} {
		if err := step(ctx, ev, exp); err != nil {
			return r, r.failed(err)
		}
	}
	return r, nil
}

func (exp Expected) validate(ev *Evidence) error {
	switch {
	case ev == nil || len(ev.Quote) == 0:
		return fail(CheckInput, "no quote in the evidence")
	case exp.Time.IsZero():
		return fail(CheckInput, "Expected.Time is zero: pass the verification time explicitly")
	case btoi(len(exp.ComposeHash) > 0)+btoi(exp.AppCompose != nil)+btoi(exp.ComposeHashAllowed != nil) != 1:
		return fail(CheckInput, "pass exactly one of Expected.ComposeHash, AppCompose and ComposeHashAllowed")
	case len(exp.ComposeHash) != 0 && len(exp.ComposeHash) != 32:
		return fail(CheckInput, "Expected.ComposeHash is %d bytes, want 32", len(exp.ComposeHash))
	case len(exp.AppID) != 20:
		return fail(CheckInput, "Expected.AppID is %d bytes, want 20", len(exp.AppID))
	case exp.Collateral == nil && exp.Source == nil && !exp.SignatureOnly:
		return fail(CheckInput, "no collateral: set Expected.Collateral or Expected.Source (or SignatureOnly)")
	case exp.SignatureOnly && (exp.Collateral != nil || exp.Source != nil || len(exp.Policy.Accept) > 0 || len(exp.Policy.RejectAdvisories) > 0):
		return fail(CheckInput, "SignatureOnly checks no TCB status: it takes no collateral, source or policy")
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (v quoteVerifier) verifyQuoteFor(ctx context.Context, quote []byte, exp Expected) (*QuoteResult, error) {
	col := exp.Collateral
	if col == nil && exp.Source != nil {
		q, err := ParseQuote(quote)
		if err != nil {
			return nil, err
		}
		if col, err = collateralFor(ctx, exp.Source, q, exp.Time); err != nil {
			return nil, err
		}
	}
	if col == nil {
		return v.verifySignatureOnly(quote, exp.Time)
	}
	return v.verify(quote, col, exp.Time, exp.Policy)
}
