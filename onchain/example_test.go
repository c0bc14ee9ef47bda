package onchain_test

import (
	"context"
	"fmt"
	"time"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// The whole on-chain update against an in-process chain and fake cloud.
// With a real chain, Backend is ethclient.Dial(rpcURL) and the Signer
// PrivateKeySigner(os.Getenv("PRIVATE_KEY")).
func ExampleUpdater() {
	ctx := context.Background()
	chain, err := chaintest.New(&chaintest.Options{AllowAnyDevice: true})
	if err != nil {
		panic(err)
	}
	defer chain.Close()
	srv := phalatest.NewServer(phalatest.WithoutDefaultCVMs(), phalatest.WithKMSKey(chain.KMSRootKey),
		phalatest.WithChainChecker(onchain.NewChecker(chain.Client())),
		phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app", ChainID: chain.ChainID.Int64(), AppID: chain.AppID(),
			KMSContractAddress: chain.KMSContract.Hex()}))
	defer srv.Close()
	client := srv.Client()
	// The app-compose the CVM runs was approved when it was deployed.
	if _, current, _ := srv.AppCompose("my-app"); chain.AllowComposeHash(ctx, current) != nil {
		panic("approving the current app-compose")
	}

	signer, err := onchain.PrivateKeySigner(chain.OwnerKey)
	if err != nil {
		panic(err)
	}
	// AppID pins the app whose compose hash the owner approves (in real
	// use, the app id you deployed): the 465's app id must be it, and its
	// hash must be the SDK's own hash of the current app-compose with the
	// new compose file, or nothing is signed.
	u := &onchain.Updater{Client: client, Backend: chain.Client(), Signer: signer, AppID: chain.AppID(),
		Tx:         &onchain.TxOptions{PollInterval: 10 * time.Millisecond},
		Wait:       &phala.WaitOptions{PollInterval: 10 * time.Millisecond},
		OnProgress: func(e onchain.Event) { fmt.Println(e.Step) }}
	out, err := u.Run(ctx, "my-app", onchain.ComposeChange(client, "my-app", "services:\n  web:\n    image: nginx:1.28\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println("registered on chain:", out.Registration.Receipt.Status == 1)
	// Output:
	// hash_required
	// submitted
	// confirmed
	// awaiting_finality
	// final
	// committed
	// live
	// registered on chain: true
}

// WaitFinality is the wait Updater runs between the registration and
// phase 2 (Updater.Finality: "safe" by default). The simulated chain
// finalizes by 32-block epochs, so blocks are mined meanwhile.
func ExampleWaitFinality() {
	ctx := context.Background()
	chain, err := chaintest.New(&chaintest.Options{AllowAnyDevice: true})
	if err != nil {
		panic(err)
	}
	defer chain.Close()
	signer, err := onchain.PrivateKeySigner(chain.OwnerKey)
	if err != nil {
		panic(err)
	}
	app, err := onchain.NewApp(chain.Client(), chain.AppID())
	if err != nil {
		panic(err)
	}
	tx, err := app.AddComposeHash(ctx, signer, "8f1c0f5d3d2b7b8e1f8d4c1e6b2a9f0e3c5d7a9b1c3e5f7a9b0c2d4e6f8a0b1c",
		&onchain.TxOptions{PollInterval: time.Millisecond})
	if err != nil {
		panic(err)
	}
	stop := chain.AutoCommit(time.Millisecond)
	defer stop()
	rcpt, err := onchain.WaitFinality(ctx, chain.Client(), tx.Hash, onchain.FinalityFinalized,
		&onchain.FinalityOptions{PollInterval: time.Millisecond,
			OnWaiting: func(s onchain.Finality, _ time.Duration) { fmt.Println("waiting for", s) }})
	if err != nil {
		panic(err)
	}
	fmt.Println("final:", rcpt.Status == 1)
	fmt.Println("Base p90:", onchain.ExpectedFinality(8453, onchain.FinalitySafe), onchain.ExpectedFinality(8453, onchain.FinalityFinalized))
	// Output:
	// waiting for finalized
	// final: true
	// Base p90: 1m13s 20m35s
}
