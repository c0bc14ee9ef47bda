package onchain_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/attest"
)

// attestExpected verifies phalatest's recorded attestation (the prod7
// sample) at a time its collateral holds.
func attestExpected(t *testing.T) *attest.Expected {
	b, err := os.ReadFile("../phala/attest/testdata/dstack-0.5.3-phala-prod7.collateral.json")
	require.NoError(t, err)
	col, err := attest.ParseCollateral(b)
	require.NoError(t, err)
	return &attest.Expected{Time: time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC), Collateral: col}
}

// The fake says the CVM is live, but the attestation it serves is a
// recorded one of another compose hash (no fake can sign a TDX quote):
// the attested step must refuse it, naming the check, after verifying
// the quote itself to Intel's root.
func TestAttestedStepRefusesAnotherComposeHash(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := &recorder{}
	u := e.updater(e.owner, rec)
	u.Attest = attestExpected(t)
	out, err := u.Run(ctxT(t), e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, attest.ErrComposeHash)
	steps := rec.steps()
	require.Equal(t, onchain.StepLive, steps[len(steps)-1], "no StepAttested")
	require.NotNil(t, out.Attestation)
	require.Equal(t, attest.StatusUpToDate, out.Attestation.Quote.Status)
	last := out.Attestation.Checks[len(out.Attestation.Checks)-1]
	require.Equal(t, attest.CheckComposeHash, last.Check)
	require.False(t, last.Passed)
}

func TestAttestSettingsCheckedBeforeSending(t *testing.T) {
	e := newEnv(t, envOpts{})
	u := e.updater(e.owner, nil)
	u.Attest = &attest.Expected{}
	_, err := u.Run(ctxT(t), e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	require.Empty(t, e.srv.Applied(e.cvm.ID))
}

// With AttestedBaseline the change is applied to the running CVM's
// attested app-compose, never to the API's: the fake serves a recorded
// attestation whose compose hash the fake app's contract does not allow,
// so the baseline is refused before anything is signed (the same run
// without AttestedBaseline registers and goes live, see
// TestAttestedStepRefusesAnotherComposeHash).
func TestAttestedBaselineIsVerifiedBeforeSigning(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := &recorder{}
	u := e.updater(e.owner, rec)
	u.AttestedBaseline = attestExpected(t)
	_, err := u.Run(ctxT(t), e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, attest.ErrComposeHash)
	require.NotContains(t, rec.steps(), onchain.StepSubmitted, "nothing is signed")
	require.Empty(t, e.srv.Applied(e.cvm.ID))

	u = e.updater(e.owner, nil)
	u.AttestedBaseline = &attest.Expected{}
	_, err = u.Run(ctxT(t), e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, phala.ErrInvalidArgument, "a baseline that could never verify is refused before sending")
}
