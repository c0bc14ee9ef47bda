package onchain_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/phala"
)

func TestKMSAnchorReadsTheContract(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	anchor := e.anchor()
	ref, err := onchain.KMSRefOf(ctx, e.client, e.cvm.ID)
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(e.chain.KMSContract.Hex()), strings.ToLower(ref.ContractAddress))
	signer, err := anchor.TrustedSigner(ctx, ref)
	require.NoError(t, err)
	root, err := crypto.ToECDSA(e.chain.KMSRootKey)
	require.NoError(t, err)
	require.Equal(t, "0x"+hex.EncodeToString(crypto.CompressPubkey(&root.PublicKey)), signer)
	require.Equal(t, strings.ToLower(e.srv.KMSSigner()), signer, "the fake signs with the chain's root")
	require.Contains(t, anchor.String(), e.chain.KMSContract.Hex())

	// A key signed the phalatest way verifies against the chain's signer.
	key, err := e.client.GetEnvEncryptPublicKey(ctx, e.cvm.ID, &phala.EnvKeyOptions{ExpectedSigner: signer, AppID: e.cvm.AppID})
	require.NoError(t, err)
	require.Equal(t, signer, strings.ToLower(key.Signer))

	// The same key stored uncompressed (65 bytes) reads the same.
	require.NoError(t, e.chain.SetKMSRootPubkey(ctx, crypto.FromECDSAPub(&root.PublicKey)))
	again, err := anchor.TrustedSigner(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, signer, again)

	// Nothing usable stored.
	require.NoError(t, e.chain.SetKMSRootPubkey(ctx, []byte{1, 2, 3}))
	_, err = anchor.TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, onchain.ErrNoKMSKey)
}

func TestKMSAnchorRefusals(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	anchor := e.anchor()
	id := e.chain.ChainID.Int64()
	base := phala.KMSRef{ID: "kms", ChainID: &id, ContractAddress: e.chain.KMSContract.Hex(), AppID: e.cvm.AppID}

	wrong := int64(8453)
	ref := base
	ref.ChainID = &wrong
	_, err := anchor.TrustedSigner(ctx, ref)
	var ce *onchain.ChainMismatchError
	require.True(t, errors.As(err, &ce), "%v", err)

	ref = base
	ref.ChainID = nil
	_, err = anchor.TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, onchain.ErrNotOnChain)

	// A pinned address without code.
	ref = base
	ref.ContractAddress = ""
	empty := onchain.NewKMSAnchor(e.chain.Client(), onchain.WithKMSContract(common.HexToAddress("0x"+strings.Repeat("cd", 20))))
	_, err = empty.TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, onchain.ErrNoContract)

	ref = base
	ref.ContractAddress = "0x1234"
	_, err = anchor.TrustedSigner(ctx, ref)
	require.ErrorIs(t, err, phala.ErrInvalidArgument)

	// Pinned to another contract: the detail's address is refused.
	pinned := onchain.NewKMSAnchor(e.chain.Client(), onchain.WithKMSContract(common.HexToAddress("0x"+strings.Repeat("ef", 20))))
	_, err = pinned.TrustedSigner(ctx, base)
	require.ErrorIs(t, err, phala.ErrKeyVerification)
}

func TestEnvUpdateVerifiedAgainstTheChain(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	anchor := e.anchor()
	envs := []phala.EnvVar{{Key: "FOO", Value: "one"}, {Key: "BAR", Value: "two"}}
	rec := &recorder{}
	// A new env key changes the allowed keys: the on-chain flow runs.
	out, err := e.updater(e.owner, rec).Run(ctx, e.cvm.ID, onchain.EnvsChange(e.client, e.cvm.ID, envs, anchor))
	require.NoError(t, err)
	require.True(t, out.OnChain)
	require.Equal(t, map[string]string{"FOO": "one", "BAR": "two"}, e.srv.Envs(e.cvm.ID))
	require.Equal(t, onchain.StepLive, rec.steps()[len(rec.steps())-1])
}

func TestEnvKeyFromAnUnknownSignerIsRefused(t *testing.T) {
	// The fake's KMS signs with a key the chain does not publish.
	other, _ := crypto.GenerateKey()
	e := newEnv(t, envOpts{kmsKey: crypto.FromECDSA(other)})
	ctx := ctxT(t)
	anchor := e.anchor()
	envs := []phala.EnvVar{{Key: "FOO", Value: "secret-value"}}
	_, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.EnvsChange(e.client, e.cvm.ID, envs, anchor))
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	require.NotContains(t, err.Error(), "secret-value")
	require.Empty(t, e.srv.Applied(e.cvm.ID), "nothing was encrypted to the key or sent")
	require.Empty(t, e.srv.Envs(e.cvm.ID))
}

func TestKMSAnchorReadsTheBarePoint(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	root, err := crypto.ToECDSA(e.chain.KMSRootKey)
	require.NoError(t, err)
	require.NoError(t, e.chain.SetKMSRootPubkey(ctx, crypto.FromECDSAPub(&root.PublicKey)[1:])) // 64 bytes, no 0x04
	ref, err := onchain.KMSRefOf(ctx, e.client, e.cvm.ID)
	require.NoError(t, err)
	signer, err := e.anchor().TrustedSigner(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, strings.ToLower(e.srv.KMSSigner()), signer)
}
