package onchain_test

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
)

// The simulated chain's beacon marks every new block safe at once and
// finalizes by 32-block epochs (go-ethereum eth/catalyst/simulated_beacon.go:
// finalized = (head-1)/32*32), so "finalized" needs blocks mined past the
// registration's epoch, and "safe" none.

// TestFinalityDefaultIsSafe: with Updater.Finality unset the registration
// waits for "safe" between the receipt and phase 2, and says so.
func TestFinalityDefaultIsSafe(t *testing.T) {
	require.Equal(t, onchain.FinalitySafe, onchain.DefaultFinality)
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	rec := &recorder{}
	out, err := e.updater(e.owner, rec).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	require.Equal(t, []onchain.Step{onchain.StepHashRequired, onchain.StepSubmitted, onchain.StepConfirmed,
		onchain.StepAwaitingFinality, onchain.StepFinal, onchain.StepCommitted, onchain.StepLive}, rec.steps())
	wait, final := rec.events[3], rec.events[4]
	require.Equal(t, onchain.FinalitySafe, wait.Finality)
	require.Zero(t, wait.ExpectedWait, "chain 1337 has no measured wait")
	require.Equal(t, out.TxHash, final.Receipt.TxHash)
	safe, err := e.chain.Client().HeaderByNumber(ctx, big.NewInt(int64(rpc.SafeBlockNumber)))
	require.NoError(t, err)
	require.GreaterOrEqual(t, safe.Number.Cmp(final.Receipt.BlockNumber), 0)
}

// TestFinalizedWaitsForTheEpoch advances the simulated chain: phase 2 is
// sent only once the "finalized" block includes the registration, which
// it did not when the wait began.
func TestFinalizedWaitsForTheEpoch(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	rec := &recorder{}
	u := e.updater(e.owner, nil)
	u.Finality = onchain.FinalityFinalized
	var finalizedAtStart *big.Int
	var appliedAtStart int
	stop := func() {}
	defer func() { stop() }()
	u.OnProgress = func(ev onchain.Event) {
		rec.add(ev)
		if ev.Step == onchain.StepAwaitingFinality {
			h, err := e.chain.Client().HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
			require.NoError(t, err)
			finalizedAtStart = h.Number
			appliedAtStart = len(e.srv.Applied(e.cvm.ID))
			stop = e.chain.AutoCommit(2 * time.Millisecond) // blocks from now on only
		}
	}
	out, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	stop()
	block := out.Registration.Receipt.BlockNumber
	require.Negative(t, finalizedAtStart.Cmp(block), "the registration was not final when the wait began")
	require.Zero(t, appliedAtStart, "nothing committed before finality")
	var final onchain.Event
	for _, ev := range rec.events {
		if ev.Step == onchain.StepFinal {
			final = ev
		}
	}
	require.Equal(t, onchain.FinalityFinalized, final.Finality)
	fin, err := e.chain.Client().HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
	require.NoError(t, err)
	require.GreaterOrEqual(t, fin.Number.Cmp(block), 0)
	require.Len(t, e.srv.Applied(e.cvm.ID), 1)
	require.Equal(t, onchain.StepLive, rec.steps()[len(rec.steps())-1])
}

// noTags is a node that predates the block tags: it refuses "safe" and
// "finalized" as go-ethereum does before the merge, or with a JSON-RPC
// invalid-params error as other clients do.
type noTags struct {
	onchain.Backend
	err error
}

func (n noTags) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	if number != nil && number.Sign() < 0 && number.Int64() != int64(rpc.LatestBlockNumber) && number.Int64() != int64(rpc.PendingBlockNumber) {
		return nil, n.err
	}
	return n.Backend.HeaderByNumber(ctx, number)
}

type jsonRPCError struct{}

func (jsonRPCError) Error() string  { return "invalid argument 0: unknown block tag" }
func (jsonRPCError) ErrorCode() int { return -32602 }

func TestFinalityOnANodeWithoutTags(t *testing.T) {
	for _, nodeErr := range []error{errors.New("safe block not found"), jsonRPCError{}} {
		e := newEnv(t, envOpts{})
		ctx := ctxT(t)
		rec := &recorder{}
		u := e.updater(e.owner, rec)
		u.Backend = noTags{Backend: e.chain.Client(), err: nodeErr}
		_, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
		require.ErrorIs(t, err, onchain.ErrFinalityUnavailable, nodeErr.Error())
		require.ErrorContains(t, err, `"safe"`)
		require.ErrorContains(t, err, `"none"`, "the error says how to go on")
		require.NoError(t, ctx.Err(), "an error at the first ask, not a wait")
		require.Empty(t, e.srv.Applied(e.cvm.ID), "no phase 2")
		require.Equal(t, onchain.StepAwaitingFinality, rec.steps()[len(rec.steps())-1])
	}
	t.Run("FinalityNone relies on confirmations", func(t *testing.T) {
		e := newEnv(t, envOpts{})
		rec := &recorder{}
		u := e.updater(e.owner, rec)
		u.Backend = noTags{Backend: e.chain.Client(), err: errors.New("safe block not found")}
		u.Finality = onchain.FinalityNone
		_, err := u.Run(ctxT(t), e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
		require.NoError(t, err)
		require.Equal(t, []onchain.Step{onchain.StepHashRequired, onchain.StepSubmitted, onchain.StepConfirmed,
			onchain.StepCommitted, onchain.StepLive}, rec.steps())
	})
}

func TestWaitFinalityTimeoutAndBadStage(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	reg := registerPhase1(t, e)

	// No block is mined: "finalized" never reaches the registration.
	_, err := onchain.WaitFinality(ctx, e.chain.Client(), reg.Hash, onchain.FinalityFinalized,
		&onchain.FinalityOptions{PollInterval: time.Millisecond, Timeout: 30 * time.Millisecond})
	require.ErrorIs(t, err, onchain.ErrFinalityTimeout)
	var fe *onchain.FinalityError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, reg.Hash, fe.TxHash)

	var expected time.Duration
	rcpt, err := onchain.WaitFinality(ctx, e.chain.Client(), reg.Hash, onchain.FinalitySafe,
		&onchain.FinalityOptions{PollInterval: time.Millisecond, OnWaiting: func(_ onchain.Finality, d time.Duration) { expected = d }})
	require.NoError(t, err)
	require.Equal(t, reg.Hash, rcpt.TxHash)
	require.Zero(t, expected)

	_, err = onchain.WaitFinality(ctx, e.chain.Client(), reg.Hash, "latest", nil)
	require.Error(t, err)
	u := e.updater(e.owner, nil)
	u.Finality = "justified"
	sent := e.chain.Client().Sent()
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.ErrorContains(t, err, "Finality")
	require.Equal(t, sent, e.chain.Client().Sent(), "refused before anything is sent")
}

// TestExpectedFinality holds the official CLI's measured p90 (seconds from
// inclusion, cli/src/utils/finality.ts @e2f7c333).
func TestExpectedFinality(t *testing.T) {
	require.Equal(t, 733*time.Second, onchain.ExpectedFinality(1, onchain.FinalitySafe))
	require.Equal(t, 1117*time.Second, onchain.ExpectedFinality(1, onchain.FinalityFinalized))
	require.Equal(t, 73*time.Second, onchain.ExpectedFinality(8453, onchain.FinalitySafe))
	require.Equal(t, 1235*time.Second, onchain.ExpectedFinality(8453, onchain.FinalityFinalized))
	require.Zero(t, onchain.ExpectedFinality(1337, onchain.FinalitySafe))
	require.Zero(t, onchain.ExpectedFinality(1, onchain.FinalityNone))
}

// movedOnce answers the registration's receipt first from a block that is
// not the canonical one at its height (as when a reorg moved the
// transaction between two questions), then truthfully.
type movedOnce struct {
	onchain.Backend
	asked int
}

func (m *movedOnce) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	r, err := m.Backend.TransactionReceipt(ctx, h)
	m.asked++
	if err != nil || m.asked > 1 {
		return r, err
	}
	stale := *r
	stale.BlockHash = common.HexToHash("0x01")
	return &stale, nil
}

// TestWaitFinalityFollowsAMovedTransaction: a receipt whose block is no
// longer canonical at its height is not final; the wait asks again.
func TestWaitFinalityFollowsAMovedTransaction(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	reg := registerPhase1(t, e)
	b := &movedOnce{Backend: e.chain.Client()}
	rcpt, err := onchain.WaitFinality(ctx, b, reg.Hash, onchain.FinalitySafe, &onchain.FinalityOptions{PollInterval: time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, reg.Receipt.BlockHash, rcpt.BlockHash)
	require.Equal(t, 2, b.asked, "the moved answer was not taken as final")
}

// registerPhase1 sends phase 1 of newCompose and registers its hash
// directly on the app contract, as a signer outside the Updater would.
func registerPhase1(t *testing.T, e *env) *onchain.Tx {
	t.Helper()
	ctx := ctxT(t)
	res, err := e.client.UpdateDockerCompose(ctx, e.cvm.ID, newCompose, nil)
	require.NoError(t, err)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	reg, err := app.AddComposeHash(ctx, e.owner, res.ComposeHash, fastTx())
	require.NoError(t, err)
	return reg
}

// TestFinalityOtherNodeErrorsAreRPCErrors: a node error that does not say
// the tag is unknown (a public endpoint's rate limit) is an *RPCError, not
// "no tags", and still ends the wait at once.
func TestFinalityOtherNodeErrorsAreRPCErrors(t *testing.T) {
	e := newEnv(t, envOpts{})
	reg := registerPhase1(t, e)
	b := noTags{Backend: e.chain.Client(), err: errors.New("-32005: limit exceeded")}
	_, err := onchain.WaitFinality(ctxT(t), b, reg.Hash, onchain.FinalitySafe, &onchain.FinalityOptions{PollInterval: time.Millisecond})
	var re *onchain.RPCError
	require.ErrorAs(t, err, &re)
	require.NotErrorIs(t, err, onchain.ErrFinalityUnavailable)
}
