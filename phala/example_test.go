package phala_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// The examples run against phalatest, the SDK's in-memory Phala Cloud: each
// starts a server with one CVM named "my-app" (on an on-chain KMS where the
// example shows the two-phase flow) and a client of it. In production,
// phala.NewClient() reads PHALA_CLOUD_API_KEY and talks to
// phala.DefaultBaseURL. Several examples hold a snippet of the
// documentation page unchanged (TestExamplesHoldDocSnippets compares them
// with testdata/doc_snippets.txt).

func ExampleNewClient() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()

	client, err := phala.NewClient(
		phala.WithAPIKey(srv.APIKey()),
		phala.WithBaseURL(srv.URL()), // ends in /api/v1
		phala.WithUserAgent("my-tool/1.0"),
	)
	if err != nil {
		log.Fatal(err)
	}
	info, err := client.GetCVMInfo(context.Background(), "my-app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Name, info.Status)

	_, err = phala.NewClient(phala.WithAPIVersion("latest"))
	fmt.Println(errors.Is(err, phala.ErrInvalidArgument))
	// Output:
	// my-app running
	// true
}

func ExampleClient_UpdateDockerCompose() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	composeYAML := "services:\n  app:\n    image: nginx:1.27\n"

	result, err := client.UpdateDockerCompose(ctx, "my-app", composeYAML, nil)
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println(result.Status, result.CorrelationID != "")
	// Output: in_progress true
}

func ExampleClient_UpdatePreLaunchScript() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	script := "#!/bin/sh\necho 'Pre-launch setup complete'"
	result, err := client.UpdatePreLaunchScript(ctx, "my-app", script, nil)

	fmt.Println(result.Status, err)
	// Output: in_progress <nil>
}

func ExampleClient_UpdateCVMResources() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	err := client.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{
		VCPU:         phala.Int(4),
		Memory:       phala.Int(8192),
		DiskSize:     phala.Int(50),
		AllowRestart: phala.Bool(true),
	})

	fmt.Println("resized:", err == nil)
	// Output: resized: true
}

func ExampleClient_UpdateCVMVisibility() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	visibility, err := client.UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
		PublicSysinfo: phala.Bool(true),
		PublicLogs:    phala.Bool(true),
	})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("sysinfo=%t logs=%t tcbinfo=%t\n", visibility.PublicSysinfo, visibility.PublicLogs, visibility.PublicTcbinfo)
	// Output: sysinfo=true logs=true tcbinfo=false
}

// UpdateCVMEnvs is the raw call: the caller encrypts the variables to the
// CVM's key and names their keys. EncryptAndUpdateEnvs does all of it in one call.
func ExampleClient_UpdateCVMEnvs() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app",
		AllowedEnvs: []string{"DATABASE_URL", "SECRET_KEY"}}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	key, err := client.GetEnvEncryptPublicKey(ctx, "my-app", nil)
	if err != nil {
		log.Fatal(err)
	}
	encryptedHex, err := phala.EncryptEnvVars([]phala.EnvVar{
		{Key: "DATABASE_URL", Value: "postgres://db/app"},
		{Key: "SECRET_KEY", Value: "s3cr3t"},
	}, key.PublicKey)
	if err != nil {
		log.Fatal(err)
	}

	result, err := client.UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{
		EncryptedEnv: encryptedHex,
		EnvKeys:      []string{"DATABASE_URL", "SECRET_KEY"},
	})

	fmt.Println(result.Status, err)
	fmt.Println(srv.Envs("my-app")["DATABASE_URL"]) // what the VM sees
	// Output:
	// in_progress <nil>
	// postgres://db/app
}

func ExampleClient_UpdateOSImage() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	err := client.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{
		OSImageName: "dstack-v0.4.0",
	})

	// The API (and the fake) offers a fixed set of images: an unknown name
	// is an *APIError with the code CodeImageNotFound.
	var apiErr *phala.APIError
	if errors.As(err, &apiErr) && apiErr.Code == phala.CodeImageNotFound {
		fmt.Println("unknown image:", apiErr.Message)
		err = client.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})
	}
	fmt.Println("accepted:", err == nil)
	// Output:
	// unknown image: OS image not found: dstack-v0.4.0
	// accepted: true
}

// On an on-chain KMS a compose change first answers with the hash to
// register on the app contract.
func ExampleClient_PatchCVM() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app", ChainID: 8453}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	compose := "services:\n  app:\n    image: nginx:latest\n"
	resp, err := client.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{
		DockerComposeFile: &compose,
		PublicSysinfo:     phala.Bool(true),
		VCPU:              phala.Int(4),
	})
	if err != nil {
		log.Fatal(err)
	}

	if resp.RequiresOnChainHash {
		// Handle on-chain confirmation — see ConfirmCVMPatch
		fmt.Printf("On-chain confirmation needed. Compose hash: %s\n", resp.ComposeHash)
	}

	// Output: On-chain confirmation needed. Compose hash: e753708f09ff9ce74d7e644d3554cc2067712d96c06a0410d8277f904e9c1284
}

// Phase 2 of PatchCVM: once the hash is registered, ConfirmCVMPatch sends
// it with the registration transaction's hash.
func ExampleClient_ConfirmCVMPatch() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app", ChainID: 8453}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	compose := "services:\n  app:\n    image: nginx:1.27\n"
	resp, err := client.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{DockerComposeFile: &compose})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("requires on-chain hash:", resp.RequiresOnChainHash)

	// The page's snippet: its transaction hash is a placeholder, which the
	// client refuses before sending anything.
	{
		_, err := client.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{
			ComposeHash:     resp.ComposeHash,
			TransactionHash: "0xabc123...",
		})
		var invalid *phala.InvalidArgumentError
		fmt.Println("placeholder refused:", errors.Is(err, phala.ErrInvalidArgument), errors.As(err, &invalid) && invalid.Field == "req.TransactionHash")
	}

	// With the hash of the registration transaction (0x + 64 hex); the
	// fake registers the hash as addComposeHash on the app contract would.
	tx := srv.RegisterComposeHash("my-app", resp.ComposeHash)
	action, err := client.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{
		ComposeHash:     resp.ComposeHash,
		TransactionHash: tx,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("confirmed:", action.Status, action.CorrelationID != "")
	// Output:
	// requires on-chain hash: true
	// placeholder refused: true true
	// confirmed: in_progress true
}

func ExampleClient_ProvisionCVMComposeFileUpdate() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	newComposeYAML := "services:\n  app:\n    image: nginx:1.27\n"

	// Step 1: Provision the update
	provision, err := client.ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{
		DockerComposeFile: newComposeYAML,
	})
	if err != nil {
		log.Fatal(err)
	}

	// Step 2: Commit the update
	err = client.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{
		ComposeHash: provision.ComposeHash,
	})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("committed", len(provision.ComposeHash), "hex characters")
	// Output: committed 64 hex characters
}

func ExampleInt() {
	req := phala.UpdateResourcesRequest{VCPU: phala.Int(2)}
	fmt.Println(*req.VCPU, req.Memory == nil)
	// Output: 2 true
}

func ExampleBool() {
	req := phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(false)}
	fmt.Println(*req.PublicLogs, req.PublicSysinfo == nil)
	// Output: false true
}

func ExampleString() {
	req := phala.PatchCVMRequest{InstanceType: phala.String("tdx.medium")}
	fmt.Println(*req.InstanceType)
	// Output: tdx.medium
}

func ExamplePtr() {
	timeout := phala.Ptr(120)
	image := phala.Ptr("dstack-0.5.4")
	req := phala.PatchCVMRequest{ShutdownTimeout: timeout, OSImageName: image}
	fmt.Println(*req.ShutdownTimeout, *req.OSImageName)
	// Output: 120 dstack-0.5.4
}
