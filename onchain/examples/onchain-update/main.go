// Command onchain-update runs the whole on-chain KMS update offline: an
// in-memory Phala Cloud (phalatest) whose on-chain CVM uses contracts
// deployed on an in-process EVM (chaintest), and the onchain.Updater
// doing update -> 465 -> checked -> allowed? -> addComposeHash -> receipt
// -> safe block (Updater.Finality) -> phase 2 -> live, printing each step. Before signing, the Updater
// checks that the 465 names the pinned app and that its compose hash is the
// SDK's own hash of the current app-compose with the new compose file.
// Then the env variables are replaced, with the env key checked against
// the root signer of the KMS contract pinned for the chain (never the one
// the CVM detail names).
//
//	cd onchain && go run ./examples/onchain-update
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	chain, err := chaintest.New(&chaintest.Options{AllowAnyDevice: true})
	if err != nil {
		return err
	}
	defer chain.Close()
	fmt.Printf("chain %s: KMS contract %s, app contract %s, owner %s\n", chain.ChainID, chain.KMSContract.Hex(), chain.AppContract.Hex(), chain.Owner.Hex())

	srv := phalatest.NewServer(phalatest.WithoutDefaultCVMs(), phalatest.WithUpdateDelay(300*time.Millisecond),
		phalatest.WithKMSKey(chain.KMSRootKey), phalatest.WithChainChecker(onchain.NewChecker(chain.Client())),
		phalatest.WithCVM(phalatest.CVMSeed{Name: "my-onchain-app", ChainID: chain.ChainID.Int64(), AppID: chain.AppID(),
			KMSContractAddress: chain.KMSContract.Hex(), AllowedEnvs: []string{"FOO"}}))
	defer srv.Close()
	client := srv.Client()
	fmt.Println("fake Phala Cloud at", srv.URL())
	// The app-compose the CVM runs now was approved on chain when it was
	// deployed (deployAndRegisterApp does it for a real CVM).
	_, current, _ := srv.AppCompose("my-onchain-app")
	if err := chain.AllowComposeHash(ctx, current); err != nil {
		return err
	}

	// In real use: ethclient.Dial(rpcURL) and PrivateKeySigner(os.Getenv("PRIVATE_KEY")).
	signer, err := onchain.PrivateKeySigner(chain.OwnerKey)
	if err != nil {
		return err
	}
	// Every line says how long the update has run: on a real chain and a
	// real restart the steps take seconds to minutes.
	var began time.Time
	stamp := func() string { return "[+" + elapsed(began) + "]" }
	lastStatus := ""
	// AppID pins the app whose compose hashes the owner approves (in real
	// use, the app id you deployed). Before signing, Run checks that the
	// 465 names this app and that its compose hash is the SDK's own hash of
	// the current app-compose with exactly this change applied.
	u := &onchain.Updater{
		Client: client, Backend: chain.Client(), Signer: signer, AppID: chain.AppID(),
		Tx: &onchain.TxOptions{PollInterval: 10 * time.Millisecond},
		Wait: &phala.WaitOptions{PollInterval: 50 * time.Millisecond, OnEvent: func(st phala.CVMState) {
			if st.Status != lastStatus {
				fmt.Printf("  %s status %s\n", stamp(), st.Status)
				lastStatus = st.Status
			}
		}},
		OnProgress: func(e onchain.Event) {
			switch e.Step {
			case onchain.StepHashRequired:
				fmt.Printf("  %s 465: register compose hash %s\n", stamp(), e.ComposeHash)
			case onchain.StepAllowed:
				fmt.Printf("  %s already allowed on chain (transaction %s)\n", stamp(), e.TxHash.Hex())
			case onchain.StepSubmitted:
				fmt.Printf("  %s submitted addComposeHash: %s\n", stamp(), e.TxHash.Hex())
			case onchain.StepConfirmed:
				fmt.Printf("  %s confirmed in block %s (gas %d)\n", stamp(), e.Receipt.BlockNumber, e.Receipt.GasUsed)
			case onchain.StepAwaitingFinality:
				eta := "unknown for this chain"
				if e.ExpectedWait > 0 {
					eta = "about " + e.ExpectedWait.Round(time.Minute).String() + " (p90)"
				}
				fmt.Printf("  %s waiting for the %q block to include it: %s\n", stamp(), e.Finality, eta)
			case onchain.StepFinal:
				fmt.Printf("  %s %s in block %s\n", stamp(), e.Finality, e.Receipt.BlockNumber)
			case onchain.StepCommitted:
				fmt.Printf("  %s phase 2 accepted, correlation id %s\n", stamp(), e.CorrelationID)
			case onchain.StepLive:
				fmt.Printf("  %s live: %s\n", stamp(), e.State.Status)
			}
		},
	}

	fmt.Println("1. new compose file")
	compose := "services:\n  web:\n    image: nginx:1.28\n"
	began, lastStatus = time.Now(), ""
	out, err := u.Run(ctx, "my-onchain-app", onchain.ComposeChange(client, "my-onchain-app", compose))
	if err != nil {
		return err
	}
	info, err := client.GetCVMInfo(ctx, "my-onchain-app")
	if err != nil {
		return err
	}
	fmt.Printf("   checked before signing: current %s + new compose file = %s (%s)\n", out.Check.CurrentHash, out.Check.Hash, out.Check.Changed)
	fmt.Printf("   the CVM runs compose hash %s (registered %s)\n", info.ComposeHash, out.TxHash.Hex())

	fmt.Println("2. new env variables, key checked against the KMS contract")
	// The KMS contract is pinned by the caller, never taken from the CVM
	// detail (in real use: the address Phala publishes for the chain).
	anchor := onchain.NewKMSAnchor(chain.Client(), onchain.WithKMSContract(chain.KMSContract))
	envs := []phala.EnvVar{{Key: "FOO", Value: "1"}, {Key: "API_TOKEN", Value: "example-token"}}
	began, lastStatus = time.Now(), ""
	if _, err := u.Run(ctx, "my-onchain-app", onchain.EnvsChange(client, "my-onchain-app", envs, anchor)); err != nil {
		return err
	}
	fmt.Printf("   trusted signer from %s\n", anchor)
	fmt.Printf("   env keys inside the VM: %d\n", len(srv.Envs("my-onchain-app")))
	return nil
}

// elapsed is the time since start, in milliseconds under a second and
// tenths of a second above.
func elapsed(start time.Time) string {
	d := time.Since(start)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
