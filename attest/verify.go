package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
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

func (r *Report) checkReplay(_ context.Context, ev *Evidence, _ Expected) error {
	rep, err := ReplayEventLog(ev.EventLog)
	if err != nil {
		return err
	}
	r.Replay = rep
	r.pass(CheckEventLog, "%d events, %d runtime digests recomputed from name and payload", len(ev.EventLog), len(rep.Runtime))
	if err := rep.checkRTMRs(&r.Quote.Quote.Report); err != nil {
		return err
	}
	r.pass(CheckRTMR, "RTMR0-3 replayed equal the quote's; RTMR3 %x", rep.RTMR[3])
	for _, name := range reservedEvents {
		n := 0
		for _, e := range rep.Runtime {
			if e.Name == name {
				n++
			}
		}
		if n > 1 {
			return fail(CheckEventLog, "the %q event appears %d times", name, n)
		}
	}
	return nil
}

// checkClaims compares the API's tcb_info values with the quote's.
func (r *Report) checkClaims(_ context.Context, ev *Evidence, _ Expected) error {
	ti := ev.TCBInfo
	if ti == nil {
		return nil
	}
	q := &r.Quote.Quote.Report
	for _, c := range []struct {
		name, claim string
		have        []byte
	}{{"mrtd", ti.MRTD, q.MRTD[:]}, {"rtmr0", ti.RTMR0, q.RTMR[0][:]}, {"rtmr1", ti.RTMR1, q.RTMR[1][:]}, {"rtmr2", ti.RTMR2, q.RTMR[2][:]}, {"rtmr3", ti.RTMR3, q.RTMR[3][:]}} {
		if c.claim != "" && !strings.EqualFold(c.claim, hex.EncodeToString(c.have)) {
			return fail(CheckRTMR, "tcb_info.%s %s is not the quote's %x", c.name, c.claim, c.have)
		}
	}
	return nil
}

// composeApproved asks the caller's hash, bytes or predicate.
func (exp Expected) composeApproved(ctx context.Context, h [32]byte) error {
	if exp.ComposeHashAllowed != nil {
		ok, err := exp.ComposeHashAllowed(ctx, h)
		if err != nil {
			return failErr(CheckComposeHash, err, "the caller's ComposeHashAllowed failed for %x", h)
		}
		if !ok {
			return fail(CheckComposeHash, "the CVM runs compose hash %x, which the caller does not allow", h)
		}
		return nil
	}
	want := exp.ComposeHash
	if len(want) == 0 {
		sum := sha256.Sum256(exp.AppCompose)
		want = sum[:]
	}
	if !bytes.Equal(want, h[:]) {
		return fail(CheckComposeHash, "the CVM runs compose hash %x, the caller approved %x", h, want)
	}
	return nil
}

func (r *Report) checkCompose(ctx context.Context, ev *Evidence, exp Expected) error {
	p, ok := r.Replay.Lookup("compose-hash")
	if !ok || len(p) != 32 {
		return fail(CheckComposeHash, "no 32-byte compose-hash event in RTMR3")
	}
	r.ComposeHash = [32]byte(p)
	if err := exp.composeApproved(ctx, r.ComposeHash); err != nil {
		return err
	}
	if ev.AppCompose != nil {
		if sum := sha256.Sum256(ev.AppCompose); !bytes.Equal(sum[:], p) {
			return fail(CheckComposeHash, "the evidence's app-compose hashes to %x, not the attested %x", sum, p)
		}
		r.AppCompose = ev.AppCompose
	}
	if ti := ev.TCBInfo; ti != nil && ti.ComposeHash != "" && !strings.EqualFold(ti.ComposeHash, hex.EncodeToString(p)) {
		return fail(CheckComposeHash, "tcb_info.compose_hash %s is not the attested %x", ti.ComposeHash, p)
	}
	r.pass(CheckComposeHash, "compose-hash event %x is the approved one", p)
	return nil
}

func (r *Report) checkAppAndKMS(_ context.Context, _ *Evidence, exp Expected) error {
	app, ok := r.Replay.Lookup("app-id")
	if !ok {
		return fail(CheckAppID, "no app-id event in RTMR3")
	}
	r.AppID = app
	if !bytes.Equal(app, exp.AppID) {
		return fail(CheckAppID, "the CVM runs app %x, the caller's app is %x", app, exp.AppID)
	}
	r.pass(CheckAppID, "app-id event %x is the caller's app", app)
	r.InstanceID, _ = r.Replay.Lookup("instance-id")
	kpPayload, ok := r.Replay.Lookup("key-provider")
	if !ok {
		return fail(CheckKeyProvider, "no key-provider event in RTMR3")
	}
	kp, err := parseKeyProvider(kpPayload)
	if err != nil {
		return err
	}
	r.KeyProvider = kp
	if exp.KMS == nil {
		r.skip(CheckKeyProvider, fmt.Sprintf("no trusted KMS given; the CVM's key provider is %s %s", kp.Name, kp.ID))
		return nil
	}
	if kp.Name != exp.KMS.Name || kp.ID != strings.ToLower(strings.TrimPrefix(exp.KMS.ID, "0x")) {
		return fail(CheckKeyProvider, "the CVM's key provider is %s %s, the caller trusts %s %s", kp.Name, kp.ID, exp.KMS.Name, exp.KMS.ID)
	}
	r.pass(CheckKeyProvider, "key-provider event names the trusted %s %s", kp.Name, kp.ID)
	return nil
}

func (r *Report) checkMRConfig(_ context.Context, _ *Evidence, exp Expected) error {
	id := r.Quote.Quote.Report.MRConfigID
	r.MRConfigID = id
	if allZero(id[:]) && exp.AllowUnboundMRConfigID {
		r.skip(CheckMRConfigID, "mr_config_id is all zero (no binding) and the caller allows it")
		return nil
	}
	kind, ok := r.KeyProvider.kind()
	if !ok && id[0] != 1 {
		return fail(CheckMRConfigID, "key provider %q has no mr_config_id kind", r.KeyProvider.Name)
	}
	if id[0] != 3 && (len(exp.GPUPolicyHash) > 0 || exp.InitScriptHashes != nil) {
		return fail(CheckMRConfigID, "the caller expects a GPU policy or init scripts bound, but mr_config_id is V%d, which cannot bind them", id[0])
	}
	kpID, _ := hex.DecodeString(r.KeyProvider.ID)
	c := MRConfig{ComposeHash: r.ComposeHash, AppID: r.AppID, KeyProvider: kind, KeyProviderID: kpID,
		InstanceID: r.InstanceID, GPUPolicyHash: exp.GPUPolicyHash, InitScriptHashes: exp.InitScriptHashes}
	if err := VerifyMRConfigID(id, c); err != nil {
		return err
	}
	r.pass(CheckMRConfigID, "mr_config_id V%d binds the verified configuration", id[0])
	return nil
}

func (r *Report) checkReportData(_ context.Context, _ *Evidence, exp Expected) error {
	have := r.Quote.Quote.Report.ReportData
	if exp.ReportData == nil {
		r.skip(CheckReportData, fmt.Sprintf("no expected report data given; the quote's is %x", have))
		return nil
	}
	if have != *exp.ReportData {
		return fail(CheckReportData, "report data %x is not the expected %x", have, *exp.ReportData)
	}
	r.pass(CheckReportData, "report data is the expected %x", have)
	return nil
}

func (r *Report) checkOS(_ context.Context, _ *Evidence, exp Expected) error {
	r.OSImageHash, _ = r.Replay.Lookup("os-image-hash")
	q := &r.Quote.Quote.Report
	summary := fmt.Sprintf("MRTD %x, RTMR0 %x, RTMR1 %x, RTMR2 %x, os-image-hash %x", q.MRTD, q.RTMR[0], q.RTMR[1], q.RTMR[2], r.OSImageHash)
	if exp.OS == nil {
		r.skip(CheckOSImage, "no pins given; "+summary)
		return nil
	}
	for _, c := range []struct {
		name      string
		pin, have []byte
	}{{"MRTD", exp.OS.MRTD, q.MRTD[:]}, {"RTMR0", exp.OS.RTMR0, q.RTMR[0][:]}, {"RTMR1", exp.OS.RTMR1, q.RTMR[1][:]}, {"RTMR2", exp.OS.RTMR2, q.RTMR[2][:]}, {"os-image-hash", exp.OS.OSImageHash, r.OSImageHash}} {
		if len(c.pin) != 0 && !bytes.Equal(c.pin, c.have) {
			return fail(CheckOSImage, "%s %x is not the pinned %x", c.name, c.have, c.pin)
		}
	}
	r.pass(CheckOSImage, "pinned measurements match; %s", summary)
	return nil
}
