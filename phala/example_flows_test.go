package phala_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// EncryptAndUpdateEnvs fetches and checks the CVM's encryption key, encrypts the
// variables on the client, derives env_keys from them and sends the
// update: one call. The fake decrypts them as the VM would.
func ExampleClient_EncryptAndUpdateEnvs() {
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "env-app", AllowedEnvs: []string{"DATABASE_URL", "SECRET_KEY"}}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	envs, err := phala.ParseEnvFile(strings.NewReader("DATABASE_URL=postgres://db/app\nexport SECRET_KEY='s3cr3t'\n"))
	if err != nil {
		log.Fatal(err)
	}
	result, err := client.EncryptAndUpdateEnvs(ctx, "env-app", envs, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(result.Status)
	fmt.Println(srv.Envs("env-app")["SECRET_KEY"])
	// Output:
	// in_progress
	// s3cr3t
}

// On an on-chain KMS the same call first returns the compose hash to
// register; the second call carries the hash and the transaction.
func ExampleClient_EncryptAndUpdateEnvs_onChain() {
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(0))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	cvm := phalatest.OnChainCVMName
	envs := []phala.EnvVar{{Key: "API_TOKEN", Value: "t0k3n"}}

	// The fake KMS's signer, pinned: the KMS key's signature must recover
	// it. The CVM is named by its name, so the app whose key may encrypt
	// is pinned too (naming the CVM "app_" + its app id does the same).
	seed, _ := srv.CVM(cvm)
	key := phala.EnvKeyOptions{ExpectedSigner: srv.KMSSigner(), AppID: seed.AppID}
	first, err := client.EncryptAndUpdateEnvs(ctx, cvm, envs, &phala.UpdateEnvsOptions{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.RequiresOnChainHash)

	tx := srv.RegisterComposeHash(cvm, first.ComposeHash) // addComposeHash on the app contract
	second, err := client.EncryptAndUpdateEnvs(ctx, cvm, envs, &phala.UpdateEnvsOptions{ComposeHash: first.ComposeHash, TransactionHash: tx, Key: key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(second.Status, srv.Envs(cvm)["API_TOKEN"])
	// Output:
	// true
	// in_progress t0k3n
}

// WaitForUpdate blocks until the update a result names has finished and
// the CVM runs again.
func ExampleClient_WaitForUpdate() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	result, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  app:\n    image: nginx:1.27\n", nil)
	if err != nil {
		log.Fatal(err)
	}
	state, err := client.WaitForUpdate(ctx, phalatest.CentralCVMName, result, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(state.Status)
	// Output: running
}

// GetCVMInfo and GetCVMState read a CVM by any of its ids.
func ExampleClient_GetCVMInfo() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	info, err := client.GetCVMInfo(ctx, phalatest.OnChainCVMName)
	if err != nil {
		log.Fatal(err)
	}
	state, err := client.GetCVMState(ctx, "app_"+info.AppID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.KMSInfo.OnChain(), *info.KMSInfo.ChainID, state.Status)
	// Output: true 8453 running
}

// Every answer other than a success is one *APIError; the sentinels
// compare its status.
func ExampleAPIError() {
	srv := phalatest.NewServer()
	defer srv.Close()
	_, err := srv.Client().GetCVMInfo(context.Background(), "no-such-cvm")

	var apiErr *phala.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, errors.Is(err, phala.ErrNotFound))
	}
	// Output: 404 true
}

// Bad input never reaches the server.
func ExampleInvalidArgumentError() {
	client, err := phala.NewClient(phala.WithAPIKey("phak_example"))
	if err != nil {
		log.Fatal(err)
	}
	err = client.UpdateOSImage(context.Background(), "my-app", &phala.UpdateOSImageRequest{})
	var bad *phala.InvalidArgumentError
	fmt.Println(errors.Is(err, phala.ErrInvalidArgument), errors.As(err, &bad) && bad.Field == "req.OSImageName")
	// Output: true true
}

// GetCVMComposeFile returns the current app-compose; the Phala Cloud dump
// of it hashes to the compose hash the CVM reports.
func ExampleClient_GetCVMComposeFile() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	ac, err := client.GetCVMComposeFile(ctx, phalatest.CentralCVMName)
	if err != nil {
		log.Fatal(err)
	}
	doc, err := json.Marshal(ac)
	if err != nil {
		log.Fatal(err)
	}
	hash, err := phala.DumpAppComposeHash(doc)
	if err != nil {
		log.Fatal(err)
	}
	info, err := client.GetCVMInfo(ctx, phalatest.CentralCVMName)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ac.Name, hash == info.ComposeHash)
	// Output: central-app true
}
