package onchain_test

import (
	"context"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/testkit"
	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/onchain/contracts"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

const cvmName = "chain-app"

// env is a simulated chain with the test contracts, and an in-memory Phala
// Cloud whose on-chain CVM uses that chain's app and KMS contracts and
// verifies phase 2 against it.
type env struct {
	chain  *chaintest.Chain
	srv    *phalatest.Server
	client *phala.Client
	cvm    phalatest.CVMSeed
	owner  onchain.Signer
}

type envOpts struct {
	chainID   int64          // the CVM's KMS chain (default: the simulated chain's)
	appID     string         // the CVM's app id (default: the chain's app contract)
	kmsKey    []byte         // the fake's KMS key (default: the chain's KMS root)
	noChecker bool           // phase 2 checked against the fake's own record
	appOwner  common.Address // deploy the CVM's app contract owned by this account
	// lookalike deploys a KMS contract whose root is this private key,
	// registers the app there, names it in the CVM detail and has the
	// fake's KMS sign with it: an attacker's KMS on the same chain.
	lookalike []byte
	chainOpts *chaintest.Options
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	co := o.chainOpts
	if co == nil {
		co = &chaintest.Options{AllowAnyDevice: true}
	}
	if co.InitialComposeHash == ([32]byte{}) {
		// The CVM runs an app-compose its owner approved: its hash is
		// allowed from the start, as deployAndRegisterApp does.
		c := *co
		c.InitialComposeHash = seedComposeHash(t)
		co = &c
	}
	chain, err := chaintest.New(co)
	require.NoError(t, err)
	t.Cleanup(func() { _ = chain.Close() })
	if o.chainID == 0 {
		o.chainID = chain.ChainID.Int64()
	}
	if o.appOwner != (common.Address{}) {
		addr, err := chain.Deploy(context.Background(), chain.OwnerECDSA(), contracts.App, o.appOwner, true, [32]byte{}, co.InitialComposeHash)
		require.NoError(t, err)
		require.NoError(t, chain.RegisterApp(context.Background(), chain.KMSContract, addr))
		require.NoError(t, err)
		o.appID = strings.ToLower(addr.Hex()[2:])
	}
	if o.appID == "" {
		o.appID = chain.AppID()
	}
	if o.kmsKey == nil {
		o.kmsKey = chain.KMSRootKey
	}
	kmsContract := chain.KMSContract
	if o.lookalike != nil {
		root, err := crypto.ToECDSA(o.lookalike)
		require.NoError(t, err)
		kmsContract, err = chain.DeployKMS(context.Background(), crypto.CompressPubkey(&root.PublicKey))
		require.NoError(t, err)
		require.NoError(t, chain.RegisterApp(context.Background(), kmsContract, common.HexToAddress(o.appID)))
		o.kmsKey = o.lookalike
	}
	opts := []phalatest.Option{phalatest.WithoutDefaultCVMs(), phalatest.WithUpdateDelay(20 * time.Millisecond),
		phalatest.WithKMSKey(o.kmsKey),
		phalatest.WithCVM(phalatest.CVMSeed{Name: cvmName, ChainID: o.chainID, AppID: o.appID,
			KMSContractAddress: kmsContract.Hex(), AllowedEnvs: []string{"FOO"}})}
	if !o.noChecker {
		opts = append(opts, phalatest.WithChainChecker(onchain.NewChecker(chain.Client())))
	}
	srv := phalatest.NewTestServer(t, opts...)
	seed, ok := srv.CVM(cvmName)
	require.True(t, ok)
	owner, err := onchain.PrivateKeySigner(chain.OwnerKey)
	require.NoError(t, err)
	return &env{chain: chain, srv: srv, client: srv.Client(phala.WithoutRetries()), cvm: seed, owner: owner}
}

// The helpers shared with phalatest's tests.
var ctxT, quickWait = testkit.Context, testkit.QuickWait

// fastTx polls receipts without delay: the simulated chain mines on send.
func fastTx() *onchain.TxOptions { return &onchain.TxOptions{PollInterval: time.Millisecond} }

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []onchain.Event
}

func (r *recorder) add(e onchain.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) steps() []onchain.Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]onchain.Step, len(r.events))
	for i, e := range r.events {
		out[i] = e.Step
	}
	return out
}

func (e *env) updater(s onchain.Signer, rec *recorder) *onchain.Updater {
	u := &onchain.Updater{Client: e.client, Backend: e.chain.Client(), Signer: s, Tx: fastTx(), Wait: quickWait(), AppID: e.cvm.AppID}
	if rec != nil {
		u.OnProgress = rec.add
	}
	return u
}

func wei(eth int64) *big.Int { return new(big.Int).Mul(big.NewInt(eth), chaintest.Ether) }

// anchor is a KMSAnchor pinned to the chain's real KMS contract.
func (e *env) anchor() *onchain.KMSAnchor {
	return onchain.NewKMSAnchor(e.chain.Client(), onchain.WithKMSContract(e.chain.KMSContract))
}

// seedComposeHash is the hash of the app-compose the fake gives the test
// CVM (it depends on the seed's name, compose and flags, not on its app).
func seedComposeHash(t *testing.T) [32]byte {
	t.Helper()
	srv := phalatest.NewServer(phalatest.WithoutDefaultCVMs(), phalatest.WithCVM(phalatest.CVMSeed{Name: cvmName, ChainID: 1, AllowedEnvs: []string{"FOO"}}))
	defer srv.Close()
	_, h, ok := srv.AppCompose(cvmName)
	require.True(t, ok)
	return common.HexToHash(h)
}
