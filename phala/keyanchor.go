package phala

import "context"

// KMSRef names the KMS that serves a CVM, as the CVM's detail describes it.
// A KeyAnchor receives it to decide which signer it trusts for that KMS.
type KMSRef struct {
	// ID and Slug name the KMS in the API (GET /kms/{kms}/pubkey/{appId}).
	ID   string
	Slug string
	// ChainID is the chain of the KMS contract; nil for the central KMS.
	ChainID *int64
	// ContractAddress is the KMS contract (kms_info.kms_contract_address,
	// "0x" + 40 hex); empty when the detail does not give it.
	ContractAddress string
	// AppID is the app whose env key is being checked, 40 lowercase hex.
	AppID string
}

// KeyAnchor is a source the caller trusts for the signer of a KMS's
// env-encryption keys. An on-chain KMS signs each app's X25519 key with its
// secp256k1 root key; the signature proves the key came from the KMS only
// once the recovered signer is compared with a signer obtained from
// somewhere other than the API that served the key. A KeyAnchor is that
// somewhere: a pinned value, or the KMS contract read from a chain.
//
// The interface carries no Ethereum types, so that the on-chain anchor can
// live in a separate module.
type KeyAnchor interface {
	// TrustedSigner returns the compressed secp256k1 public key
	// ("0x" + 66 hex, case-insensitive) that the KMS's signatures must
	// recover to. An error stops the env encryption before any value is
	// encrypted.
	TrustedSigner(ctx context.Context, kms KMSRef) (string, error)
	// String names the anchor for logs and results, e.g. "pinned signer"
	// or "chain 8453 KMS contract 0x...". It never holds a secret.
	String() string
}
