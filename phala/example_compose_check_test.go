package phala_test

import (
	"context"
	"fmt"
	"log"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Before the signers of a multisig approve the hash a prepare-only update
// answers, recompute it: the CVM's current app-compose with exactly the
// change you prepared, hashed by the SDK. Only then propose
// addComposeHash(check.Hash) and, once executed, call CommitCVMUpdate.
func ExampleClient_VerifyPreparedUpdate() {
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(0))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	seed, _ := srv.CVM(phalatest.OnChainCVMName)
	appID := seed.AppID // in real use: the app id you deployed

	req := &phala.PatchCVMRequest{DockerComposeFile: phala.String("services:\n  web:\n    image: nginx:1.28\n"), PrepareOnly: true}
	prepared, err := client.PatchCVM(ctx, phalatest.OnChainCVMName, req)
	if err != nil {
		log.Fatal(err)
	}
	check, err := client.VerifyPreparedUpdate(ctx, phalatest.OnChainCVMName, appID, req, prepared)
	if err != nil {
		log.Fatal(err) // a *ComposeHashMismatchError or *AppMismatchError: do not sign
	}
	fmt.Println(check.Hash == prepared.ComposeHash, check.Changed)
	// Output:
	// true [docker_compose_file]
}
