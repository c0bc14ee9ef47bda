package phalatest

import (
	"context"
	"strings"
	"time"

	"github.com/phalacloud/go-sdk/phala"
)

// ChainChecker is a chain the server consults in the on-chain flow instead
// of its own record of RegisterComposeHash calls, e.g. an in-process EVM
// with the app contracts deployed (the onchain module provides one over
// go-ethereum). It carries no Ethereum types: ids and hashes are hex
// strings. appID is the CVM's app id (40 lowercase hex; the app contract
// is at "0x" + appID), composeHash 64 lowercase hex without 0x, txHash as
// the client sent it. Calls run with the server's lock held and are bounded
// by ChainCheckTimeout.
type ChainChecker interface {
	// ComposeHashAllowed reports whether the app contract on chain chainID
	// allows composeHash (allowedComposeHashes).
	ComposeHashAllowed(ctx context.Context, chainID int64, appID, composeHash string) (bool, error)
	// TransactionRegisters reports whether txHash is a successful
	// transaction that registered composeHash on the app contract
	// (its ComposeHashAdded event).
	TransactionRegisters(ctx context.Context, chainID int64, appID, composeHash, txHash string) (bool, error)
}

// ChainCheckTimeout bounds each ChainChecker call.
const ChainCheckTimeout = 10 * time.Second

// WithChainChecker makes phase 2 of the on-chain flow (the repeated
// update, ConfirmCVMPatch, commit-update, the compose-file commit) ask
// chain: a hash the contract does not allow answers 468, a transaction
// that did not register the hash 467, and the 465's onchain_status and the
// provision answer's compose_hash_registered report the contract's state.
// RegisterComposeHash then has no effect on those answers. A checker
// error answers 467 naming the failure.
func WithChainChecker(chain ChainChecker) Option { return func(o *options) { o.chain = chain } }

// hashAllowed reports whether h is allowed for the call's CVM: on the
// configured chain, else in the server's own record.
func (cl *call) hashAllowed(h string) bool {
	c := cl.cvm
	if ch := cl.s.opts.chain; ch != nil {
		ctx, cancel := context.WithTimeout(cl.r.Context(), ChainCheckTimeout)
		defer cancel()
		ok, err := ch.ComposeHashAllowed(ctx, c.seed.ChainID, c.seed.AppID, h)
		return err == nil && ok
	}
	_, ok := c.registered[h]
	return ok
}

// checkRegistration is the phase-2 chain check: nil when tx registered h,
// else the 468 or 467 answer.
func (cl *call) checkRegistration(h, tx string) *response {
	c := cl.cvm
	fail := func(status int, msg string) *response { return cl.hashRefused(status, h, msg) }
	ch := cl.s.opts.chain
	var ctx context.Context
	var allowed bool
	if ch == nil {
		_, allowed = c.registered[h]
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(cl.r.Context(), ChainCheckTimeout)
		defer cancel()
		var err error
		if allowed, err = ch.ComposeHashAllowed(ctx, c.seed.ChainID, c.seed.AppID, h); err != nil {
			return fail(phala.HTTPStatusTransactionVerificationFailed, "Transaction verification failed: the chain could not be read: "+err.Error())
		}
	}
	if !allowed {
		return fail(phala.HTTPStatusComposeHashNotAllowed, "Compose hash is not allowed on-chain: register it on the app contract first")
	}
	if cl.op == "commitCVMUpdate" && (tx == "" || tx == "already-registered") {
		return nil // the official CommitUpdateRequest allows it for a hash allowed before
	}
	if ch == nil {
		if !txHashRE.MatchString(tx) || !strings.EqualFold(tx, c.registered[h]) {
			return fail(phala.HTTPStatusTransactionVerificationFailed, "Transaction verification failed: the transaction does not register this compose hash")
		}
		return nil
	}
	if !txHashRE.MatchString(tx) {
		return fail(phala.HTTPStatusTransactionVerificationFailed, "Transaction verification failed: no transaction hash")
	}
	ok, err := ch.TransactionRegisters(ctx, c.seed.ChainID, c.seed.AppID, h, tx)
	if err != nil {
		return fail(phala.HTTPStatusTransactionVerificationFailed, "Transaction verification failed: "+err.Error())
	}
	if !ok {
		return fail(phala.HTTPStatusTransactionVerificationFailed, "Transaction verification failed: the transaction does not register this compose hash")
	}
	return nil
}
