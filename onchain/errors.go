package onchain

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/phalacloud/go-sdk/phala"
)

// Sentinels matched (errors.Is) by the typed errors of this package.
var (
	// ErrWrongChain: the RPC endpoint serves another chain than the one the
	// CVM's KMS (or the caller) names. Matched by *ChainMismatchError.
	ErrWrongChain = errors.New("onchain: RPC endpoint serves a different chain")
	// ErrNoContract: no code at the contract address. Matched by
	// *NoContractError.
	ErrNoContract = errors.New("onchain: no contract at address")
	// ErrReverted: the contract refused the transaction, when gas was
	// estimated or once mined. Matched by *RevertError.
	ErrReverted = errors.New("onchain: transaction reverted")
	// ErrInsufficientFunds: the sending account cannot pay for the
	// transaction; checked before anything is sent. Matched by
	// *InsufficientFundsError.
	ErrInsufficientFunds = errors.New("onchain: account balance too low")
	// ErrNotOnChain: the KMS named is not an on-chain KMS (no chain id).
	ErrNotOnChain = errors.New("onchain: KMS is not on a chain")
	// ErrKMSNotPinned: the KMSAnchor has no KMS contract pinned for the
	// CVM's chain (WithKMSContract, WithKMSContracts).
	ErrKMSNotPinned = errors.New("onchain: no KMS contract pinned for the chain")
	// ErrAppNotRegistered: the pinned KMS contract does not record the app
	// in registeredApps.
	ErrAppNotRegistered = errors.New("onchain: app not registered on the KMS contract")
	// ErrCurrentNotAllowed: the app-compose the API serves as the CVM's
	// current one hashes to a value the app contract does not allow, so a
	// change built on it is not signed.
	ErrCurrentNotAllowed = errors.New("onchain: the current app-compose is not allowed on the app contract")
	// ErrNoKMSKey: the KMS contract publishes no usable k256Pubkey.
	ErrNoKMSKey = errors.New("onchain: KMS contract has no usable k256Pubkey")
	// ErrCalldataOnly: the Signer only prepares calldata (a multisig
	// submits it); nothing was sent. See CalldataOnly.
	ErrCalldataOnly = errors.New("onchain: signer prepares calldata only")
	// ErrNotRegistered: a transaction does not register the compose hash
	// on the app contract (failed, another contract, another hash).
	ErrNotRegistered = errors.New("onchain: transaction does not register the compose hash")
)

// ChainMismatchError reports an RPC endpoint on the wrong chain.
type ChainMismatchError struct {
	// Want is the chain id asked for; Got is the endpoint's eth_chainId.
	Want, Got *big.Int
}

// Error names both chains.
func (e *ChainMismatchError) Error() string {
	return fmt.Sprintf("onchain: want chain %s, the RPC endpoint serves chain %s", e.Want, e.Got)
}

// Is matches ErrWrongChain.
func (e *ChainMismatchError) Is(target error) bool { return target == ErrWrongChain }

// NoContractError reports an address without code on the chain asked.
type NoContractError struct {
	// What names the contract, e.g. "app contract" or "KMS contract".
	What    string
	Address common.Address
	ChainID *big.Int
}

// Error names the contract, the address and the chain.
func (e *NoContractError) Error() string {
	return fmt.Sprintf("onchain: no %s at %s on chain %s (no code there)", e.What, e.Address.Hex(), e.ChainID)
}

// Is matches ErrNoContract.
func (e *NoContractError) Is(target error) bool { return target == ErrNoContract }

// RevertError reports a transaction the contract refused.
type RevertError struct {
	// Method is the contract function called, e.g. "addComposeHash".
	Method string
	// TxHash is the mined, failed transaction; zero when the revert was
	// found by gas estimation, before anything was sent.
	TxHash common.Hash
	// Reason is the decoded revert: a require message, or a custom error
	// such as "OwnableUnauthorizedAccount(0x...)"; empty when the contract
	// gave none.
	Reason string
	// Data is the raw revert data (may be empty).
	Data []byte
}

// Error names the method, the reason and the transaction when there is one.
func (e *RevertError) Error() string {
	s := "onchain: " + e.Method + " reverted"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.TxHash != (common.Hash{}) {
		s += " (transaction " + e.TxHash.Hex() + ")"
	} else {
		s += " (found by gas estimation; nothing was sent)"
	}
	return s
}

// Is matches ErrReverted.
func (e *RevertError) Is(target error) bool { return target == ErrReverted }

// InsufficientFundsError reports an account that cannot pay for a
// transaction. Amounts are in wei.
type InsufficientFundsError struct {
	Account common.Address
	// Balance is the account's balance in the pending state.
	Balance *big.Int
	// Required is gas limit × max fee per gas + value, or the caller's
	// TxOptions.MinBalance when that is higher.
	Required *big.Int
}

// Error names the account, its balance and what is required, in wei.
func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("onchain: account %s has %s wei, needs at least %s wei; fund it first (nothing was sent)", e.Account.Hex(), e.Balance, e.Required)
}

// Is matches ErrInsufficientFunds.
func (e *InsufficientFundsError) Is(target error) bool { return target == ErrInsufficientFunds }

// invalidArg is the core's typed argument error (it matches
// phala.ErrInvalidArgument and never carries the refused value).
func invalidArg(field, format string, args ...any) error {
	return &phala.InvalidArgumentError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
