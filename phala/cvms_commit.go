package phala

import (
	"context"
	"strings"

	"github.com/phalacloud/go-sdk/gen"
)

// TransactionAlreadyRegistered is the transaction-hash value CommitCVMUpdate
// accepts when the compose hash was allowed on-chain before (the official
// reference's CommitUpdateRequest: "Leave empty or use 'already-registered'").
const TransactionAlreadyRegistered = "already-registered"

// CommitCVMUpdate completes a change prepared with PatchCVM and
// PrepareOnly (POST /cvms/{cvmId}/commit-update, body {token,
// compose_hash, transaction_hash}; shape from the official reference's
// CommitUpdateRequest and @phala/cloud 0.2.9's commitCvmUpdate). It needs
// no API key: the one-time token from PatchCVMResponse.CommitToken is the
// credential, so a multisig signer can commit with a client made without
// WithAPIKey (a key, when configured, is sent as usual).
//
// composeHash is PatchCVMResponse.ComposeHash (64 hex, optional 0x) or
// empty for the token's own; txHash is the addComposeHash transaction
// (0x + 64 hex), or "" / TransactionAlreadyRegistered when the hash was
// already allowed. The token is sent only in the body and never appears in
// errors or logs. Commit only once the registration is final enough for
// you (the onchain module's CommitWhenFinal waits for the "safe" or
// "finalized" block, then commits): a commit checked against a block that a reorg later
// removes leaves the CVM on a hash its contract does not allow. A newer
// prepare for the same CVM supersedes the token (466).
//
// Before the signers approve the prepared hash on the app contract, check
// it: VerifyPreparedUpdate (or the onchain module's VerifyPrepared, which
// also checks the current app-compose against the chain) recomputes it
// from the CVM's current app-compose and the PatchCVMRequest you prepared,
// and checks the answer's app id, so that nobody signs a hash the API
// chose.
//
// Errors: an ErrInvalidArgument error for an empty token or a malformed
// hash, before any request; an *APIError otherwise (467 and 468 match
// ErrTransactionVerificationFailed and ErrComposeHashNotAllowed, 466
// ErrComposeHashExpired, 404 an unknown or used token).
func (c *Client) CommitCVMUpdate(ctx context.Context, cvmID, token, composeHash, txHash string) (*CVMActionResponse, error) {
	ctx, id, err := c.start(ctx, cvmID, token)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, invalidArg("token", "is empty: pass the CommitToken of the PatchCVMResponse "+
			"that PatchCVM returned for a PatchCVMRequest with PrepareOnly set")
	}
	if strings.ContainsAny(token, "\r\n") {
		return nil, invalidArg("token", "contains a line break")
	}
	if composeHash != "" {
		if err := checkComposeHash("composeHash", composeHash); err != nil {
			return nil, err
		}
	}
	if txHash != "" && txHash != TransactionAlreadyRegistered {
		if err := checkTxHash("txHash", txHash); err != nil {
			return nil, err
		}
	}
	body := gen.CommitCVMUpdateRequest{Token: &token}
	if composeHash != "" {
		body.ComposeHash = &composeHash
	}
	if txHash != "" {
		body.TransactionHash = &txHash
	}
	req, err := gen.NewCommitCVMUpdateRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opCommitCVMUpdate, req, err)
	if err != nil {
		return nil, err
	}
	// The official document gives this answer no schema: decoded leniently,
	// like the other answers the official SDKs do not read.
	a, err := decodeAcceptedLenient(r)
	if err != nil {
		return nil, err
	}
	return &CVMActionResponse{CorrelationID: a.CorrelationID, Status: a.Status, Message: a.Message}, nil
}
