package onchain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
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
		return u.checkBaseline()
	case a.Time.IsZero():
		return invalidArg("updater.Attest.Time", "is zero: pass the verification time explicitly")
	case a.Collateral == nil && a.Source == nil && !a.SignatureOnly:
		return invalidArg("updater.Attest", "has no Collateral or Source (or SignatureOnly)")
	}
	return u.checkBaseline()
}

// checkBaseline refuses AttestedBaseline settings that could never verify.
func (u *Updater) checkBaseline() error {
	switch b := u.AttestedBaseline; {
	case b == nil:
		return nil
	case b.Time.IsZero():
		return invalidArg("updater.AttestedBaseline.Time", "is zero: pass the verification time explicitly")
	case b.Collateral == nil && b.Source == nil:
		return invalidArg("updater.AttestedBaseline", "has no Collateral or Source: the baseline must be verified to Intel's root")
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
	if exp.AppID, err = attestedApp(app); err != nil {
		return err
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

// verify checks the 465's compose hash against the change applied to the
// current app-compose: the attested one with AttestedBaseline, else the
// API's (whose hash the app contract must allow, see verifyChange).
func (u *Updater) verify(ctx context.Context, app *App, cvmID, appID string, edit *phala.PatchCVMRequest, res *phala.UpdateResult) (*phala.ComposeCheck, error) {
	if u.AttestedBaseline == nil {
		return verifyChange(ctx, u.Client, app, cvmID, appID, edit, res.AppID, res.ComposeHash)
	}
	exp := *u.AttestedBaseline
	var err error
	if exp.AppID, err = attestedApp(appID); err != nil {
		return nil, err
	}
	if exp.ComposeHash == nil && exp.AppCompose == nil && exp.ComposeHashAllowed == nil {
		exp.ComposeHashAllowed = func(ctx context.Context, h [32]byte) (bool, error) {
			return app.ComposeHashAllowed(ctx, hex.EncodeToString(h[:]))
		}
	}
	raw, _, err := attest.AttestedBaseline(ctx, u.Client, cvmID, exp)
	if err != nil {
		return nil, err
	}
	var cur phala.AppCompose
	if err := json.Unmarshal(raw, &cur); err != nil {
		return nil, fmt.Errorf("onchain: the attested app-compose: %w", err)
	}
	return phala.CheckComposeHash(&cur, edit, res.ComposeHash)
}

// attestedApp is the caller's app id (40 hex) as attest.Expected.AppID.
func attestedApp(appID string) ([]byte, error) {
	b, err := hex.DecodeString(appID)
	if err != nil || len(b) != 20 {
		return nil, invalidArg("updater.AppID", "is needed to attest the app (40 hex)")
	}
	return b, nil
}
