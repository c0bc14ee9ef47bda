package onchain

import (
	"context"

	"github.com/ethereum/go-ethereum/common"
	"github.com/phalacloud/go-sdk/phala"
)

// CommitWhenFinal is phase 2 of the multisig path with the finality wait
// Updater.Run makes: it waits until txHash (the signers' addComposeHash
// of composeHash) is as final as stage asks ("" means DefaultFinality),
// then commits the prepared update with its one-time token
// (phala.Client.CommitCVMUpdate). opts tunes the wait (nil: defaults).
// Nothing is committed when the wait fails. Errors: WaitFinality's (an
// invalid stage, *FinalityError matching ErrFinalityUnavailable or
// ErrFinalityTimeout, *RPCError, ctx's); CommitCVMUpdate's.
func CommitWhenFinal(ctx context.Context, c *phala.Client, b Backend, cvmID, token, composeHash string, txHash common.Hash,
	stage Finality, opts *FinalityOptions) (*phala.CVMActionResponse, error) {
	if c == nil {
		return nil, invalidArg("c", "is nil")
	}
	if b == nil {
		return nil, invalidArg("b", "is nil: the wait needs the chain the transaction is on")
	}
	if stage == "" {
		stage = DefaultFinality
	}
	if _, err := WaitFinality(ctx, b, txHash, stage, opts); err != nil {
		return nil, err
	}
	return c.CommitCVMUpdate(ctx, cvmID, token, composeHash, txHash.Hex())
}
