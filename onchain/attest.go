package onchain

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/phalacloud/go-sdk/phala/attest"
)

// StepAttested: the live CVM's attestation verified (Attestation), after
// StepLive, when Updater.Attest is set.
const StepAttested Step = "attested"

// checkAttest refuses Updater.Attest settings that could never verify,
// before anything is sent.
func (u *Updater) checkAttest() error {
	a := u.Attest
	switch {
	case a == nil:
		return nil
	case a.Time.IsZero():
		return invalidArg("updater.Attest.Time", "is zero: pass the verification time explicitly")
	case a.Collateral == nil && a.Source == nil && !a.SignatureOnly:
		return invalidArg("updater.Attest", "has no Collateral or Source (or SignatureOnly)")
	}
	return nil
}

// attest reads the live CVM's attestation and verifies it: the compose
// hash must be the one this run registered on chain (it replaces any
// compose expectation in Attest) and the app the caller's (Updater.AppID
// or the app id Run was given); an off-chain change keeps Attest's own
// compose expectation. Time, collateral, policy, KMS and pins come from
// Attest.
func (u *Updater) attest(ctx context.Context, cvmID, app string, out *Outcome) error {
	exp := *u.Attest
	var err error
	if exp.AppID, err = hex.DecodeString(app); err != nil || len(exp.AppID) != 20 {
		return invalidArg("updater.AppID", "is needed to attest the app (40 hex)")
	}
	if out.OnChain {
		h, err := hex.DecodeString(strings.TrimPrefix(out.ComposeHash, "0x"))
		if err != nil {
			return invalidArg("compose hash", "the registered hash is not hex")
		}
		exp.ComposeHash, exp.AppCompose, exp.ComposeHashAllowed = h, nil, nil
	}
	a, err := u.Client.GetCVMAttestation(ctx, cvmID)
	if err != nil {
		return err
	}
	ev, err := attest.EvidenceFromCVMAttestation(a)
	if err != nil {
		return err
	}
	out.Attestation, err = attest.Verify(ctx, ev, exp)
	if err != nil {
		return err
	}
	u.progress(Event{Step: StepAttested, ComposeHash: out.ComposeHash, TxHash: out.TxHash, State: out.State, Attestation: out.Attestation})
	return nil
}
