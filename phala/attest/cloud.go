package attest

import (
	"context"

	"github.com/phalacloud/go-sdk/phala"
)

// EvidenceFromCVMAttestation turns Phala Cloud's attestation answer
// (phala.Client.GetCVMAttestation, unverified) into Evidence: the first
// certificate's quote, the event log, the exact app_compose bytes and the
// API's measurement claims, which Verify compares with the quote and
// never trusts. An offline CVM or an answer without quote or tcb_info
// fails with ErrInput.
func EvidenceFromCVMAttestation(a *phala.CVMAttestation) (*Evidence, error) {
	if a == nil {
		return nil, fail(CheckInput, "no attestation")
	}
	if !a.IsOnline {
		return nil, fail(CheckInput, "the CVM is not online: %s", a.Error)
	}
	quote, err := a.Quote()
	if err != nil {
		return nil, failErr(CheckInput, err, "the attestation's quote")
	}
	ti := a.TCBInfo
	if ti == nil {
		return nil, fail(CheckInput, "the attestation has no tcb_info (a private CVM?)")
	}
	log := make(EventLog, len(ti.EventLog))
	for i, e := range ti.EventLog {
		log[i] = Event{IMR: e.IMR, EventType: e.EventType, Digest: e.Digest, Event: e.Event, EventPayload: e.EventPayload}
	}
	ev := &Evidence{Quote: quote, EventLog: log, TCBInfo: &TCBInfo{MRTD: ti.MRTD, RTMR0: ti.RTMR0, RTMR1: ti.RTMR1,
		RTMR2: ti.RTMR2, RTMR3: ti.RTMR3, EventLog: log, AppCompose: ti.AppCompose, ComposeHash: ti.ComposeHash,
		OSImageHash: ti.OSImageHash, DeviceID: ti.DeviceID}}
	if ti.AppCompose != "" {
		ev.AppCompose = []byte(ti.AppCompose)
	}
	return ev, nil
}

// UpdateReport is the outcome of VerifyUpdate: the state the wait ended
// in, the attestation as the API gave it, and the report of every check.
type UpdateReport struct {
	State       *phala.CVMState
	Attestation *phala.CVMAttestation
	Report      *Report
}

// VerifyUpdate waits for the update result names to finish
// (phala.Client.WaitForUpdate with wait), reads the CVM's attestation and
// verifies it against exp: the CVM must run, on genuine TDX hardware at a
// TCB the policy accepts, exactly the compose hash, app and KMS the
// caller approved. exp is checked before any request; exp.Time must be
// set (pass the time explicitly, e.g. time.Now()). The report holds what
// was done so far when an error is returned: a phala error from the wait
// or the read, or an *Error naming the failed check.
func VerifyUpdate(ctx context.Context, c *phala.Client, cvmID string, result phala.Waitable, wait *phala.WaitOptions, exp Expected) (*UpdateReport, error) {
	out := &UpdateReport{Report: &Report{}}
	if c == nil {
		return out, fail(CheckInput, "no client")
	}
	if err := exp.validate(&Evidence{Quote: []byte{0}}); err != nil {
		return out, err
	}
	state, err := c.WaitForUpdate(ctx, cvmID, result, wait)
	out.State = state
	if err != nil {
		return out, err
	}
	if out.Attestation, err = c.GetCVMAttestation(ctx, cvmID); err != nil {
		return out, err
	}
	ev, err := EvidenceFromCVMAttestation(out.Attestation)
	if err != nil {
		return out, err
	}
	out.Report, err = Verify(ctx, ev, exp)
	return out, err
}

// AttestedBaseline reads the running CVM's attestation and verifies it
// against exp, and returns its app-compose: the exact bytes that hash to
// the RTMR3-bound compose-hash event of a quote verified to Intel's root.
// An on-chain update can apply the caller's change to these bytes and
// have the owner approve the result, instead of an app-compose the API
// returned (which may differ from what runs). exp needs a compose
// expectation like any Verify call; Expected.ComposeHashAllowed with the
// app contract's allowed hashes fits. Errors are Verify's and
// GetCVMAttestation's; evidence without app_compose fails with
// ErrComposeHash.
func AttestedBaseline(ctx context.Context, c *phala.Client, cvmID string, exp Expected) ([]byte, *Report, error) {
	if c == nil {
		return nil, &Report{}, fail(CheckInput, "no client")
	}
	a, err := c.GetCVMAttestation(ctx, cvmID)
	if err != nil {
		return nil, &Report{}, err
	}
	ev, err := EvidenceFromCVMAttestation(a)
	if err != nil {
		return nil, &Report{}, err
	}
	r, err := Verify(ctx, ev, exp)
	if err != nil {
		return nil, r, err
	}
	if r.AppCompose == nil {
		return nil, r, fail(CheckComposeHash, "the attestation carries no app_compose to serve as a baseline")
	}
	return r.AppCompose, r, nil
}
