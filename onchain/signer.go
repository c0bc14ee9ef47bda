package onchain

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Signer signs the transactions this package sends. Three come with the
// package: PrivateKeySigner (a raw key), TransactOptsSigner (anything
// go-ethereum's bind.TransactOpts can sign with: keystore, Clef, a
// hardware wallet) and CalldataOnly (nothing is signed: the call is handed
// back for a multisig such as a Safe to submit).
type Signer interface {
	// Address is the account that sends (for CalldataOnly, the multisig).
	Address() common.Address
	// SignTx signs tx for chainID. CalldataOnly returns ErrCalldataOnly.
	SignTx(ctx context.Context, chainID *big.Int, tx *types.Transaction) (*types.Transaction, error)
}

type keySigner struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

// PrivateKeySigner signs with a secp256k1 private key given as 64 hex
// digits, optionally "0x"-prefixed, e.g. the value of a PRIVATE_KEY
// environment variable that the caller reads. A malformed key gives an
// error matching phala.ErrInvalidArgument for field "privateKey"; the key
// never appears in errors, logs or the Signer's %v output.
func PrivateKeySigner(privateKeyHex string) (Signer, error) {
	s := strings.TrimSpace(privateKeyHex)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	if len(s) != 64 {
		return nil, invalidArg("privateKey", "must be 32 bytes as 64 hex digits (optional 0x), got %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, invalidArg("privateKey", "is not hexadecimal")
	}
	key, err := crypto.ToECDSA(b)
	clear(b)
	if err != nil {
		return nil, invalidArg("privateKey", "is not a valid secp256k1 private key")
	}
	return &keySigner{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}, nil
}

func (k *keySigner) Address() common.Address { return k.addr }

func (k *keySigner) SignTx(_ context.Context, chainID *big.Int, tx *types.Transaction) (*types.Transaction, error) {
	return types.SignTx(tx, types.LatestSignerForChainID(chainID), k.key)
}

// String names the account, never the key.
func (k *keySigner) String() string { return "private key signer " + k.addr.Hex() }

// GoString is String, so that %#v does not print the key either.
func (k *keySigner) GoString() string { return k.String() }

type optsSigner struct{ opts *bind.TransactOpts }

// TransactOptsSigner signs through opts.Signer as account opts.From (for
// instance bind.NewKeyedTransactor or bind.NewKeyStoreTransactor). Only
// From and Signer are used; nonce, fees and gas come from TxOptions. A nil
// opts or nil opts.Signer makes every SignTx fail.
func TransactOptsSigner(opts *bind.TransactOpts) Signer { return &optsSigner{opts: opts} }

func (o *optsSigner) Address() common.Address {
	if o.opts == nil {
		return common.Address{}
	}
	return o.opts.From
}

func (o *optsSigner) SignTx(_ context.Context, _ *big.Int, tx *types.Transaction) (*types.Transaction, error) {
	if o.opts == nil || o.opts.Signer == nil {
		return nil, errors.New("onchain: TransactOptsSigner has no Signer function")
	}
	return o.opts.Signer(o.opts.From, tx)
}

type calldataSigner struct{ from common.Address }

// CalldataOnly is a Signer that signs nothing: the sending calls return a
// *Tx with only Call set (and ErrCalldataOnly from SignTx), for a multisig
// such as a Safe to submit. from is the multisig's address (the contract
// owner): when set, the call is gas-estimated from it, so that a call the
// contract would refuse fails now with a *RevertError; the zero address
// skips the estimate.
func CalldataOnly(from common.Address) Signer { return calldataSigner{from: from} }

func (c calldataSigner) Address() common.Address { return c.from }

func (c calldataSigner) SignTx(context.Context, *big.Int, *types.Transaction) (*types.Transaction, error) {
	return nil, ErrCalldataOnly
}

func isCalldataOnly(s Signer) bool {
	_, ok := s.(calldataSigner)
	return ok
}
