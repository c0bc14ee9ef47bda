package phala

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// KMSRef names the KMS that serves a CVM, as the CVM's detail describes it.
// A KeyAnchor receives it to decide which signer it trusts for that KMS.
//
// Every field comes from the API's answer (GET /cvms/{id}), so it is only
// as trustworthy as that answer: an anchor must not let these values choose
// what it trusts (an on-chain anchor should read the KMS contract the
// caller configured, and may refuse when ChainID or ContractAddress differ
// from it).
type KMSRef struct {
	// ID and Slug name the KMS in the API (GET /kms/{kms}/pubkey/{appId}).
	// ID is EnvKeyOptions.KMS when the caller gave one, otherwise the
	// detail's kms_info.id (may be empty; Slug may be empty too).
	ID   string
	Slug string
	// ChainID is the chain of the KMS contract (kms_info.chain_id, e.g. 1
	// Ethereum, 8453 Base); an anchor is only asked for an on-chain KMS,
	// so it is never nil there.
	ChainID *int64
	// ContractAddress is the KMS contract as the CVM detail gives it
	// (kms_info.dstack_kms_address, "0x" + 40 hex: the CVMKmsInfo schema of
	// the official Phala Cloud OpenAPI document); empty when the detail does
	// not give it.
	ContractAddress string
	// AppID is the app whose env key is being checked, 40 lowercase hex:
	// the detail's app_id, already checked to be the app the caller named
	// (cvmID as an app id, or EnvKeyOptions.AppID) before the anchor is
	// asked. An anchor may check it further (the onchain anchor reads the
	// KMS contract's registeredApps).
	AppID string
}

// KeyAnchor is a source the caller trusts for the signer of a KMS's
// env-encryption keys. An on-chain KMS signs each app's X25519 key with its
// secp256k1 root key; the signature proves the key came from the KMS only
// once the recovered signer is compared with a signer obtained from
// somewhere other than the API that served the key. A KeyAnchor is that
// somewhere: a pinned value (PinnedSigner), or the KMS contract read from a
// chain (the k256Pubkey of the dstack DstackKms contract's kmsInfo()). The
// one exception is InsecureTrustAPISigner, an explicit opt-out.
//
// Give one per call (EnvKeyOptions.Anchor) or for the client (WithKeyAnchor).
// GetEnvEncryptPublicKey and EncryptAndUpdateEnvs ask it before they fetch the KMS's
// key, and encrypt nothing unless the key's signature recovers exactly the
// signer it returned.
//
// The interface carries no Ethereum types, so that the on-chain anchor can
// live in a separate module. Implementations must be safe for concurrent
// use.
type KeyAnchor interface {
	// TrustedSigner returns the compressed secp256k1 public key
	// ("0x" + 66 hex, case-insensitive) that the KMS's signatures must
	// recover to. An error stops the env encryption before any value is
	// encrypted; it is returned wrapped in a *KeyVerificationError, so it
	// must not hold a secret (e.g. an RPC URL with a key in it).
	TrustedSigner(ctx context.Context, kms KMSRef) (string, error)
	// String names the anchor for logs and results, e.g. "pinned signer"
	// or "chain 8453 KMS contract 0x...". It never holds a secret.
	String() string
}

// PinnedSigner is a KeyAnchor that trusts exactly one KMS signer, whatever
// the KMS: signer is a compressed secp256k1 public key, "0x" + 66 hex
// (33 bytes, first byte 02 or 03, a point on the curve), case-insensitive.
// Obtain it out of band, e.g. from the KMS contract's kmsInfo() on a block
// explorer, or from phalatest's Server.KMSSigner in tests.
//
// The error is an *InvalidArgumentError (field "signer") for anything else;
// the signer is a public key, so the error may quote it.
func PinnedSigner(signer string) (KeyAnchor, error) {
	s, err := normalizeSigner(signer)
	if err != nil {
		return nil, invalidArg("signer", "%v", err)
	}
	return pinnedSigner{signer: s}, nil
}

// pinnedSigner is PinnedSigner's anchor; signer is normalised lowercase.
type pinnedSigner struct{ signer string }

// TrustedSigner returns the pinned signer for every KMS.
func (p pinnedSigner) TrustedSigner(context.Context, KMSRef) (string, error) {
	return p.signer, nil
}

// String names the anchor and its signer.
func (p pinnedSigner) String() string { return "pinned signer " + p.signer }

// InsecureTrustAPISigner returns a KeyAnchor that trusts whatever the API
// answers: the env-encryption key of an on-chain KMS is still required to
// carry a valid signature, but its signer is not compared with anything,
// and a central KMS's unsigned key (kms_info.encrypted_env_pubkey) is taken
// as given. This means the API, or anyone between you and it (a proxy, a
// compromised TLS endpoint), can choose the key your secrets are encrypted
// to, and so read them. Use it only where the API's word is all there is
// (the central KMS has no signed key) or where TLS to the API is what you
// decided to rely on; the results name it (EnvEncryptPublicKey.Anchor) so
// that logs show the choice.
//
// Its TrustedSigner always fails: it has no signer of its own.
func InsecureTrustAPISigner() KeyAnchor { return apiTrust{} }

// apiTrust is InsecureTrustAPISigner's anchor, recognised by type.
type apiTrust struct{}

// errAPITrustNoSigner is what apiTrust's TrustedSigner returns.
var errAPITrustNoSigner = errors.New("phala: InsecureTrustAPISigner has no signer of its own: it accepts the API's key as given")

// TrustedSigner fails: this anchor trusts the API instead of a signer.
func (apiTrust) TrustedSigner(context.Context, KMSRef) (string, error) {
	return "", errAPITrustNoSigner
}

// String names the anchor and its risk.
func (apiTrust) String() string { return "InsecureTrustAPISigner (the API chooses the key)" }

// isNilAnchor is true for a nil interface and a typed nil pointer, map,
// func, ... (whose methods would panic).
func isNilAnchor(a KeyAnchor) bool {
	if a == nil {
		return true
	}
	switch v := reflect.ValueOf(a); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Slice, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// normalizeSigner checks a compressed secp256k1 public key in "0x" + 66
// hex form and returns it lowercase.
func normalizeSigner(s string) (string, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		h, ok = strings.CutPrefix(s, "0X")
	}
	if !ok {
		return "", fmt.Errorf("want a compressed secp256k1 public key as 0x + 66 hex, got %d characters without the 0x prefix", len(s))
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", errors.New("want a compressed secp256k1 public key as 0x + 66 hex: not hexadecimal")
	}
	if len(b) != 33 || (b[0] != 2 && b[0] != 3) {
		return "", fmt.Errorf("want a compressed secp256k1 public key (33 bytes starting 02 or 03), got %d bytes", len(b))
	}
	if _, err := secp256k1.ParsePubKey(b); err != nil {
		return "", errors.New("not a point on the secp256k1 curve")
	}
	return "0x" + hex.EncodeToString(b), nil
}
