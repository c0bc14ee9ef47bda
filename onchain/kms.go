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
// contract the caller pinned for the chain, read through the caller's own
// RPC endpoint (../shared/reference/phala-cloud-api.md, "Trust anchor of
// the env-encryption key"; the getter is in Dstack-TEE/dstack
// kms/auth-eth/contracts/DstackKms.sol).
//
// The contract comes from the caller, never from the CVM detail: anyone can
// deploy a look-alike KMS contract with a root key of their own and name it
// in an answer. Pin it with WithKMSContract (the chain the backend serves)
// or WithKMSContracts (per chain id); a chain without a pinned contract is
// refused (ErrKMSNotPinned), and a detail naming another contract than the
// pinned one is refused (phala.ErrKeyVerification, naming both). See the
// README's trust model for the production contracts and where each address
// was published. Safe for concurrent use.
type KMSAnchor struct {
	b       Backend
	pinned  *common.Address
	byChain map[int64]common.Address

	mu   sync.Mutex
	last string
}

// KMSAnchorOption configures a KMSAnchor.
type KMSAnchorOption func(*KMSAnchor)

// WithKMSContract pins the KMS contract on the chain the backend serves
// (checked against the CVM's chain id before anything is read). A CVM
// detail naming another address is refused.
func WithKMSContract(addr common.Address) KMSAnchorOption {
	return func(a *KMSAnchor) { a.pinned = &addr }
}

// WithKMSContracts pins one KMS contract per chain id (e.g. 8453 Base,
// 1 Ethereum). The map is copied. A chain id without an entry is refused,
// unless WithKMSContract pins a contract for the backend's chain.
func WithKMSContracts(byChain map[int64]common.Address) KMSAnchorOption {
	return func(a *KMSAnchor) {
		if a.byChain == nil {
			a.byChain = map[int64]common.Address{}
		}
		for id, addr := range byChain {
			a.byChain[id] = addr
		}
	}
}

// NewKMSAnchor reads KMS signers through b (the caller's RPC endpoint; an
// *ethclient.Client or a simulated chain's client) from the KMS contract
// pinned by the options. Without WithKMSContract or WithKMSContracts every
// TrustedSigner call is refused with ErrKMSNotPinned.
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
// secp256k1, "0x" + 66 lowercase hex, read from the pinned KMS contract.
// In order, it refuses: a KMS without a chain id (ErrNotOnChain); an RPC
// endpoint serving another chain than kms.ChainID (*ChainMismatchError); a
// chain without a pinned contract (ErrKMSNotPinned); a detail whose
// kms.ContractAddress is malformed (ErrInvalidArgument) or names another
// contract than the pinned one (phala.ErrKeyVerification); a pinned address
// without code (*NoContractError); a k256Pubkey that is empty or not a
// secp256k1 point (ErrNoKMSKey); a malformed kms.AppID
// (ErrInvalidArgument) or an app the contract does not record in
// registeredApps (ErrAppNotRegistered). Other failures are
// *RPCError. kms.ContractAddress and kms.AppID come from the API: the first
// is only compared with the pin, the second only decides which app's
// registration is read (phala checks it is the caller's app before asking).
func (a *KMSAnchor) TrustedSigner(ctx context.Context, kms phala.KMSRef) (string, error) {
	if a == nil || a.b == nil {
		return "", invalidArg("anchor", "has no backend")
	}
	if kms.ChainID == nil {
		return "", fmt.Errorf("%w: KMS %q has no chain id (central KMS?)", ErrNotOnChain, kmsName(kms))
	}
	if _, err := checkChain(ctx, a.b, big.NewInt(*kms.ChainID)); err != nil {
		return "", err
	}
	addr, err := a.contractFor(*kms.ChainID, kms)
	if err != nil {
		return "", err
	}
	key, err := ReadKMSRootKey(ctx, a.b, addr)
	if err != nil {
		return "", err
	}
	if err := requireRegistered(ctx, a.b, addr, kms.AppID); err != nil {
		return "", err
	}
	a.mu.Lock()
	a.last = fmt.Sprintf("chain %d KMS contract %s", *kms.ChainID, addr.Hex())
	a.mu.Unlock()
	return key, nil
}

// contractFor returns the contract pinned for chainID, after comparing it
// with the one the detail names (if any).
func (a *KMSAnchor) contractFor(chainID int64, kms phala.KMSRef) (common.Address, error) {
	addr, ok := a.byChain[chainID]
	if !ok && a.pinned != nil {
		addr, ok = *a.pinned, true
	}
	if !ok {
		return common.Address{}, fmt.Errorf("%w: chain %d (pin the KMS contract you trust with onchain.WithKMSContract or onchain.WithKMSContracts; "+
			"the address the CVM detail names is the API's word and is never read on its own)", ErrKMSNotPinned, chainID)
	}
	if kms.ContractAddress == "" {
		return addr, nil
	}
	named, err := parseAddress("kms.ContractAddress", kms.ContractAddress)
	if err != nil {
		return common.Address{}, err
	}
	if named != addr {
		return common.Address{}, fmt.Errorf("%w: KMS %q: the CVM detail names KMS contract %s, the anchor is pinned to %s on chain %d",
			phala.ErrKeyVerification, kmsName(kms), named.Hex(), addr.Hex(), chainID)
	}
	return addr, nil
}

// requireRegistered reads registeredApps(app) on the KMS contract at kms,
// the list of apps DstackKms serves (Dstack-TEE/dstack
// kms/auth-eth/contracts/DstackKms.sol: mapping registeredApps, filled by
// registerApp and deployAndRegisterApp).
func requireRegistered(ctx context.Context, b Backend, kms common.Address, appID string) error {
	app, err := parseAddress("kms.AppID", appID)
	if err != nil {
		return err
	}
	data, _ := kmsABI.Pack("registeredApps", app)
	out, err := b.CallContract(ctx, ethereum.CallMsg{To: &kms, Data: data}, nil)
	if err != nil {
		if re := revertFrom("registeredApps", err); re != nil {
			return re
		}
		return rpcErr("eth_call", err)
	}
	vals, err := kmsABI.Unpack("registeredApps", out)
	if err != nil || len(vals) != 1 {
		return fmt.Errorf("onchain: registeredApps(%s) at %s does not decode as bool (not a DstackKms contract?): %v", app.Hex(), kms.Hex(), err)
	}
	if ok, _ := vals[0].(bool); !ok {
		return fmt.Errorf("%w: app %s is not registered on KMS contract %s", ErrAppNotRegistered, app.Hex(), kms.Hex())
	}
	return nil
}

// String names the anchor and the last contract it read.
func (a *KMSAnchor) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.last != "":
		return "on-chain anchor: " + a.last
	case a.pinned != nil:
		return "on-chain anchor: KMS contract " + a.pinned.Hex()
	case len(a.byChain) > 0:
		return fmt.Sprintf("on-chain anchor: KMS contracts pinned on %d chains", len(a.byChain))
	}
	return "on-chain anchor: no KMS contract pinned"
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
