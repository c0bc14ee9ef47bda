package phala_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/phalacloud/go-sdk/phala"
)

// The examples run against exampleServer, a small in-file fake that answers
// like the Phala Cloud API for a CVM named "my-app" on an on-chain KMS:
// PATCH /cvms/{id} without the phase-2 headers answers 465 with the hash to
// register. Between "doc:begin" and "doc:end" each example holds the
// documentation page's snippet unchanged (TestExamplesHoldDocSnippets
// checks it against testdata/doc_snippets.txt).

const (
	exampleKey     = "phak_example"
	exampleHash    = "8f1c0f5d3d2b7b8e1f8d4c1e6b2a9f0e3c5d7a9b1c3e5f7a9b0c2d4e6f8a0b1c"
	exampleTx      = "0x5e1d3a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f"
	exampleCorrID  = "6f9619ff-8b86-4011-b42d-00c04fc964ff"
	exampleAppID   = "9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796"
	exampleCompose = "services:\n  app:\n    image: nginx:latest\n"
)

// exampleServer starts the fake API; its base URL ends in /api/v1.
func exampleServer() *httptest.Server {
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	accepted := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "in_progress", "message": "CVM update started", "correlation_id": exampleCorrID})
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /cvms/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"id": "cvm_kq3Zp8", "name": r.PathValue("id"), "status": "running",
			"app_id": exampleAppID, "public_sysinfo": false, "public_logs": true, "public_tcbinfo": false})
	})
	api.HandleFunc("GET /cvms/{id}/compose_file", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"name": r.PathValue("id"), "runner": "docker-compose",
			"docker_compose_file": exampleCompose, "manifest_version": 2, "kms_enabled": true})
	})
	for _, p := range []string{"PATCH /cvms/{id}/docker-compose", "PATCH /cvms/{id}/pre-launch-script", "PATCH /cvms/{id}/resources",
		"PATCH /cvms/{id}/envs", "PATCH /cvms/{id}/os-image", "PATCH /cvms/{id}/compose_file"} {
		api.HandleFunc(p, accepted)
	}
	api.HandleFunc("PATCH /cvms/{id}/visibility", func(w http.ResponseWriter, r *http.Request) {
		var flags map[string]bool
		_ = json.NewDecoder(r.Body).Decode(&flags)
		writeJSON(w, http.StatusOK, map[string]any{"id": 4211, "name": r.PathValue("id"), "status": "running",
			"public_sysinfo": flags["public_sysinfo"], "public_logs": flags["public_logs"], "public_tcbinfo": flags["public_tcbinfo"]})
	})
	api.HandleFunc("PATCH /cvms/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Compose-Hash") != "" && r.Header.Get("X-Transaction-Hash") != "" {
			accepted(w, r)
			return
		}
		writeJSON(w, phala.HTTPStatusComposeHashRequired, map[string]any{
			"error_code": "ERR-01-005", "message": "Compose hash must be registered on-chain before this update",
			"details": []map[string]any{{"field": "compose_hash", "value": exampleHash}, {"field": "app_id", "value": exampleAppID}}})
	})
	api.HandleFunc("POST /cvms/{id}/compose_file/provision", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, http.StatusOK, map[string]any{"app_id": exampleAppID, "compose_hash": exampleHash, "compose_hash_registered": false})
	})
	root := http.NewServeMux()
	root.Handle("/api/v1/", http.StripPrefix("/api/v1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != exampleKey {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid API key"})
			return
		}
		api.ServeHTTP(w, r)
	})))
	return httptest.NewServer(root)
}

// exampleClient returns a client of the fake API and a function that stops it.
func exampleClient() (*phala.Client, func()) {
	srv := exampleServer()
	client, err := phala.NewClient(phala.WithAPIKey(exampleKey), phala.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	return client, srv.Close
}

func ExampleNewClient() {
	srv := exampleServer()
	defer srv.Close()

	// In production: phala.NewClient() reads PHALA_CLOUD_API_KEY and talks
	// to phala.DefaultBaseURL.
	client, err := phala.NewClient(
		phala.WithAPIKey(exampleKey),
		phala.WithBaseURL(srv.URL+"/api/v1"),
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
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	composeYAML := exampleCompose

	// doc:begin UpdateDockerCompose
	result, err := client.UpdateDockerCompose(ctx, "my-app", composeYAML, nil)
	if err != nil {
		log.Fatal(err)
	}
	// doc:end

	fmt.Println(result.Status, result.CorrelationID)
	// Output: in_progress 6f9619ff-8b86-4011-b42d-00c04fc964ff
}

func ExampleClient_UpdatePreLaunchScript() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	// doc:begin UpdatePreLaunchScript
	script := "#!/bin/sh\necho 'Pre-launch setup complete'"
	result, err := client.UpdatePreLaunchScript(ctx, "my-app", script, nil)
	// doc:end

	fmt.Println(result.Status, err)
	// Output: in_progress <nil>
}

func ExampleClient_UpdateCVMResources() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	// doc:begin UpdateCVMResources
	err := client.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{
		VCPU:         phala.Int(4),
		Memory:       phala.Int(8192),
		DiskSize:     phala.Int(50),
		AllowRestart: phala.Bool(true),
	})
	// doc:end

	fmt.Println("resized:", err == nil)
	// Output: resized: true
}

func ExampleClient_UpdateCVMVisibility() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	// doc:begin UpdateCVMVisibility
	visibility, err := client.UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{
		PublicSysinfo: phala.Bool(true),
		PublicLogs:    phala.Bool(true),
	})
	if err != nil {
		log.Fatal(err)
	}
	// doc:end

	fmt.Printf("sysinfo=%t logs=%t tcbinfo=%t\n", visibility.PublicSysinfo, visibility.PublicLogs, visibility.PublicTcbinfo)
	// Output: sysinfo=true logs=true tcbinfo=false
}

func ExampleClient_UpdateCVMEnvs() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	// In real use: the hex output of EncryptEnvVars with the CVM's key
	// (at least phala.MinEncryptedEnvBytes bytes: key, IV, ciphertext, tag).
	encryptedHex := "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20" +
		"a1b2c3d4e5f60718293a4b5c" + "deadbeef" + "00112233445566778899aabbccddeeff"

	// doc:begin UpdateCVMEnvs
	result, err := client.UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{
		EncryptedEnv: encryptedHex,
		EnvKeys:      []string{"DATABASE_URL", "SECRET_KEY"},
	})
	// doc:end

	fmt.Println(result.Status, err)
	// Output: in_progress <nil>
}

func ExampleClient_UpdateOSImage() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	// doc:begin UpdateOSImage
	err := client.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{
		OSImageName: "dstack-v0.4.0",
	})
	// doc:end

	fmt.Println("accepted:", err == nil)
	// Output: accepted: true
}

func ExampleClient_PatchCVM() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()

	// doc:begin PatchCVM
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
	// doc:end

	// Output: On-chain confirmation needed. Compose hash: 8f1c0f5d3d2b7b8e1f8d4c1e6b2a9f0e3c5d7a9b1c3e5f7a9b0c2d4e6f8a0b1c
}

func ExampleClient_ConfirmCVMPatch() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	compose := exampleCompose
	resp, err := client.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{DockerComposeFile: &compose})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("requires on-chain hash:", resp.RequiresOnChainHash)

	// The page's snippet: its transaction hash is a placeholder, which the
	// client refuses before sending anything.
	{
		// doc:begin ConfirmCVMPatch
		_, err := client.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{
			ComposeHash:     resp.ComposeHash,
			TransactionHash: "0xabc123...",
		})
		// doc:end
		var invalid *phala.InvalidArgumentError
		fmt.Println("placeholder refused:", errors.Is(err, phala.ErrInvalidArgument), errors.As(err, &invalid) && invalid.Field == "req.TransactionHash")
	}

	// With the hash of the registration transaction (0x + 64 hex):
	action, err := client.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{
		ComposeHash:     resp.ComposeHash,
		TransactionHash: exampleTx,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("confirmed:", action.Status, action.CorrelationID)
	// Output:
	// requires on-chain hash: true
	// placeholder refused: true true
	// confirmed: in_progress 6f9619ff-8b86-4011-b42d-00c04fc964ff
}

func ExampleClient_ProvisionCVMComposeFileUpdate() {
	client, done := exampleClient()
	defer done()
	ctx := context.Background()
	newComposeYAML := "services:\n  app:\n    image: nginx:1.27\n"

	// doc:begin ProvisionCVMComposeFileUpdate
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
	// doc:end

	fmt.Println("committed", provision.ComposeHash)
	// Output: committed 8f1c0f5d3d2b7b8e1f8d4c1e6b2a9f0e3c5d7a9b1c3e5f7a9b0c2d4e6f8a0b1c
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
