package onchain

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/phalacloud/go-sdk/phala"
)

// KMSAnchor is a phala.KeyAnchor that trusts the KMS root signer the KMS
// contract publishes on chain: kmsInfo().k256Pubkey of the DstackKms
// contract at the CVM's kms_info.kms_contract_address, read through the
// caller's own RPC endpoint (../shared/reference/phala-cloud-api.md, "Trust
// anchor of the env-encryption key"; the getter is in Dstack-TEE/dstack
// kms/auth-eth/contracts/DstackKms.sol). Safe for concurrent use.
type KMSAnchor struct {
	b        Backend
	contract *common.Address

	mu   sync.Mutex
	last string
}

// KMSAnchorOption configures a KMSAnchor.
type KMSAnchorOption func(*KMSAnchor)

// WithKMSContract pins the KMS contract address, for CVM details that do
// not carry kms_contract_address; a KMSRef naming another address is then
// refused.
func WithKMSContract(addr common.Address) KMSAnchorOption {
	return func(a *KMSAnchor) { a.contract = &addr }
}

// NewKMSAnchor reads KMS signers through b (the caller's RPC endpoint;
// an *ethclient.Client or a simulated chain's client).
func NewKMSAnchor(b Backend, opts ...KMSAnchorOption) *KMSAnchor {
	a := &KMSAnchor{b: b}
	for _, o := range opts {
		if o != nil {
			o(a)
		}
	}
	return a
}

// TrustedSigner returns the KMS root signer of kms as compressed
// secp256k1, "0x" + 66 lowercase hex, read from the KMS contract. It
// refuses, before reading, a KMS without a chain id (ErrNotOnChain) and an
// RPC endpoint serving another chain than kms.ChainID (*ChainMismatchError);
// then a contract address that is malformed (ErrInvalidArgument) or holds
// no code (*NoContractError), and a k256Pubkey that is empty or not a
// secp256k1 point (ErrNoKMSKey). Other failures are *RPCError.
func (a *KMSAnchor) TrustedSigner(ctx context.Context, kms phala.KMSRef) (string, error) {
	if a == nil || a.b == nil {
		return "", invalidArg("anchor", "has no backend")
	}
	if kms.ChainID == nil {
		return "", fmt.Errorf("%w: KMS %q has no chain id (central KMS?)", ErrNotOnChain, kmsName(kms))
	}
	_, err := checkChain(ctx, a.b, big.NewInt(*kms.ChainID))
	if err != nil {
		return "", err
	}
	var addr common.Address
	switch {
	case kms.ContractAddress != "":
		if addr, err = parseAddress("kms.ContractAddress", kms.ContractAddress); err != nil {
			return "", err
		}
		if a.contract != nil && *a.contract != addr {
			return "", fmt.Errorf("%w: KMS %q names contract %s, the anchor is pinned to %s", phala.ErrKeyVerification, kmsName(kms), addr.Hex(), a.contract.Hex())
		}
	case a.contract != nil:
		addr = *a.contract
	default:
		return "", invalidArg("kms.ContractAddress", "is empty and no contract is pinned (WithKMSContract)")
	}
	key, err := ReadKMSRootKey(ctx, a.b, addr)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.last = fmt.Sprintf("chain %d KMS contract %s", *kms.ChainID, addr.Hex())
	a.mu.Unlock()
	return key, nil
}

// String names the anchor and the last contract it read.
func (a *KMSAnchor) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.last != "":
		return "on-chain anchor: " + a.last
	case a.contract != nil:
		return "on-chain anchor: KMS contract " + a.contract.Hex()
	}
	return "on-chain anchor: the CVM's KMS contract"
}

// ReadKMSRootKey calls kmsInfo() on the KMS contract at addr and returns
// its k256Pubkey as compressed secp256k1, "0x" + 66 lowercase hex. The
// contract may hold the key compressed (33 bytes), uncompressed (65 bytes,
// 0x04 first) or as the bare 64-byte point. Errors: *NoContractError,
// ErrNoKMSKey, *RPCError.
func ReadKMSRootKey(ctx context.Context, b Backend, addr common.Address) (string, error) {
	data, _ := kmsABI.Pack("kmsInfo")
	out, err := b.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: data}, nil)
	if err != nil {
		if re := revertFrom("kmsInfo", err); re != nil {
			return "", re
		}
		return "", rpcErr("eth_call", err)
	}
	if len(out) == 0 {
		chainID, cerr := b.ChainID(ctx)
		if cerr != nil {
			return "", rpcErr("eth_chainId", cerr)
		}
		if err := requireCode(ctx, b, "KMS contract", addr, chainID); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: kmsInfo() at %s answered nothing (not a DstackKms contract?)", ErrNoKMSKey, addr.Hex())
	}
	vals, err := kmsABI.Unpack("kmsInfo", out)
	if err != nil || len(vals) != 4 {
		return "", fmt.Errorf("%w: kmsInfo() at %s does not decode as (bytes,bytes,bytes,bytes): %v", ErrNoKMSKey, addr.Hex(), err)
	}
	raw, _ := vals[0].([]byte)
	key, err := compressK256(raw)
	if err != nil {
		return "", fmt.Errorf("%w: KMS contract %s: %v", ErrNoKMSKey, addr.Hex(), err)
	}
	return key, nil
}

func compressK256(raw []byte) (string, error) {
	switch {
	case len(raw) == 0:
		return "", fmt.Errorf("k256Pubkey is empty")
	case len(raw) == 33 && (raw[0] == 2 || raw[0] == 3):
		if _, err := crypto.DecompressPubkey(raw); err != nil {
			return "", fmt.Errorf("k256Pubkey is not a secp256k1 point")
		}
		return "0x" + hex.EncodeToString(raw), nil
	case len(raw) == 64:
		raw = append([]byte{4}, raw...)
		fallthrough
	case len(raw) == 65 && raw[0] == 4:
		pub, err := crypto.UnmarshalPubkey(raw)
		if err != nil {
			return "", fmt.Errorf("k256Pubkey is not a secp256k1 point")
		}
		return "0x" + hex.EncodeToString(crypto.CompressPubkey(pub)), nil
	}
	return "", fmt.Errorf("k256Pubkey has %d bytes, want 33 (compressed), 65 or 64", len(raw))
}

func kmsName(k phala.KMSRef) string {
	if k.Slug != "" {
		return k.Slug
	}
	return k.ID
}

var _ phala.KeyAnchor = (*KMSAnchor)(nil)
