package phalatest

import (
	"regexp"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

var txHashRE = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)

func normHash(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "0x"))
}

// gate runs the on-chain two-phase flow. It returns the change to apply
// now, or the answer to send instead (465, 466, 467, 468, 400).
func (cl *call) gate(ch *change, hash, tx string, prepareOnly bool) (*change, *response) {
	c := cl.cvm
	if c.onChain() && hash != "" {
		return cl.phase2(ch, normHash(hash), tx)
	}
	if c.onChain() && ch.gated() {
		h := hashOf(c.composeWith(ch))
		if h != hashOf(c.appCompose) {
			c.pending[h] = &pendingChange{change: ch, created: cl.now}
			resp := cl.precondition(h, prepareOnly)
			return nil, &resp
		}
	}
	if ch.empty() {
		resp := cl.badRequest("", "Nothing to update: the request sets no field")
		return nil, &resp
	}
	return ch, nil
}

// phase2 checks a repeated (or confirming) request against the pending
// hash and the "chain".
func (cl *call) phase2(ch *change, h, tx string) (*change, *response) {
	c := cl.cvm
	fail := func(msg string) (*change, *response) {
		return nil, cl.hashRefused(phala.HTTPStatusComposeHashExpired, h, msg)
	}
	p := c.pending[h]
	if p != nil && cl.now.Sub(p.created) > cl.s.opts.pendingExpiry {
		delete(c.pending, h)
		return fail("Compose hash is invalid or expired: the pending update expired; start again")
	}
	if resp := cl.checkRegistration(h, tx); resp != nil {
		return nil, resp
	}
	if ch.empty() {
		if p == nil {
			return fail("Compose hash is invalid or expired: no pending update has this hash")
		}
		ch = p.change
	} else if hashOf(c.composeWith(ch)) != h {
		return fail("Compose hash is invalid: it is not the hash of this update")
	}
	delete(c.pending, h)
	return ch, nil
}

// precondition is the 465 answer (phase 1).
func (cl *call) precondition(h string, prepareOnly bool) response {
	c := cl.cvm
	kms := c.kmsInfo()
	kms["k256_pubkey"] = cl.s.kms.pubHex() // the KMS root key, as newer answers show it
	details := []detail{{"compose_hash", h}, {"app_id", c.seed.AppID}, {"device_id", c.seed.DeviceID}, {"kms_info", kms}}
	body := map[string]any{
		"error_code": "ERR-01-005", // the 465's code (official ErrorCodes: HASH_REGISTRATION_REQUIRED)
		"message":    "Compose hash must be registered on-chain before this update",
		"request_id": cl.reqID,
		"suggestions": []string{"Call addComposeHash on the app contract 0x" + c.seed.AppID +
			", then repeat the request with X-Compose-Hash and X-Transaction-Hash"},
	}
	if prepareOnly && cl.op == "patchCVM" {
		token := "ct_" + randHex(16)
		allowed := cl.hashAllowed(h)
		cl.s.rememberCommitToken(token, c, h)
		status := map[string]any{"compose_hash_allowed": allowed, "device_id_allowed": true, "is_allowed": allowed}
		extra := map[string]any{
			"commit_token":   token,
			"commit_url":     "https://cloud.phala.fake.invalid/commit/" + token,
			"api_commit_url": cl.s.URL() + "/cvms/" + c.seed.ID + "/commit-update?token=" + token,
			"onchain_status": status,
		}
		// Only as details entries, as the API sends them and where
		// @phala/cloud 0.2.9's patchCvm (extractDetailsMap) reads them.
		for _, k := range []string{"commit_token", "commit_url", "api_commit_url", "onchain_status"} {
			details = append(details, detail{k, extra[k]})
		}
	}
	body["details"] = details
	return jsonResponse(465, body) // phala.ErrComposeHashRequired
}

// phase2Values reads the compose and transaction hashes from the headers,
// then (unified PATCH) from body fields.
func (cl *call) phase2Values(bodyHash, bodyTx *string) (string, string) {
	h, tx := cl.r.Header.Get("X-Compose-Hash"), cl.r.Header.Get("X-Transaction-Hash")
	if h == "" && bodyHash != nil {
		h = *bodyHash
	}
	if tx == "" && bodyTx != nil {
		tx = *bodyTx
	}
	return h, tx
}

// gateAndApply runs gate and applies the outcome with a 202.
func (cl *call) gateAndApply(ch *change, bodyHash, bodyTx *string, prepareOnly bool, extra func(*change) map[string]any) response {
	h, tx := cl.phase2Values(bodyHash, bodyTx)
	ch, resp := cl.gate(ch, h, tx, prepareOnly)
	if resp != nil {
		return *resp
	}
	var more map[string]any
	if extra != nil {
		more = extra(ch) // before apply: it compares with the current state
	}
	return cl.accepted(cl.apply(ch, true), more)
}

// hashRefusalCodes are the error codes of the statuses that refuse a
// compose hash (official Go SDK error_codes.go; phala's Code* constants).
var hashRefusalCodes = map[int]phala.ErrorCode{
	phala.HTTPStatusComposeHashExpired:            phala.CodeComposeHashExpired,
	phala.HTTPStatusTransactionVerificationFailed: phala.CodeTransactionVerificationFailed,
	phala.HTTPStatusComposeHashNotAllowed:         phala.CodeComposeHashNotAllowed,
}

// hashRefused is the answer that refuses compose hash h: 466 (invalid or
// expired), 467 (the transaction does not prove the registration) or 468
// (not allowed on-chain), with the status's error code and h as a detail.
func (cl *call) hashRefused(status int, h, msg string) *response {
	resp := errorResponse(status, hashRefusalCodes[status], msg, cl.reqID, []detail{{"compose_hash", h}}, nil)
	return &resp
}
