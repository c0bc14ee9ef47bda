package onchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// Defaults of TxOptions.
const (
	// DefaultConfirmations is how many blocks (the including one counted)
	// a receipt waits for.
	DefaultConfirmations = 1
	// DefaultPollInterval is how often a receipt wait asks the node.
	DefaultPollInterval = 2 * time.Second
)

// TxOptions tune a transaction. The zero value (or nil) estimates gas,
// prices EIP-1559 fees from the node, takes the nonce from the pending
// state and waits for one confirmation.
type TxOptions struct {
	// Confirmations is how many blocks, the one that includes the
	// transaction counted, to wait for (default DefaultConfirmations).
	Confirmations uint64
	// PollInterval is the receipt polling period (default
	// DefaultPollInterval).
	PollInterval time.Duration
	// GasLimit overrides the gas estimate (0: estimate). A set GasLimit
	// skips the estimate, so a refused call is only found once mined.
	GasLimit uint64
	// GasTipCap and GasFeeCap override the EIP-1559 fees, in wei per gas
	// (nil: tip from eth_maxPriorityFeePerGas, cap 2 × base fee + tip).
	GasTipCap, GasFeeCap *big.Int
	// Nonce overrides the pending-state nonce.
	Nonce *uint64
	// MinBalance is the least balance (wei) the account must hold before
	// anything is sent, on top of the transaction's own maximum cost (the
	// TypeScript SDK asks 0.001 ETH by default; here the default is the
	// cost alone).
	MinBalance *big.Int
	// OnSubmitted is called once the transaction is sent, with its hash.
	OnSubmitted func(txHash common.Hash)
	// OnConfirmed is called once the receipt has Confirmations blocks.
	OnConfirmed func(receipt *types.Receipt)
}

func (o *TxOptions) orDefault() TxOptions {
	var v TxOptions
	if o != nil {
		v = *o
	}
	if v.Confirmations == 0 {
		v.Confirmations = DefaultConfirmations
	}
	if v.PollInterval <= 0 {
		v.PollInterval = DefaultPollInterval
	}
	return v
}

// Call is a contract call not sent: what a multisig submits.
type Call struct {
	// To is the contract.
	To common.Address
	// Data is the ABI-encoded calldata.
	Data []byte
	// Value is the wei sent along (always zero here).
	Value *big.Int
	// ChainID is the chain the call is meant for.
	ChainID *big.Int
}

// Tx is the outcome of a sending call.
type Tx struct {
	// Hash is the transaction hash (zero for a calldata-only Signer).
	Hash common.Hash
	// Receipt is the confirmed receipt (nil for a calldata-only Signer).
	Receipt *types.Receipt
	// Call is what was (or, calldata-only, would be) sent.
	Call Call
}

// transact sends one contract call: chain and code checks, gas estimate
// (refusals become *RevertError before sending), EIP-1559 fees, balance
// check, pending nonce, signature, send and the receipt wait.
func transact(ctx context.Context, b Backend, s Signer, to common.Address, what, method string, args []any, opts *TxOptions) (*Tx, error) {
	o := opts.orDefault()
	data, err := appABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("onchain: encode %s: %w", method, err)
	}
	chainID, err := checkChain(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	if err := requireCode(ctx, b, what, to, chainID); err != nil {
		return nil, err
	}
	call := Call{To: to, Data: data, Value: new(big.Int), ChainID: chainID}
	from := s.Address()
	gas := o.GasLimit
	if gas == 0 && from != (common.Address{}) {
		gas, err = b.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Data: data})
		if err != nil {
			if re := revertFrom(method, err); re != nil {
				return nil, re
			}
			return nil, rpcErr("eth_estimateGas", err)
		}
	}
	if isCalldataOnly(s) {
		return &Tx{Call: call}, nil
	}
	if from == (common.Address{}) {
		return nil, invalidArg("signer", "has no account address")
	}
	tip, feeCap, err := fees(ctx, b, o)
	if err != nil {
		return nil, err
	}
	balance, err := b.PendingBalanceAt(ctx, from)
	if err != nil {
		return nil, rpcErr("eth_getBalance", err)
	}
	need := new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap)
	if o.MinBalance != nil {
		need.Add(need, o.MinBalance)
	}
	if balance.Cmp(need) < 0 {
		return nil, &InsufficientFundsError{Account: from, Balance: balance, Required: need}
	}
	var nonce uint64
	if o.Nonce != nil {
		nonce = *o.Nonce
	} else if nonce, err = b.PendingNonceAt(ctx, from); err != nil {
		return nil, rpcErr("eth_getTransactionCount", err)
	}
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas, To: &to, Value: new(big.Int), Data: data})
	signed, err := s.SignTx(ctx, chainID, tx)
	if err != nil {
		return nil, fmt.Errorf("onchain: sign %s: %w", method, err)
	}
	if err := b.SendTransaction(ctx, signed); err != nil {
		if strings.Contains(err.Error(), "insufficient funds") {
			return nil, &InsufficientFundsError{Account: from, Balance: balance, Required: need}
		}
		return nil, rpcErr("eth_sendRawTransaction", err)
	}
	if o.OnSubmitted != nil {
		o.OnSubmitted(signed.Hash())
	}
	rcpt, err := WaitReceipt(ctx, b, signed.Hash(), o.Confirmations, o.PollInterval)
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		re := &RevertError{Method: method, TxHash: signed.Hash()}
		// Replay the call at the block before to recover the reason.
		prev := new(big.Int).Sub(rcpt.BlockNumber, big.NewInt(1))
		if _, cerr := b.CallContract(ctx, ethereum.CallMsg{From: from, To: &to, Data: data, Gas: gas}, prev); cerr != nil {
			if r := revertFrom(method, cerr); r != nil {
				re.Reason, re.Data = r.Reason, r.Data
			}
		}
		return nil, re
	}
	if o.OnConfirmed != nil {
		o.OnConfirmed(rcpt)
	}
	return &Tx{Hash: signed.Hash(), Receipt: rcpt, Call: call}, nil
}

// fees returns the EIP-1559 tip and fee cap, in wei per gas.
func fees(ctx context.Context, b Backend, o TxOptions) (tip, feeCap *big.Int, err error) {
	tip = o.GasTipCap
	if tip == nil {
		if tip, err = b.SuggestGasTipCap(ctx); err != nil {
			return nil, nil, rpcErr("eth_maxPriorityFeePerGas", err)
		}
	}
	feeCap = o.GasFeeCap
	if feeCap == nil {
		head, err := b.HeaderByNumber(ctx, nil)
		if err != nil {
			return nil, nil, rpcErr("eth_getBlockByNumber", err)
		}
		if head.BaseFee == nil {
			return nil, nil, errors.New("onchain: the chain has no base fee (pre-London): EIP-1559 transactions are not possible")
		}
		feeCap = new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	}
	if feeCap.Cmp(tip) < 0 {
		return nil, nil, invalidArg("opts.GasFeeCap", "is below the tip (%s < %s wei)", feeCap, tip)
	}
	return tip, feeCap, nil
}

// requireCode fails with a *NoContractError when addr has no code.
func requireCode(ctx context.Context, b Backend, what string, addr common.Address, chainID *big.Int) error {
	code, err := b.CodeAt(ctx, addr, nil)
	if err != nil {
		return rpcErr("eth_getCode", err)
	}
	if len(code) == 0 {
		return &NoContractError{What: what, Address: addr, ChainID: chainID}
	}
	return nil
}

// WaitReceipt polls for txHash's receipt every interval until the block
// that includes it has confirmations blocks on top, the including block
// counted (1: as soon as it is mined). ctx bounds the wait; its error is
// returned when it ends first. A failed transaction's receipt is returned
// as is (Status 0): check it.
func WaitReceipt(ctx context.Context, b Backend, txHash common.Hash, confirmations uint64, interval time.Duration) (*types.Receipt, error) {
	if confirmations == 0 {
		confirmations = 1
	}
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rcpt, err := b.TransactionReceipt(ctx, txHash)
		switch {
		case err == nil && rcpt != nil:
			head, herr := b.BlockNumber(ctx)
			if herr != nil {
				return nil, rpcErr("eth_blockNumber", herr)
			}
			if head+1 >= rcpt.BlockNumber.Uint64()+confirmations {
				return rcpt, nil
			}
		case err != nil && !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress"):
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, rpcErr("eth_getTransactionReceipt", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("onchain: waiting for transaction %s: %w", txHash.Hex(), ctx.Err())
		case <-t.C:
		}
	}
}

// dataError is the JSON-RPC error carrying revert data (go-ethereum's
// rpc.DataError).
type dataError interface {
	ErrorData() any
}

// revertFrom turns a node's "execution reverted" error into a
// *RevertError with the reason decoded (Error(string), or one of the app
// ABI's custom errors); nil when err is no revert.
func revertFrom(method string, err error) *RevertError {
	var de dataError
	hasData := errors.As(err, &de)
	if !hasData && !strings.Contains(err.Error(), "revert") {
		return nil
	}
	re := &RevertError{Method: method}
	msg := ""
	if hasData {
		re.Data, msg = revertData(de.ErrorData(), 0)
	}
	re.Reason = decodeRevert(re.Data)
	switch {
	case re.Reason != "":
	case msg != "":
		re.Reason = msg
	case !hasData:
		re.Reason = err.Error()
	}
	return re
}

// revertData reads the revert data of a JSON-RPC error's data member in
// the forms nodes send: a hex string (geth, anvil), or an object
// {message, data} whose data is the hex string or another such object
// (Hardhat, code -32603). msg is a message found on the way, for a revert
// without data.
func revertData(v any, depth int) (data []byte, msg string) {
	switch d := v.(type) {
	case string:
		if b, err := hexBytes(d); err == nil {
			return b, ""
		}
		return nil, d
	case map[string]any:
		if depth < 4 {
			data, msg = revertData(d["data"], depth+1)
		}
		if m, ok := d["message"].(string); ok && msg == "" {
			msg = m
		}
		return data, msg
	}
	return nil, ""
}

func decodeRevert(data []byte) string {
	if len(data) < 4 {
		return ""
	}
	if r, err := abi.UnpackRevert(data); err == nil {
		return r
	}
	for _, e := range appABI.Errors {
		if string(e.ID[:4]) != string(data[:4]) {
			continue
		}
		vals, err := e.Inputs.Unpack(data[4:])
		if err != nil {
			return e.Name
		}
		parts := make([]string, 0, len(vals))
		for _, v := range vals {
			parts = append(parts, fmt.Sprint(v))
		}
		return e.Name + "(" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("custom error 0x%x", data[:4])
}

func hexBytes(s string) ([]byte, error) { return hexutil.Decode(s) }
