package attest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// prod7Expected is what the owner of phalatest's recorded attestation
// (the prod7 sample) approved, at a time its collateral holds.
func prod7Expected(t testing.TB) Expected {
	return Expected{Time: prod7.at, Collateral: loadCollateral(t, prod7.collateral),
		ComposeHash: unhex(t, prod7.composeHash), AppID: unhex(t, phalatest.SampleAttestationAppID)}
}

func TestVerifyUpdateAgainstPhalatest(t *testing.T) {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	result, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  app:\n    image: nginx:1.27\n", nil)
	require.NoError(t, err)
	out, err := VerifyUpdate(ctx, client, phalatest.CentralCVMName, result, nil, prod7Expected(t))
	require.NoError(t, err)
	assert.Equal(t, "running", out.State.Status)
	assert.True(t, out.Attestation.IsOnline)
	assert.Equal(t, StatusUpToDate, out.Report.Quote.Status)
	assert.Equal(t, []byte(out.Attestation.TCBInfo.AppCompose), out.Report.AppCompose)

	other := prod7Expected(t)
	other.AppID[0] ^= 1
	result, err = client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  app:\n    image: nginx:1.28\n", nil)
	require.NoError(t, err)
	out, err = VerifyUpdate(ctx, client, phalatest.CentralCVMName, result, nil, other)
	assert.ErrorIs(t, err, ErrAppID)
	require.NotEmpty(t, out.Report.Checks)
	assert.Equal(t, CheckAppID, out.Report.Checks[len(out.Report.Checks)-1].Check)
}

func TestVerifyUpdateRejectsBadInputBeforeRequests(t *testing.T) {
	srv := phalatest.NewServer()
	defer srv.Close()
	exp := prod7Expected(t)
	exp.Time = exp.Time.AddDate(-100, 0, 0)
	exp.AppID = nil
	_, err := VerifyUpdate(context.Background(), srv.Client(), phalatest.CentralCVMName, &phala.UpdateResult{CorrelationID: "x"}, nil, exp)
	assert.ErrorIs(t, err, ErrInput)
	_, err = VerifyUpdate(context.Background(), nil, "x", nil, nil, prod7Expected(t))
	assert.ErrorIs(t, err, ErrInput)
}

func TestEvidenceFromCVMAttestation(t *testing.T) {
	_, err := EvidenceFromCVMAttestation(&phala.CVMAttestation{IsOnline: false, Error: "CVM is stopped"})
	assert.ErrorIs(t, err, ErrInput)
	_, err = EvidenceFromCVMAttestation(&phala.CVMAttestation{IsOnline: true})
	assert.ErrorIs(t, err, ErrInput)
	_, err = EvidenceFromCVMAttestation(nil)
	assert.ErrorIs(t, err, ErrInput)
}

func TestAttestedBaseline(t *testing.T) {
	srv := phalatest.NewServer()
	defer srv.Close()
	exp := prod7Expected(t)
	allowed := [32]byte(exp.ComposeHash)
	exp.ComposeHash = nil
	exp.ComposeHashAllowed = func(_ context.Context, h [32]byte) (bool, error) { return h == allowed, nil }
	doc, r, err := AttestedBaseline(context.Background(), srv.Client(), phalatest.CentralCVMName, exp)
	require.NoError(t, err)
	assert.Equal(t, readTestdata(t, "dstack-0.5.3-phala-prod7.app_compose.json"), doc)
	assert.Equal(t, allowed, r.ComposeHash)

	exp.ComposeHashAllowed = func(context.Context, [32]byte) (bool, error) { return false, nil }
	_, _, err = AttestedBaseline(context.Background(), srv.Client(), phalatest.CentralCVMName, exp)
	assert.ErrorIs(t, err, ErrComposeHash)
}
