package onchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// Finality is how final the registering transaction must be before phase 2
// commits the update: a block tag of the Ethereum JSON-RPC API ("safe",
// "finalized"), or FinalityNone for the confirmations alone. A commit
// checked against a block that a reorg later removes leaves the CVM on a
// compose hash its app contract no longer allows, which the KMS refuses
// at the next boot.
type Finality string

const (
	// FinalitySafe waits until the node's "safe" block includes the
	// transaction (Ethereum: a justified checkpoint; OP-stack chains such
	// as Base: derived from batch data posted to L1).
	FinalitySafe Finality = "safe"
	// FinalityFinalized waits until the node's "finalized" block includes
	// it (Ethereum: a finalized checkpoint; Base: derived from finalized L1
	// data). The official CLI's default.
	FinalityFinalized Finality = "finalized"
	// FinalityNone waits for TxOptions.Confirmations only.
	FinalityNone Finality = "none"
)

// The steps of the finality wait, between StepConfirmed (or StepAllowed)
// and StepCommitted.
const (
	// StepAwaitingFinality: the wait for Event.Finality begins;
	// Event.ExpectedWait is its measured p90 from inclusion (0: unknown).
	StepAwaitingFinality Step = "awaiting_finality"
	// StepFinal: the registration is in the stage's block (Receipt).
	StepFinal Step = "final"
)

// DefaultFinality is the stage Updater waits for when Updater.Finality is
// "": FinalitySafe. The official CLI waits for "finalized"; its measured
// p90 from inclusion (cli/src/utils/finality.ts @e2f7c333, 2026-11-22) is
// Ethereum safe 733 s / finalized 1117 s and Base safe 73 s / finalized
// 1235 s. "safe" already rules out the reorgs that happen in practice
// (Ethereum's one- or two-block head reorgs, a Base sequencer's unsafe
// head) and costs a third less time on Ethereum and 94% less on Base
// (73 s instead of over 20 minutes), while the failure it guards against is
// recoverable (register the hash again) rather than a loss of funds. Set
// Updater.Finality to FinalityFinalized for economic finality.
const DefaultFinality = FinalitySafe

// ExpectedFinality is the measured p90 time from inclusion to stage on a
// chain (the official CLI's table: chain 1 Ethereum, 8453 Base), or 0 when
// unknown (another chain, or FinalityNone).
func ExpectedFinality(chainID int64, stage Finality) time.Duration {
	return finalityP90[chainID][stage]
}

// finalityP90 is the official CLI's table (seconds from inclusion, p90,
// measured 2026-11-22 on public RPC endpoints).
var finalityP90 = map[int64]map[Finality]time.Duration{
	1:    {FinalitySafe: 733 * time.Second, FinalityFinalized: 1117 * time.Second},
	8453: {FinalitySafe: 73 * time.Second, FinalityFinalized: 1235 * time.Second},
}

// finalityTimeout bounds a finality wait as the official CLI does: the
// expected wait plus 15 minutes, or 45 minutes when it is unknown.
func finalityTimeout(expected time.Duration) time.Duration {
	if expected == 0 {
		return 45 * time.Minute
	}
	return expected + 15*time.Minute
}

// ErrFinalityUnavailable: the node does not answer the block tag (a
// pre-merge chain, or a client without "safe"/"finalized"). Matched by the
// *FinalityError WaitFinality returns; set Updater.Finality to
// FinalityNone to rely on confirmations on such a chain.
var ErrFinalityUnavailable = errors.New("onchain: the node does not serve the finality block tag")

// ErrFinalityTimeout: the transaction did not reach the stage in time.
// Matched by *FinalityError.
var ErrFinalityTimeout = errors.New("onchain: the transaction did not reach finality in time")

// FinalityError is a finality wait that failed: the node lacks the tag
// (ErrFinalityUnavailable), or the wait timed out (ErrFinalityTimeout).
type FinalityError struct {
	Stage  Finality
	TxHash common.Hash
	// Reason says what happened; Err is the node's error, if any.
	Reason string
	Err    error
	kind   error
}

// Error names the stage, the transaction and the reason.
func (e *FinalityError) Error() string {
	s := fmt.Sprintf("onchain: waiting for transaction %s to be %s: %s", e.TxHash.Hex(), e.Stage, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the node's error and the sentinel.
func (e *FinalityError) Unwrap() []error { return []error{e.kind, e.Err} }

// FinalityOptions tune WaitFinality.
type FinalityOptions struct {
	// Confirmations is the least number of blocks, the including one
	// counted, on top of the stage (0: 1).
	Confirmations uint64
	// PollInterval is how often the node is asked (0: DefaultPollInterval).
	PollInterval time.Duration
	// Timeout bounds the wait (0: the expected wait plus 15 minutes, or 45
	// minutes when unknown, as the official CLI).
	Timeout time.Duration
	// OnWaiting is called once before waiting, with the expected wait
	// from inclusion (0 when unknown).
	OnWaiting func(stage Finality, expected time.Duration)
}

// WaitFinality waits until txHash is in a block at or below the node's
// stage block ("safe" or "finalized") with opts.Confirmations blocks on
// top, and returns its receipt. A transaction a reorg moves is followed to
// its new block; one that leaves the chain is waited for until the
// timeout. With FinalityNone it waits for the confirmations alone.
// Errors: an invalid stage; a *FinalityError matching
// ErrFinalityUnavailable when the node does not answer the tag (at the
// first ask: no hang) or ErrFinalityTimeout; *RPCError; ctx's error.
func WaitFinality(ctx context.Context, b Backend, txHash common.Hash, stage Finality, opts *FinalityOptions) (*types.Receipt, error) {
	var o FinalityOptions
	if opts != nil {
		o = *opts
	}
	tag, err := stage.tag()
	if err != nil {
		return nil, err
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if tag == nil {
		return WaitReceipt(ctx, b, txHash, o.Confirmations, o.PollInterval)
	}
	chainID, err := b.ChainID(ctx)
	if err != nil {
		return nil, rpcErr("eth_chainId", err)
	}
	expected := ExpectedFinality(chainID.Int64(), stage)
	if o.Timeout <= 0 {
		o.Timeout = finalityTimeout(expected)
	}
	if o.OnWaiting != nil {
		o.OnWaiting(stage, expected)
	}
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	deadline, _ := wctx.Deadline()
	timedOut := &FinalityError{Stage: stage, TxHash: txHash, kind: ErrFinalityTimeout,
		Reason: fmt.Sprintf("not %s after %s", stage, o.Timeout)}
	t := time.NewTicker(o.PollInterval)
	defer t.Stop()
	for {
		rcpt, done, err := finalAt(wctx, b, txHash, stage, tag, o.Confirmations)
		if done || err != nil {
			// An RPC cut short by the wait's deadline may fail with its own
			// error (an i/o timeout) before wctx reports the deadline.
			if err != nil && ctx.Err() == nil && (wctx.Err() != nil || !time.Now().Before(deadline)) {
				return nil, timedOut
			}
			return rcpt, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("onchain: waiting for transaction %s to be %s: %w", txHash.Hex(), stage, ctx.Err())
		case <-wctx.Done():
			return nil, timedOut
		case <-t.C:
		}
	}
}

// tag is the block number argument of the stage (nil for FinalityNone).
func (f Finality) tag() (*big.Int, error) {
	switch f {
	case FinalitySafe:
		return big.NewInt(int64(rpc.SafeBlockNumber)), nil
	case FinalityFinalized:
		return big.NewInt(int64(rpc.FinalizedBlockNumber)), nil
	case FinalityNone:
		return nil, nil
	}
	return nil, invalidArg("Finality", "want %q, %q or %q, not %q", FinalitySafe, FinalityFinalized, FinalityNone, string(f))
}

// finalAt asks once: the receipt (its current block), the stage block and
// the head. done is true when the receipt's block is at or below the stage
// block, is still the canonical block at its height, and has the
// confirmations.
func finalAt(ctx context.Context, b Backend, txHash common.Hash, stage Finality, tag *big.Int, confirmations uint64) (*types.Receipt, bool, error) {
	final, err := b.HeaderByNumber(ctx, tag)
	if err != nil || final == nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if final == nil && err == nil || errors.Is(err, ethereum.NotFound) || tagRefused(err) {
			return nil, false, &FinalityError{Stage: stage, TxHash: txHash, kind: ErrFinalityUnavailable, Err: err,
				Reason: fmt.Sprintf("the node did not answer block tag %q (set Updater.Finality to %q on a chain without it)", string(stage), FinalityNone)}
		}
		return nil, false, rpcErr("eth_getBlockByNumber("+string(stage)+")", err)
	}
	rcpt, err := b.TransactionReceipt(ctx, txHash)
	switch {
	case errors.Is(err, ethereum.NotFound) || err != nil && strings.Contains(err.Error(), "indexing is in progress"):
		return nil, false, nil // not (or no longer) in the chain: a reorg; wait
	case err != nil:
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, rpcErr("eth_getTransactionReceipt", err)
	}
	if final.Number.Cmp(rcpt.BlockNumber) < 0 {
		return rcpt, false, nil
	}
	canon, err := b.HeaderByNumber(ctx, rcpt.BlockNumber)
	if err != nil {
		return nil, false, rpcErr("eth_getBlockByNumber", err)
	}
	if canon.Hash() != rcpt.BlockHash {
		return rcpt, false, nil // the receipt's block was replaced meanwhile: ask again
	}
	head, err := b.BlockNumber(ctx)
	if err != nil {
		return nil, false, rpcErr("eth_blockNumber", err)
	}
	if confirmations == 0 {
		confirmations = 1
	}
	return rcpt, head+1 >= rcpt.BlockNumber.Uint64()+confirmations, nil
}

// tagRefused reports whether a node error says it does not know the tag:
// geth answers "safe block not found" / "finalized block not found" before
// the merge, other clients an invalid-params error naming the block tag.
// Anything else (a rate limit, a transport failure) is an *RPCError.
func tagRefused(err error) bool {
	m := strings.ToLower(err.Error())
	for _, s := range []string{"not found", "unknown block", "invalid", "not supported", "unsupported", "safe", "finalized"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// finality is the stage Updater waits for: Finality, or DefaultFinality
// when it is ""; an invalid value is an error.
func (u *Updater) finality() (Finality, error) {
	if u.Finality == "" {
		return DefaultFinality, nil
	}
	_, err := u.Finality.tag()
	return u.Finality, err
}

// awaitFinality is Updater.Run's hook between the registration and phase 2.
func (u *Updater) awaitFinality(ctx context.Context, out *Outcome) error {
	stage, err := u.finality()
	if err != nil || stage == FinalityNone {
		return err
	}
	o := u.Tx.orDefault()
	rcpt, err := WaitFinality(ctx, u.Backend, out.TxHash, stage, &FinalityOptions{Confirmations: o.Confirmations,
		PollInterval: o.PollInterval, OnWaiting: func(s Finality, expected time.Duration) {
			u.progress(Event{Step: StepAwaitingFinality, ComposeHash: out.ComposeHash, TxHash: out.TxHash,
				Finality: s, ExpectedWait: expected})
		}})
	if err != nil {
		return err
	}
	u.progress(Event{Step: StepFinal, ComposeHash: out.ComposeHash, TxHash: out.TxHash, Receipt: rcpt, Finality: stage})
	return nil
}
