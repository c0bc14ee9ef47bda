package phala_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Issue 20 §2: a CVM named by its cvm_ id, its UUID or its name lets the detail's
// app id decide whose key is fetched. A detail naming another app the same
// KMS serves gets a key the KMS genuinely signed, for that other app: the
// secrets would go to whoever runs it. Refused unless the caller named or
// pinned the app.
func TestTrustAppNotNamedByCallerIsRefused(t *testing.T) {
	srv, victim, theirs, a := otherAppAttack(t)
	ctx := context.Background()
	c := a.client(t, srv, phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))

	for _, id := range []string{victim.ID, victim.Name, victim.VMUUID} {
		_, err := audited(c.EncryptAndUpdateEnvs(ctx, id, secretEnvs(trustEnvs), nil))
		require.ErrorIs(t, err, phala.ErrKeyVerification, id)
		assert.Contains(t, err.Error(), "EnvKeyOptions.AppID", "says how to pin the app")
		assert.Contains(t, err.Error(), `"app_" + 40 hex`)
		_, err = audited(c.GetEnvEncryptPublicKey(ctx, id, nil))
		require.ErrorIs(t, err, phala.ErrKeyVerification, id)

		// Pinned: the detail's other app is refused, both named.
		_, err = audited(c.EncryptAndUpdateEnvs(ctx, id, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{AppID: victim.AppID}}))
		require.ErrorIs(t, err, phala.ErrKeyVerification, id)
		assert.Contains(t, err.Error(), theirs.AppID)
		assert.Contains(t, err.Error(), victim.AppID)
	}
	assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
	assert.Zero(t, a.count("GET", "/kms/"), "no key fetched")
	assert.Empty(t, a.loot())
	assert.Empty(t, srv.Applied(victim.ID))
	assert.Empty(t, srv.Applied(theirs.ID))

	// A genuine answer with the app pinned passes, by name and by cvm_ id.
	honest := auditedFake(srv.Client(phala.WithKeyAnchor(mustPin(t, srv.KMSSigner()))))
	for _, id := range []string{victim.ID, victim.Name} {
		key, err := audited(honest.GetEnvEncryptPublicKey(ctx, id, &phala.EnvKeyOptions{AppID: "0x" + victim.AppID}))
		require.NoError(t, err, id)
		assert.Equal(t, victim.AppID, key.AppID)
		assert.True(t, key.SignerVerified)
	}
}

func TestTrustAppPinBadInput(t *testing.T) {
	srv := phalatest.NewTestServer(t)
	victim, _ := srv.CVM(phalatest.OnChainCVMName)
	a := newAttackerProxy(t, srv)
	c := a.client(t, srv, phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))
	ctx := context.Background()
	for name, tc := range map[string]struct{ cvm, app string }{
		"malformed":            {victim.Name, "app_123"},
		"disagrees with cvmID": {"app_" + victim.AppID, "0x" + "ab" + victim.AppID[2:]},
	} {
		_, err := audited(c.EncryptAndUpdateEnvs(ctx, tc.cvm, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{AppID: tc.app}}))
		require.ErrorIs(t, err, phala.ErrInvalidArgument, name)
		assert.Contains(t, err.Error(), "opts.Key.AppID", name)
	}
	assert.Zero(t, a.count("GET", "")+a.count("PATCH", ""), "refused before any request")
}

// Issue 20 §1: kms_info.k256_pubkey (newer API versions) is the API's word:
// shown, never trusted. A detail naming the attacker's signer there does
// not make the attacker's key acceptable, with or without an anchor.
func TestTrustK256PubkeyInDetailIsNotTrusted(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	seed, _ := srv.CVM(phalatest.OnChainCVMName)
	a := newAttackerProxy(t, srv)
	a.swapKMSKey, a.k256 = true, true
	app := "app_" + seed.AppID
	_, err := audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, app, secretEnvs(trustEnvs), nil))
	require.ErrorIs(t, err, phala.ErrKeyVerification, "no anchor: refused, k256_pubkey is no anchor")
	_, err = audited(a.client(t, srv, phala.WithKeyAnchor(mustPin(t, srv.KMSSigner()))).EncryptAndUpdateEnvs(ctx, app, secretEnvs(trustEnvs), nil))
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	assert.Contains(t, err.Error(), a.signerHex(), "the attacker's signer is named as found, not trusted")
	assert.Zero(t, a.count("PATCH", ""))
	assert.Empty(t, a.loot())
}

// otherAppAttack is a fake with the victim's on-chain CVM and the
// attacker's app on the same KMS, behind a proxy whose detail names the
// attacker's app.
func otherAppAttack(t *testing.T) (*phalatest.Server, phalatest.CVMSeed, phalatest.CVMSeed, *attackerProxy) {
	t.Helper()
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "attacker-app", ChainID: 8453}))
	victim, _ := srv.CVM(phalatest.OnChainCVMName)
	theirs, _ := srv.CVM("attacker-app")
	a := newAttackerProxy(t, srv)
	a.otherApp = "app_" + theirs.AppID
	return srv, victim, theirs, a
}
