// Package chaintest runs a real EVM in the process (go-ethereum's
// ethclient/simulated) with the onchain module's test contracts deployed:
// a KMS contract publishing a root key and an app contract, both
// ABI-compatible with dstack's DstackKms and DstackApp. It is for tests and
// offline examples; nothing here touches a network.
//
// Blocks are mined when a transaction is sent (as ganache and hardhat do by
// default), and, with MineOnPoll, also whenever the block number is asked,
// so that waits for several confirmations end without real time passing.
package chaintest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/phalacloud/go-sdk/onchain/contracts"
)

// Ether is 10^18 wei.
var Ether = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// Chain is a simulated chain with one KMS contract and one app contract.
type Chain struct {
	// ChainID is the simulated chain's id (1337).
	ChainID *big.Int
	// OwnerKey is the funded account that owns both contracts, 64 hex
	// (a test key: never use it on a real chain).
	OwnerKey string
	// Owner is OwnerKey's address.
	Owner common.Address
	// KMSRootKey is the KMS root private key (32 bytes) whose public key
	// the KMS contract publishes: give it to phalatest.WithKMSKey so that
	// the fake's env-key signatures verify against the chain.
	KMSRootKey []byte
	// KMSContract and AppContract are the deployed contracts; the app id
	// is AppContract without 0x, lowercase (AppID).
	KMSContract, AppContract common.Address
	// RPCURL is the HTTP JSON-RPC endpoint with Options.ServeHTTP, else "".
	RPCURL string

	sim    *simulated.Backend
	client *AutoMiner
	owner  *ecdsa.PrivateKey
	faucet *ecdsa.PrivateKey
}

// Options tune New.
type Options struct {
	// KMSRootKey is the KMS root private key, 32 bytes (random when nil).
	KMSRootKey []byte
	// AllowAnyDevice and DeviceID set the app contract's device list.
	AllowAnyDevice bool
	DeviceID       [32]byte
	// InitialComposeHash is allowed by the app contract from the start.
	InitialComposeHash [32]byte
	// ServeHTTP also serves the chain's JSON-RPC (eth, net, web3) over
	// HTTP on a free loopback port (Chain.RPCURL), for clients in other
	// languages. Blocks are then mined only by Commit, the client's sends
	// or AutoCommit.
	ServeHTTP bool
}

// New starts a chain, funds an owner account and deploys the contracts.
// Close it when done.
func New(opts *Options) (*Chain, error) {
	if opts == nil {
		opts = &Options{}
	}
	faucet, _ := crypto.GenerateKey()
	owner, _ := crypto.GenerateKey()
	alloc := types.GenesisAlloc{
		crypto.PubkeyToAddress(faucet.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(1_000_000), Ether)},
		crypto.PubkeyToAddress(owner.PublicKey):  {Balance: new(big.Int).Mul(big.NewInt(100), Ether)},
	}
	var nodeOpts []func(*node.Config, *ethconfig.Config)
	rpcURL := ""
	if opts.ServeHTTP {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chaintest: finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		rpcURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		nodeOpts = append(nodeOpts, func(n *node.Config, _ *ethconfig.Config) {
			n.HTTPHost, n.HTTPPort, n.HTTPModules = "127.0.0.1", port, []string{"eth", "net", "web3"}
		})
	}
	sim := simulated.NewBackend(alloc, nodeOpts...)
	c := &Chain{ChainID: new(big.Int).Set(params.AllDevChainProtocolChanges.ChainID), sim: sim, owner: owner, faucet: faucet,
		OwnerKey: hex.EncodeToString(crypto.FromECDSA(owner)), Owner: crypto.PubkeyToAddress(owner.PublicKey), RPCURL: rpcURL}
	c.client = &AutoMiner{Client: sim.Client(), sim: sim}
	root := opts.KMSRootKey
	if root == nil {
		k, _ := crypto.GenerateKey()
		root = crypto.FromECDSA(k)
	}
	rootKey, err := crypto.ToECDSA(root)
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("chaintest: KMS root key: %w", err)
	}
	c.KMSRootKey = append([]byte(nil), root...)
	ctx := context.Background()
	if c.KMSContract, err = c.Deploy(ctx, owner, contracts.KMS, c.Owner, crypto.CompressPubkey(&rootKey.PublicKey)); err != nil {
		sim.Close()
		return nil, err
	}
	if c.AppContract, err = c.DeployApp(ctx, owner, opts.AllowAnyDevice, opts.DeviceID, opts.InitialComposeHash); err != nil {
		sim.Close()
		return nil, err
	}
	c.client.sent.Store(0) // count only what the caller sends
	return c, nil
}

// Close stops the chain.
func (c *Chain) Close() error { return c.sim.Close() }

// Client is the chain's JSON-RPC client (an onchain.Backend), mining a
// block on every transaction sent.
func (c *Chain) Client() *AutoMiner { return c.client }

// Commit mines a block.
func (c *Chain) Commit() { c.client.commit() }

// AutoCommit mines a block every interval until stop is called, for
// clients that send over RPCURL and wait for their receipts.
func (c *Chain) AutoCommit(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.client.commit()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// AppID is the app contract's address as an app id: 40 lowercase hex.
func (c *Chain) AppID() string { return strings.ToLower(strings.TrimPrefix(c.AppContract.Hex(), "0x")) }

// OwnerECDSA is the owner's key, e.g. for bind.NewKeyedTransactor.
func (c *Chain) OwnerECDSA() *ecdsa.PrivateKey { return c.owner }

// NewAccount makes an account funded with wei (none when wei is nil or
// zero) and returns its private key as 64 hex and its address.
func (c *Chain) NewAccount(ctx context.Context, wei *big.Int) (string, common.Address, error) {
	k, _ := crypto.GenerateKey()
	addr := crypto.PubkeyToAddress(k.PublicKey)
	if wei != nil && wei.Sign() > 0 {
		if _, err := c.send(ctx, c.faucet, &addr, wei, nil, 21000); err != nil {
			return "", common.Address{}, err
		}
	}
	return hex.EncodeToString(crypto.FromECDSA(k)), addr, nil
}

// DeployApp deploys another app contract owned by owner's address and
// registers it on the KMS contract (registerApp), as the real factory
// deployAndRegisterApp does.
func (c *Chain) DeployApp(ctx context.Context, owner *ecdsa.PrivateKey, anyDevice bool, device, composeHash [32]byte) (common.Address, error) {
	addr, err := c.Deploy(ctx, c.faucet, contracts.App, crypto.PubkeyToAddress(owner.PublicKey), anyDevice, device, composeHash)
	if err != nil {
		return addr, err
	}
	return addr, c.RegisterApp(ctx, c.KMSContract, addr)
}

// DeployAppOwnedBy deploys an app contract owned by addr (which need not
// hold any funds) that allows any device, registered on the KMS contract.
func (c *Chain) DeployAppOwnedBy(ctx context.Context, addr common.Address) (common.Address, error) {
	app, err := c.Deploy(ctx, c.faucet, contracts.App, addr, true, [32]byte{}, [32]byte{})
	if err != nil {
		return app, err
	}
	return app, c.RegisterApp(ctx, c.KMSContract, app)
}

// AllowComposeHash allows hash (64 hex, optional 0x) on the app contract
// as its owner, as the deployment of the CVM's current app-compose did.
// Setup: Client().Sent does not count it.
func (c *Chain) AllowComposeHash(ctx context.Context, hash string) error {
	if err := c.transact(ctx, c.owner, c.AppContract, contracts.App, "addComposeHash", common.HexToHash(hash)); err != nil {
		return err
	}
	c.client.sent.Add(-1)
	return nil
}

// transact calls method of the contract named name (contracts.App or
// contracts.KMS) at to, sent by from, and requires success.
func (c *Chain) transact(ctx context.Context, from *ecdsa.PrivateKey, to common.Address, name, method string, args ...any) error {
	art, err := contracts.Get(name)
	if err != nil {
		return err
	}
	parsed, err := abi.JSON(strings.NewReader(string(art.ABI)))
	if err != nil {
		return err
	}
	data, err := parsed.Pack(method, args...)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, from, &to, nil, data, 500_000)
	return err
}

// DeployKMS deploys another KMS contract whose root signer is the
// compressed secp256k1 key root (e.g. a look-alike an attacker controls).
func (c *Chain) DeployKMS(ctx context.Context, root []byte) (common.Address, error) {
	return c.Deploy(ctx, c.faucet, contracts.KMS, c.Owner, root)
}

// RegisterApp calls registerApp(app) on the KMS contract at kms.
func (c *Chain) RegisterApp(ctx context.Context, kms, app common.Address) error {
	return c.transact(ctx, c.faucet, kms, contracts.KMS, "registerApp", app)
}

// Deploy deploys the named contract (contracts.App or contracts.KMS) with
// constructor args, sent by from.
func (c *Chain) Deploy(ctx context.Context, from *ecdsa.PrivateKey, name string, args ...any) (common.Address, error) {
	art, err := contracts.Get(name)
	if err != nil {
		return common.Address{}, err
	}
	parsed, err := abi.JSON(strings.NewReader(string(art.ABI)))
	if err != nil {
		return common.Address{}, fmt.Errorf("chaintest: %s ABI: %w", name, err)
	}
	ctorArgs, err := parsed.Pack("", args...)
	if err != nil {
		return common.Address{}, fmt.Errorf("chaintest: %s constructor: %w", name, err)
	}
	code, err := hex.DecodeString(strings.TrimPrefix(art.Bytecode, "0x"))
	if err != nil {
		return common.Address{}, fmt.Errorf("chaintest: %s bytecode: %w", name, err)
	}
	rcpt, err := c.send(ctx, from, nil, nil, append(code, ctorArgs...), 3_000_000)
	if err != nil {
		return common.Address{}, fmt.Errorf("chaintest: deploy %s: %w", name, err)
	}
	return rcpt.ContractAddress, nil
}

// SetKMSRootPubkey replaces the KMS contract's k256Pubkey (raw bytes, any
// length: the contract stores what it is given), as its owner.
func (c *Chain) SetKMSRootPubkey(ctx context.Context, k256 []byte) error {
	info := struct {
		K256Pubkey []byte
		CaPubkey   []byte
		Quote      []byte
		Eventlog   []byte
	}{K256Pubkey: k256, CaPubkey: []byte{}, Quote: []byte{}, Eventlog: []byte{}}
	return c.transact(ctx, c.owner, c.KMSContract, contracts.KMS, "setKmsInfo", info)
}

// send signs and sends a transaction, mines it and requires success.
func (c *Chain) send(ctx context.Context, from *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte, gas uint64) (*types.Receipt, error) {
	cl := c.client
	addr := crypto.PubkeyToAddress(from.PublicKey)
	nonce, err := cl.PendingNonceAt(ctx, addr)
	if err != nil {
		return nil, err
	}
	head, err := cl.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	if value == nil {
		value = new(big.Int)
	}
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: c.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(c.ChainID), from)
	if err != nil {
		return nil, err
	}
	if err := cl.SendTransaction(ctx, signed); err != nil {
		return nil, err
	}
	rcpt, err := cl.TransactionReceipt(ctx, signed.Hash())
	if err != nil {
		return nil, err
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return nil, errors.New("chaintest: transaction failed")
	}
	return rcpt, nil
}

// AutoMiner is the chain's client: a simulated.Client that mines a block
// after every transaction sent and, with MineOnPoll, before answering each
// eth_blockNumber.
type AutoMiner struct {
	simulated.Client
	sim        *simulated.Backend
	mu         sync.Mutex
	mineOnPoll atomic.Bool
	sent       atomic.Int64
}

func (a *AutoMiner) commit() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sim.Commit()
}

// SendTransaction sends tx and mines it into a block.
func (a *AutoMiner) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	if err := a.Client.SendTransaction(ctx, tx); err != nil {
		return err
	}
	a.sent.Add(1)
	a.commit()
	// The node indexes transactions in the background and answers
	// "transaction indexing is in progress" until it is done: wait for the
	// receipt so that callers see a mined transaction at once.
	for i := 0; i < 10000; i++ {
		_, err := a.Client.TransactionReceipt(ctx, tx.Hash())
		if err == nil || !strings.Contains(err.Error(), "indexing") {
			return nil
		}
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// BlockNumber is the head's number; with MineOnPoll a block is mined first.
func (a *AutoMiner) BlockNumber(ctx context.Context) (uint64, error) {
	if a.mineOnPoll.Load() {
		a.commit()
	}
	return a.Client.BlockNumber(ctx)
}

// MineOnPoll turns on (or off) mining an empty block on every
// BlockNumber call, so that confirmation waits advance.
func (a *AutoMiner) MineOnPoll(on bool) { a.mineOnPoll.Store(on) }

// Sent counts the transactions sent through this client since the
// contracts were deployed (funding and deployments by the Chain count too).
func (a *AutoMiner) Sent() int64 { return a.sent.Load() }
