package onchain_test

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/phala"
)

// Issue 20 §1: an attacker controlling the API's answers deploys a
// look-alike KMS contract on the same chain with a root key of their own,
// registers the app there, names it in the CVM detail and signs their own
// X25519 key with that root. Nothing may be encrypted to it.
func TestAttackLookalikeKMSContractIsRefused(t *testing.T) {
	attacker, _ := crypto.GenerateKey()
	e := newEnv(t, envOpts{lookalike: crypto.FromECDSA(attacker)})
	ctx := ctxT(t)
	envs := []phala.EnvVar{{Key: "FOO", Value: "secret-value"}}
	sent := e.chain.Client().Sent()

	// An anchor with no pinned contract reads nothing the API names.
	unpinned := onchain.NewKMSAnchor(e.chain.Client())
	_, err := e.client.EncryptAndUpdateEnvs(ctx, "app_"+e.cvm.AppID, envs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: unpinned}})
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	require.ErrorIs(t, err, onchain.ErrKMSNotPinned)

	// Pinned to the real contract: the detail's look-alike is refused,
	// both addresses named.
	anchor := e.anchor()
	_, err = e.client.EncryptAndUpdateEnvs(ctx, "app_"+e.cvm.AppID, envs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: anchor}})
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	require.Contains(t, err.Error(), e.chain.KMSContract.Hex())
	require.Contains(t, err.Error(), e.cvm.KMSContractAddress)
	require.NotContains(t, err.Error(), "secret-value")

	// The client-wide anchor and the on-chain flow's EnvsChange alike.
	c := e.srv.Client(phala.WithoutRetries(), phala.WithKeyAnchor(unpinned))
	_, err = c.EncryptAndUpdateEnvs(ctx, "app_"+e.cvm.AppID, envs, nil)
	require.ErrorIs(t, err, onchain.ErrKMSNotPinned)
	_, err = e.updater(e.owner, nil).Run(ctx, "app_"+e.cvm.AppID, onchain.EnvsChange(e.client, "app_"+e.cvm.AppID, envs, anchor))
	require.ErrorIs(t, err, phala.ErrKeyVerification)

	require.Empty(t, e.srv.Applied(e.cvm.ID), "nothing was sent")
	require.Empty(t, e.srv.Envs(e.cvm.ID))
	require.Equal(t, sent, e.chain.Client().Sent(), "no transaction")
}

func TestKMSAnchorPinnedPerChain(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	id := e.chain.ChainID.Int64()
	ref := phala.KMSRef{ID: "kms", ChainID: &id, AppID: e.cvm.AppID}

	// Another chain pinned only: this chain is refused.
	other := onchain.NewKMSAnchor(e.chain.Client(), onchain.WithKMSContracts(map[int64]common.Address{8453: e.chain.KMSContract}))
	_, err := other.TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, onchain.ErrKMSNotPinned)
	require.Contains(t, err.Error(), "onchain.WithKMSContract")

	// This chain pinned: the detail need not name the contract.
	byChain := onchain.NewKMSAnchor(e.chain.Client(), onchain.WithKMSContracts(map[int64]common.Address{id: e.chain.KMSContract}))
	signer, err := byChain.TrustedSigner(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(e.srv.KMSSigner()), signer)
	require.Contains(t, byChain.String(), e.chain.KMSContract.Hex())
}

// The real DstackKms records the apps it serves (registeredApps): a key for
// an app the pinned contract does not serve is refused.
func TestKMSAnchorRefusesAnUnregisteredApp(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	id := e.chain.ChainID.Int64()
	ref := phala.KMSRef{ID: "kms", ChainID: &id, AppID: strings.Repeat("ab", 20)}
	_, err := e.anchor().TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, onchain.ErrAppNotRegistered)
	require.Contains(t, err.Error(), e.chain.KMSContract.Hex())
}
