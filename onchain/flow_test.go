package onchain_test

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/phala"
)

const newCompose = "services:\n  web:\n    image: nginx:1.28\n"

func TestFullFlowRegistersOnChainAndGoesLive(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	rec := &recorder{}
	out, err := e.updater(e.owner, rec).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	require.Equal(t, []onchain.Step{onchain.StepHashRequired, onchain.StepSubmitted, onchain.StepConfirmed,
		onchain.StepAwaitingFinality, onchain.StepFinal, onchain.StepCommitted, onchain.StepLive}, rec.steps())
	require.True(t, out.OnChain)
	require.False(t, out.AlreadyAllowed)
	require.NotEqual(t, common.Hash{}, out.TxHash)
	require.Equal(t, uint64(1), out.Registration.Receipt.Status)
	require.Equal(t, "running", out.State.Status)
	require.Equal(t, int64(1), e.chain.Client().Sent(), "one transaction: addComposeHash")

	// The chain holds the hash, the fake applied the change once, and the
	// CVM now runs the registered hash.
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	allowed, err := app.ComposeHashAllowed(ctx, out.ComposeHash)
	require.NoError(t, err)
	require.True(t, allowed)
	require.NoError(t, app.VerifyRegistration(ctx, out.ComposeHash, out.TxHash.Hex()))
	require.Len(t, e.srv.Applied(e.cvm.ID), 1)
	info, err := e.client.GetCVMInfo(ctx, e.cvm.ID)
	require.NoError(t, err)
	require.Equal(t, out.ComposeHash, info.ComposeHash)
	require.Empty(t, e.srv.PendingComposeHashes(e.cvm.ID))
}

func TestFlowWithHashAllowedBeforeSendsNothing(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	// Phase 1 once to learn the hash, register it directly, then run.
	res, err := e.client.UpdateDockerCompose(ctx, e.cvm.ID, newCompose, nil)
	require.NoError(t, err)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	reg, err := app.AddComposeHash(ctx, e.owner, res.ComposeHash, fastTx())
	require.NoError(t, err)
	sent := e.chain.Client().Sent()

	rec := &recorder{}
	out, err := e.updater(e.owner, rec).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	require.True(t, out.AlreadyAllowed)
	require.Equal(t, reg.Hash, out.TxHash, "the registering transaction is found in the logs")
	require.Equal(t, sent, e.chain.Client().Sent(), "no second transaction")
	require.Equal(t, []onchain.Step{onchain.StepHashRequired, onchain.StepAllowed, onchain.StepAwaitingFinality, onchain.StepFinal,
		onchain.StepCommitted, onchain.StepLive}, rec.steps())
}

func TestFlowPatchWithTransactOptsAndConfirmations(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	opts := bind.NewKeyedTransactor(e.chain.OwnerECDSA(), e.chain.ChainID)
	e.chain.Client().MineOnPoll(true) // blocks advance while the receipt is awaited
	u := e.updater(onchain.TransactOptsSigner(opts), nil)
	u.Tx.Confirmations = 3
	out, err := u.Run(ctx, e.cvm.ID, onchain.PatchChange(e.client, e.cvm.ID, phala.PatchCVMRequest{DockerComposeFile: phala.Ptr(newCompose), VCPU: phala.Ptr(4)}))
	require.NoError(t, err)
	head, err := e.chain.Client().BlockNumber(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, head, out.Registration.Receipt.BlockNumber.Uint64()+2, "three confirmations")
	applied := e.srv.Applied(e.cvm.ID)
	require.Len(t, applied, 1)
	require.ElementsMatch(t, []string{"docker_compose_file", "vcpu"}, applied[0].Fields)
}

func TestRevertIsTyped(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	key, addr, err := e.chain.NewAccount(ctx, wei(1))
	require.NoError(t, err)
	stranger, err := onchain.PrivateKeySigner(key)
	require.NoError(t, err)
	sent := e.chain.Client().Sent()

	_, err = e.updater(stranger, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	var re *onchain.RevertError
	require.True(t, errors.As(err, &re), "%v", err)
	require.ErrorIs(t, err, onchain.ErrReverted)
	require.Equal(t, "addComposeHash", re.Method)
	require.Equal(t, "OwnableUnauthorizedAccount("+addr.Hex()+")", re.Reason)
	require.Equal(t, common.Hash{}, re.TxHash, "found by gas estimation")
	require.Equal(t, sent, e.chain.Client().Sent(), "nothing sent")
	require.Empty(t, e.srv.Applied(e.cvm.ID))

	// With a fixed gas limit there is no estimate: the refusal is mined.
	res, err := e.client.UpdateDockerCompose(ctx, e.cvm.ID, newCompose, nil)
	require.NoError(t, err)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	o := fastTx()
	o.GasLimit = 100_000
	_, err = app.AddComposeHash(ctx, stranger, res.ComposeHash, o)
	require.True(t, errors.As(err, &re), "%v", err)
	require.NotEqual(t, common.Hash{}, re.TxHash, "a mined, failed transaction")
	require.Equal(t, "OwnableUnauthorizedAccount("+addr.Hex()+")", re.Reason, "the reason is replayed")
}

func TestUnfundedAccountRefusedBeforeSending(t *testing.T) {
	// The app contract belongs to an account holding nothing.
	ctx := ctxT(t)
	poor, _ := crypto.GenerateKey()
	e := newEnv(t, envOpts{appOwner: crypto.PubkeyToAddress(poor.PublicKey)})
	signer, err := onchain.PrivateKeySigner(hex.EncodeToString(crypto.FromECDSA(poor)))
	require.NoError(t, err)
	sent := e.chain.Client().Sent()

	_, err = e.updater(signer, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	var fe *onchain.InsufficientFundsError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.ErrorIs(t, err, onchain.ErrInsufficientFunds)
	require.Equal(t, crypto.PubkeyToAddress(poor.PublicKey), fe.Account)
	require.Zero(t, fe.Balance.Sign())
	require.Positive(t, fe.Required.Sign())
	require.Equal(t, sent, e.chain.Client().Sent(), "checked before sending")
	require.NotContains(t, err.Error(), hex.EncodeToString(crypto.FromECDSA(poor)))
}

func TestWrongChainRefused(t *testing.T) {
	e := newEnv(t, envOpts{chainID: 8453})
	ctx := ctxT(t)
	_, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	var ce *onchain.ChainMismatchError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.ErrorIs(t, err, onchain.ErrWrongChain)
	require.Equal(t, int64(8453), ce.Want.Int64())
	require.Equal(t, e.chain.ChainID.Int64(), ce.Got.Int64())
	require.Zero(t, e.chain.Client().Sent())
}

func TestMissingAppContract(t *testing.T) {
	e := newEnv(t, envOpts{appID: strings.Repeat("ab", 20)})
	ctx := ctxT(t)
	_, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	var ne *onchain.NoContractError
	require.True(t, errors.As(err, &ne), "%v", err)
	require.ErrorIs(t, err, onchain.ErrNoContract)
	require.Equal(t, common.HexToAddress("0x"+strings.Repeat("ab", 20)), ne.Address)
}

func TestPhase2RefusedByTheChain(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	res, err := e.client.UpdateDockerCompose(ctx, e.cvm.ID, newCompose, nil)
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	phase2 := func(tx string) error {
		_, err := e.client.UpdateDockerCompose(ctx, e.cvm.ID, newCompose, &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: tx})
		return err
	}

	// 468: the hash is not on the chain, whatever the fake's own record says.
	own := e.srv.RegisterComposeHash(e.cvm.ID, res.ComposeHash)
	err = phase2(own)
	require.ErrorIs(t, err, phala.ErrComposeHashNotAllowed)

	// 467: the hash is allowed, but the transaction given registered another one.
	other, err := app.AddComposeHash(ctx, e.owner, strings.Repeat("0", 63)+"1", fastTx())
	require.NoError(t, err)
	reg, err := app.AddComposeHash(ctx, e.owner, res.ComposeHash, fastTx())
	require.NoError(t, err)
	err = phase2(other.Hash.Hex())
	require.ErrorIs(t, err, phala.ErrTransactionVerificationFailed)
	err = phase2("0x" + strings.Repeat("9", 64)) // a transaction the chain never saw
	require.ErrorIs(t, err, phala.ErrTransactionVerificationFailed)
	require.Empty(t, e.srv.Applied(e.cvm.ID))

	// The real registration passes.
	require.NoError(t, phase2(reg.Hash.Hex()))
	require.Len(t, e.srv.Applied(e.cvm.ID), 1)
}

func TestCalldataOnlyAndMultisigCommit(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	// Prepare: phase 1 with X-Prepare-Only hands out the commit token.
	p, err := e.client.PatchCVM(ctx, e.cvm.ID, &phala.PatchCVMRequest{DockerComposeFile: phala.Ptr(newCompose), PrepareOnly: true})
	require.NoError(t, err)
	require.NotEmpty(t, p.CommitToken)
	require.False(t, p.OnChainStatus.ComposeHashAllowed)

	// The multisig gets calldata only; nothing is signed or sent.
	app, err := onchain.NewApp(e.chain.Client(), p.AppID)
	require.NoError(t, err)
	tx, err := app.AddComposeHash(ctx, onchain.CalldataOnly(e.chain.Owner), p.ComposeHash, fastTx())
	require.NoError(t, err)
	require.Nil(t, tx.Receipt)
	require.Equal(t, app.Address(), tx.Call.To)
	require.Equal(t, "dfc77223", hex.EncodeToString(tx.Call.Data[:4]), "addComposeHash(bytes32) selector")
	require.Equal(t, p.ComposeHash, hex.EncodeToString(tx.Call.Data[4:]))
	require.Zero(t, e.chain.Client().Sent())

	// A calldata-only Updater stops after phase 1 with the call.
	u := e.updater(onchain.CalldataOnly(e.chain.Owner), nil)
	out, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	require.NotNil(t, out.Registration)
	require.Equal(t, tx.Call.Data, out.Registration.Call.Data)
	require.Empty(t, e.srv.Applied(e.cvm.ID))

	// The "Safe" (here the owner) submits the calldata; a signer without
	// the API key commits with the token.
	reg, err := app.AddComposeHash(ctx, e.owner, p.ComposeHash, fastTx())
	require.NoError(t, err)
	t.Setenv(phala.EnvAPIKey, "")
	signer, err := phala.NewClient(phala.WithBaseURL(e.srv.URL()), phala.WithoutRetries())
	require.NoError(t, err)
	done, err := signer.CommitCVMUpdate(ctx, e.cvm.ID, p.CommitToken, p.ComposeHash, reg.Hash.Hex())
	require.NoError(t, err)
	require.NotEmpty(t, done.CorrelationID)
	require.Len(t, e.srv.Applied(e.cvm.ID), 1)
}

func TestDeviceAllowList(t *testing.T) {
	// The app contract allows no device: the flow refuses before
	// registering, or registers the device when asked to.
	e := newEnv(t, envOpts{chainOpts: &chaintest.Options{}})
	ctx := ctxT(t)
	_, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, onchain.ErrDeviceNotAllowed)
	require.Zero(t, e.chain.Client().Sent())

	// AddDevice alone does not take the API's device id.
	u := e.updater(e.owner, nil)
	u.AddDevice = true
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, onchain.ErrDeviceNotAllowed)
	require.Contains(t, err.Error(), "Updater.DeviceID")
	require.Zero(t, e.chain.Client().Sent())

	u.DeviceID = e.cvm.DeviceID
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	ok, err := app.DeviceAllowed(ctx, e.cvm.DeviceID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(2), e.chain.Client().Sent(), "addDevice, then addComposeHash")

	_, err = app.SetAllowAnyDevice(ctx, e.owner, true, fastTx())
	require.NoError(t, err)
	anyDev, err := app.AllowAnyDevice(ctx)
	require.NoError(t, err)
	require.True(t, anyDev)
}

func TestMinBalanceAndCancelledWait(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	o := fastTx()
	o.MinBalance = wei(1_000_000) // the owner holds 100 ETH
	_, err = app.AddComposeHash(ctx, e.owner, strings.Repeat("3c", 32), o)
	var fe *onchain.InsufficientFundsError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, 1, fe.Required.Cmp(wei(1_000_000)), "cost on top of the minimum")
	require.Zero(t, e.chain.Client().Sent())

	// A receipt wait ends with its context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = onchain.WaitReceipt(cctx, e.chain.Client(), common.HexToHash("0x01"), 1, time.Millisecond)
	require.ErrorIs(t, err, context.Canceled)
}
