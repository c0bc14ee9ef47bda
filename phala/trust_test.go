package phala_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// A proxy swaps the on-chain KMS's key for its own, signed by a fresh key.
// Whatever the caller configured, nothing is encrypted to it: no PATCH
// leaves the SDK and the attacker decrypts nothing.
func TestTrustAttackerSwapsKMSKey(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	seed, _ := srv.CVM(phalatest.OnChainCVMName)
	cvm := "app_" + seed.AppID // named by its app id: the env key is trusted only for an app the caller named
	ctx := context.Background()

	t.Run("no anchor", func(t *testing.T) {
		a := newAttackerProxy(t, srv)
		a.swapKMSKey = true
		_, err := audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), nil))
		require.ErrorIs(t, err, phala.ErrKeyVerification)
		assert.Contains(t, err.Error(), "phala.WithKeyAnchor", "the message says how to pin a signer")
		assert.Contains(t, err.Error(), "phala.PinnedSigner")
		assert.NotContains(t, err.Error(), "PinnedSigner(", "no call that would not compile (PinnedSigner returns two values)")
		assert.Contains(t, err.Error(), "EnvKeyOptions.Anchor")
		assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
		assert.Zero(t, a.count("GET", "/kms/"), "refused before the KMS key was even fetched")
		assert.Empty(t, a.loot(), "the attacker decrypted nothing")

		_, err = audited(a.client(t, srv).GetEnvEncryptPublicKey(ctx, cvm, nil))
		require.ErrorIs(t, err, phala.ErrKeyVerification)
	})

	pinned := srv.KMSSigner()
	for name, call := range map[string]func(a *attackerProxy) (*phala.UpdateResult, error){
		"Anchor": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: mustPin(t, pinned)}}))
		},
		"ExpectedSigner": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: pinned}}))
		},
		"WithKeyAnchor": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return audited(a.client(t, srv, phala.WithKeyAnchor(mustPin(t, pinned))).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), nil))
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv)
			a.swapKMSKey = true
			res, err := call(a)
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Nil(t, res)
			var kve *phala.KeyVerificationError
			require.ErrorAs(t, err, &kve)
			assert.Equal(t, a.signerHex(), kve.Signer)
			assert.Equal(t, strings.ToLower(pinned), kve.TrustedSigner)
			assert.Equal(t, "pinned signer "+strings.ToLower(pinned), kve.Anchor)
			assert.Contains(t, err.Error(), a.signerHex(), "names the signer found")
			assert.Contains(t, err.Error(), strings.ToLower(pinned), "names the signer trusted")
			assert.Contains(t, err.Error(), phalatest.DefaultKMSID)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), "correct-horse-battery", "no env value in the error")
			assert.Equal(t, 1, a.count("GET", "/kms/"))
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			assert.Empty(t, a.loot(), "the attacker decrypted nothing")
		})
	}
	assert.Empty(t, srv.Applied(cvm))
}

// A detail that drops chain_id and carries the attacker's key would take
// the unsigned central path; with a signer or anchor given it is refused.
func TestTrustDroppedChainIDRefusedUnderAnchor(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	cvm := phalatest.OnChainCVMName
	ctx := context.Background()
	pinned := srv.KMSSigner()
	for name, call := range map[string]func(a *attackerProxy) (any, error){
		"ExpectedSigner": func(a *attackerProxy) (any, error) {
			return audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: pinned}}))
		},
		"Anchor": func(a *attackerProxy) (any, error) {
			return audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: mustPin(t, pinned)}}))
		},
		"WithKeyAnchor": func(a *attackerProxy) (any, error) {
			return audited(a.client(t, srv, phala.WithKeyAnchor(mustPin(t, pinned))).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), nil))
		},
		"GetEnvEncryptPublicKey": func(a *attackerProxy) (any, error) {
			return audited(a.client(t, srv).GetEnvEncryptPublicKey(ctx, cvm, &phala.EnvKeyOptions{Anchor: mustPin(t, pinned)}))
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv)
			a.dropChainID = true
			_, err := call(a)
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Contains(t, err.Error(), "central KMS")
			assert.Contains(t, err.Error(), "InsecureTrustAPISigner", "says how to accept a genuinely central CVM")
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			assert.Empty(t, a.loot(), "the attacker decrypted nothing")
		})
	}
	assert.Empty(t, srv.Applied(cvm))
}

// The correct pinned signer works, per call and client-wide, and the
// result says what the key was checked against.
func TestTrustPinnedSignerWorks(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "pinned-app", ChainID: 8453, AllowedEnvs: []string{"DB_PASSWORD"}}))
	ctx := context.Background()
	seed, _ := srv.CVM("pinned-app")
	id := "app_" + seed.AppID // named by its app id: the env key is trusted only for an app the caller named
	want := strings.ToLower(srv.KMSSigner())
	anchor := mustPin(t, strings.ToUpper(srv.KMSSigner()[:2])+strings.ToUpper(srv.KMSSigner()[2:]))
	assert.Equal(t, "pinned signer "+want, anchor.String(), "normalised to lowercase")

	for name, c := range map[string]struct {
		client *phala.Client
		opts   *phala.UpdateEnvsOptions
	}{
		"per call":    {auditedFake(srv.Client()), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: anchor}}},
		"client-wide": {auditedFake(srv.Client(phala.WithKeyAnchor(anchor))), nil},
	} {
		t.Run(name, func(t *testing.T) {
			// A value of its own per subtest: the same set twice is a no_change.
			envs := []phala.EnvVar{{Key: "DB_PASSWORD", Value: "correct-horse-" + name}}
			res, err := audited(c.client.EncryptAndUpdateEnvs(ctx, id, secretEnvs(envs), c.opts))
			require.NoError(t, err)
			assert.Equal(t, phala.StatusInProgress, res.Status)
			require.NotNil(t, res.EnvKey)
			assert.True(t, res.EnvKey.OnChain)
			assert.True(t, res.EnvKey.SignerVerified)
			assert.Equal(t, want, res.EnvKey.Signer)
			assert.Equal(t, "pinned signer "+want, res.EnvKey.Anchor)
			assert.Equal(t, phalatest.DefaultKMSID, res.EnvKey.KMS)
			assert.Equal(t, envs[0].Value, srv.Envs("pinned-app")["DB_PASSWORD"], "the VM decrypts it")

			var keyOpts *phala.EnvKeyOptions
			if c.opts != nil {
				keyOpts = &c.opts.Key
			}
			key, err := audited(c.client.GetEnvEncryptPublicKey(ctx, id, keyOpts))
			require.NoError(t, err)
			assert.Equal(t, res.EnvKey.PublicKey, key.PublicKey)
			assert.True(t, key.SignerVerified)
		})
	}

	// The phase-1 answer of an on-chain key change carries the key too.
	res, err := audited(auditedFake(srv.Client(phala.WithKeyAnchor(anchor))).EncryptAndUpdateEnvs(ctx, id,
		secretEnvs([]phala.EnvVar{{Key: "DB_PASSWORD", Value: "x"}, {Key: "NEW_KEY", Value: "y"}}), nil))
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	require.NotNil(t, res.EnvKey)
	assert.Equal(t, want, res.EnvKey.Signer)
}

// InsecureTrustAPISigner is an explicit opt-in: it works, the result
// names it, and it does what its name says (the API chooses the key).
func TestTrustAPIOptIn(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "trusting-app", ChainID: 8453, AllowedEnvs: []string{"DB_PASSWORD"}}))
	ctx := context.Background()
	optIn := phala.InsecureTrustAPISigner()
	assert.Contains(t, optIn.String(), "InsecureTrustAPISigner")
	_, err := optIn.TrustedSigner(ctx, phala.KMSRef{})
	assert.Error(t, err, "it has no signer of its own")

	res, err := audited(auditedFake(srv.Client()).EncryptAndUpdateEnvs(ctx, "trusting-app", secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: optIn}}))
	require.NoError(t, err)
	require.NotNil(t, res.EnvKey)
	assert.Equal(t, optIn.String(), res.EnvKey.Anchor, "the result says which anchor")
	assert.False(t, res.EnvKey.SignerVerified, "nothing was compared")
	assert.Equal(t, strings.ToLower(srv.KMSSigner()), res.EnvKey.Signer, "the signer found, for the log")
	assert.Equal(t, "correct-horse-battery", srv.Envs("trusting-app")["DB_PASSWORD"])

	// Client-wide, it also takes a central KMS's unsigned key.
	central, err := audited(auditedFake(srv.Client(phala.WithKeyAnchor(optIn))).EncryptAndUpdateEnvs(ctx, phalatest.CentralCVMName, secretEnvs([]phala.EnvVar{{Key: "A", Value: "1"}}), nil))
	require.NoError(t, err)
	assert.Equal(t, optIn.String(), central.EnvKey.Anchor)
	assert.False(t, central.EnvKey.OnChain)
	assert.Empty(t, central.EnvKey.Signer)

	// The risk, as documented: a proxy then chooses the key.
	a := newAttackerProxy(t, srv)
	a.swapKMSKey = true
	res, err = audited(a.client(t, srv).EncryptAndUpdateEnvs(ctx, "trusting-app", secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: optIn}}))
	if err == nil {
		assert.Equal(t, a.signerHex(), res.EnvKey.Signer)
	}
	assert.Equal(t, []string{"DB_PASSWORD=correct-horse-battery"}, a.loot(), "what InsecureTrustAPISigner's doc warns of")
}

// fakeAnchor is a KeyAnchor whose answer the test chooses; it records
// what it was asked.
type fakeAnchor struct {
	signer string
	err    error
	mu     sync.Mutex
	asked  []phala.KMSRef
}

func (f *fakeAnchor) TrustedSigner(_ context.Context, kms phala.KMSRef) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, kms)
	return f.signer, f.err
}

func (f *fakeAnchor) String() string { return "fake anchor" }

// An anchor that fails stops everything: its error is wrapped, the KMS
// key is not fetched, nothing is encrypted or sent.
func TestTrustAnchorErrorStopsTheUpdate(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	seed, _ := srv.CVM(phalatest.OnChainCVMName)
	cvm := "app_" + seed.AppID // named by its app id: the env key is trusted only for an app the caller named
	rpcDown := errors.New("chain RPC unreachable")
	for name, anchor := range map[string]*fakeAnchor{
		"error":            {err: rpcDown},
		"malformed signer": {signer: "0x04" + strings.Repeat("ab", 64)},
		"empty signer":     {},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv) // passes everything through unchanged
			res, err := audited(a.client(t, srv, phala.WithKeyAnchor(anchor)).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), nil))
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), "fake anchor")
			if anchor.err != nil {
				assert.ErrorIs(t, err, rpcDown, "the anchor's error is wrapped")
			}
			assert.Zero(t, a.count("GET", "/kms/"), "the KMS key was not fetched")
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			require.Len(t, anchor.asked, 1)
		})
	}
	assert.Empty(t, srv.Applied(cvm))

	// What the anchor is given: the KMS as the detail names it.
	anchor := &fakeAnchor{signer: srv.KMSSigner()}
	key, err := audited(auditedFake(srv.Client()).GetEnvEncryptPublicKey(ctx, cvm, &phala.EnvKeyOptions{Anchor: anchor}))
	require.NoError(t, err)
	assert.Equal(t, "fake anchor", key.Anchor)
	info, err := audited(auditedFake(srv.Client()).GetCVMInfo(ctx, cvm))
	require.NoError(t, err)
	require.Len(t, anchor.asked, 1)
	ref := anchor.asked[0]
	assert.Equal(t, phalatest.DefaultKMSID, ref.ID)
	assert.Equal(t, phalatest.DefaultKMSSlug, ref.Slug)
	require.NotNil(t, ref.ChainID)
	assert.Equal(t, int64(8453), *ref.ChainID)
	assert.Equal(t, info.KMSInfo.KMSContractAddress, ref.ContractAddress)
	assert.Regexp(t, `^0x[0-9a-f]{40}$`, ref.ContractAddress)
	assert.Equal(t, strings.TrimPrefix(info.AppID, "app_"), ref.AppID)
}

// A central-KMS CVM with no anchor keeps working (its key comes unsigned
// from the API); under an anchor it is refused, unless the call opts in.
func TestTrustCentralKMS(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	cvm := phalatest.CentralCVMName
	res, err := audited(auditedFake(srv.Client()).EncryptAndUpdateEnvs(ctx, cvm, secretEnvs(trustEnvs), nil))
	require.NoError(t, err)
	assert.Empty(t, res.EnvKey.Anchor)
	assert.Empty(t, res.EnvKey.Signer)
	assert.False(t, res.EnvKey.SignerVerified)

	pinned := auditedFake(srv.Client(phala.WithKeyAnchor(mustPin(t, srv.KMSSigner()))))
	_, err = audited(pinned.EncryptAndUpdateEnvs(ctx, cvm, secretEnvs([]phala.EnvVar{{Key: "DB_PASSWORD", Value: "changed"}}), nil))
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	assert.Len(t, srv.Applied(cvm), 1, "the refused call sent nothing")

	res, err = audited(pinned.EncryptAndUpdateEnvs(ctx, cvm, secretEnvs([]phala.EnvVar{{Key: "DB_PASSWORD", Value: "changed"}}),
		&phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: phala.InsecureTrustAPISigner()}}))
	require.NoError(t, err)
	assert.Equal(t, phala.InsecureTrustAPISigner().String(), res.EnvKey.Anchor)
}

// Malformed signers and anchors are ErrInvalidArgument errors before any
// request.
func TestTrustBadInput(t *testing.T) {
	good := "0x" + hex.EncodeToString(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)).PubKey().SerializeCompressed())
	for _, bad := range []string{
		"", good[2:], "0x", good[:len(good)-2], good + "00", "0x04" + good[4:], "0x" + strings.Repeat("zz", 33),
		"0x" + hex.EncodeToString(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)).PubKey().SerializeUncompressed()),
		"0x02" + strings.Repeat("ff", 32), // x >= p: not on the curve
		" " + good,
	} {
		a, err := audited(phala.PinnedSigner(bad))
		assert.Nil(t, a, "%q", bad)
		var iae *phala.InvalidArgumentError
		require.ErrorAs(t, err, &iae, "%q", bad)
		assert.Equal(t, "signer", iae.Field)
	}
	a, err := audited(phala.PinnedSigner(strings.ToUpper(good[2:4]) + good[4:]))
	assert.Nil(t, a, "no 0x prefix")
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)

	_, err = auditedClient(phala.NewClient(phala.WithKeyAnchor(nil)))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)
	assert.ErrorContains(t, err, "WithKeyAnchor")
	_, err = auditedClient(phala.NewClient(phala.WithKeyAnchor((*fakeAnchor)(nil))))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)

	var hits atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(hs.Close)
	c, err := auditedClient(phala.NewClient(phala.WithAPIKey("phak_trust-bad-input"), phala.WithBaseURL(hs.URL+"/api/v1")))
	require.NoError(t, err)
	ctx := context.Background()
	for field, opts := range map[string]phala.EnvKeyOptions{
		"opts.Key.ExpectedSigner": {ExpectedSigner: "0x1234"},
		"opts.Key.Anchor":         {Anchor: (*fakeAnchor)(nil)},
	} {
		_, err := audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: opts}))
		var iae *phala.InvalidArgumentError
		require.ErrorAs(t, err, &iae)
		assert.Equal(t, field, iae.Field)
		_, err = audited(c.GetEnvEncryptPublicKey(ctx, "my-app", &opts))
		require.ErrorAs(t, err, &iae)
		assert.Equal(t, strings.Replace(field, ".Key", "", 1), iae.Field)
	}
	_, err = audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs(trustEnvs), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: good, Anchor: mustPin(t, good)}}))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument, "both set")
	assert.Zero(t, hits.Load(), "no request sent")
}

// A detail naming another app on the same KMS carries a key the pinned
// KMS really signed, for an app the attacker runs. When the caller named
// the CVM by its app id, that is refused.
func TestTrustDetailNamingAnotherApp(t *testing.T) {
	srv, victim, theirs, a := otherAppAttack(t)
	ctx := context.Background()
	c := a.client(t, srv, phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))
	for _, id := range []string{"app_" + victim.AppID, victim.AppID, strings.ToUpper(victim.AppID)} {
		_, err := audited(c.EncryptAndUpdateEnvs(ctx, id, secretEnvs(trustEnvs), nil))
		require.ErrorIs(t, err, phala.ErrKeyVerification, id)
		assert.Contains(t, err.Error(), theirs.AppID)
		assert.Contains(t, err.Error(), victim.AppID)
	}
	assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
	assert.Zero(t, a.count("GET", "/kms/"))
	assert.Empty(t, srv.Applied(victim.ID))
	assert.Empty(t, srv.Applied(theirs.ID))

	// Named by its app id, a genuine answer passes, in either case.
	for _, id := range []string{"app_" + victim.AppID, strings.ToUpper(victim.AppID)} {
		res, err := audited(auditedFake(srv.Client(phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))).GetEnvEncryptPublicKey(ctx, id, nil))
		require.NoError(t, err, id)
		assert.Equal(t, victim.AppID, res.AppID)
	}
}
