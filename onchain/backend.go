package onchain

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"
)

// Backend is the JSON-RPC surface this package needs from a chain. Both
// *ethclient.Client (ethclient.Dial of an RPC URL) and the in-process
// simulated chain's client (ethclient/simulated) satisfy it.
type Backend interface {
	ethereum.ChainIDReader
	ethereum.BlockNumberReader
	ethereum.ChainStateReader
	ethereum.PendingStateReader
	ethereum.ContractCaller
	ethereum.GasEstimator
	ethereum.GasPricer
	ethereum.GasPricer1559
	ethereum.TransactionReader
	ethereum.TransactionSender
	ethereum.LogFilterer
	// HeaderByNumber returns the header of block number (nil: the latest).
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// checkChain returns the endpoint's chain id, and a *ChainMismatchError
// when want is set and differs.
func checkChain(ctx context.Context, b Backend, want *big.Int) (*big.Int, error) {
	got, err := b.ChainID(ctx)
	if err != nil {
		return nil, rpcErr("eth_chainId", err)
	}
	if want != nil && want.Cmp(got) != 0 {
		return got, &ChainMismatchError{Want: new(big.Int).Set(want), Got: got}
	}
	return got, nil
}

// rpcErr wraps an RPC failure with the method that failed.
func rpcErr(method string, err error) error {
	return &RPCError{Method: method, Err: err}
}

// RPCError is a JSON-RPC call that failed (transport or node error).
type RPCError struct {
	// Method is the JSON-RPC method, e.g. "eth_call".
	Method string
	Err    error
}

// Error names the method and the cause.
func (e *RPCError) Error() string { return "onchain: " + e.Method + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *RPCError) Unwrap() error { return e.Err }
