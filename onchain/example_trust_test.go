package onchain_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// exampleSetup is a simulated chain and a fake cloud whose on-chain CVM
// "my-app" runs an app-compose approved on the chain's app contract.
func exampleSetup(ctx context.Context) (*chaintest.Chain, *phalatest.Server) {
	chain, err := chaintest.New(&chaintest.Options{AllowAnyDevice: true})
	if err != nil {
		panic(err)
	}
	srv := phalatest.NewServer(phalatest.WithoutDefaultCVMs(), phalatest.WithUpdateDelay(0), phalatest.WithKMSKey(chain.KMSRootKey),
		phalatest.WithChainChecker(onchain.NewChecker(chain.Client())),
		phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app", ChainID: chain.ChainID.Int64(), AppID: chain.AppID(),
			KMSContractAddress: chain.KMSContract.Hex(), AllowedEnvs: []string{"FOO"}}))
	if _, current, _ := srv.AppCompose("my-app"); chain.AllowComposeHash(ctx, current) != nil {
		panic("approving the current app-compose")
	}
	return chain, srv
}

// The KMS contract that vouches for env keys is the one you pin per chain,
// never the one a CVM detail names; a chain you pinned nothing for is
// refused.
func ExampleNewKMSAnchor() {
	ctx := context.Background()
	chain, srv := exampleSetup(ctx)
	defer chain.Close()
	defer srv.Close()
	client := srv.Client()

	anchor := onchain.NewKMSAnchor(chain.Client(), onchain.WithKMSContracts(map[int64]common.Address{
		chain.ChainID.Int64(): chain.KMSContract, // for Base: the address you confirmed (README)
	}))
	envs := []phala.EnvVar{{Key: "FOO", Value: "bar"}}
	res, err := client.EncryptAndUpdateEnvs(ctx, "app_"+chain.AppID(), envs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: anchor}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.EnvKey.SignerVerified)

	unpinned := onchain.NewKMSAnchor(chain.Client())
	_, err = client.EncryptAndUpdateEnvs(ctx, "app_"+chain.AppID(), envs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: unpinned}})
	fmt.Println(errors.Is(err, onchain.ErrKMSNotPinned))
	// Output:
	// in_progress true
	// true
}

// The multisig path: check the prepare-only answer before the signers are
// asked, then give them the calldata of addComposeHash for the checked
// hash.
func ExampleVerifyPrepared() {
	ctx := context.Background()
	chain, srv := exampleSetup(ctx)
	defer chain.Close()
	defer srv.Close()
	client := srv.Client()

	req := &phala.PatchCVMRequest{DockerComposeFile: phala.String("services:\n  web:\n    image: nginx:1.28\n"), PrepareOnly: true}
	prepared, err := client.PatchCVM(ctx, "my-app", req)
	if err != nil {
		panic(err)
	}
	check, err := onchain.VerifyPrepared(ctx, client, chain.Client(), "my-app", chain.AppID(), req, prepared)
	if err != nil {
		panic(err) // do not ask the signers
	}
	app, err := onchain.NewApp(chain.Client(), chain.AppID())
	if err != nil {
		panic(err)
	}
	tx, err := app.AddComposeHash(ctx, onchain.CalldataOnly(chain.Owner), check.Hash, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(check.Changed, check.Hash == prepared.ComposeHash)
	fmt.Printf("propose to the app contract: %t, selector 0x%x\n", tx.Call.To == chain.AppContract, tx.Call.Data[:4])
	// Output:
	// [docker_compose_file] true
	// propose to the app contract: true, selector 0xdfc77223
}
