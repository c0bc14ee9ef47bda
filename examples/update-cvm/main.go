// Command update-cvm walks through every way the Go SDK changes an
// existing CVM: compose file, pre-launch script, encrypted environment
// variables, resources, visibility, OS image, a unified PatchCVM on an
// on-chain KMS (with its two phases), and a provision/commit compose
// update.
//
// After each accepted update it waits for exactly that update, following
// the CVM's state event stream (WaitForUpdate; the calls that return only
// an error hand over their result through phala.WithUpdateResult), and
// prints every status change with the time since the wait began (and,
// against the cloud, a line every 15 s while the status stands still).
//
// With no configuration it runs against an in-memory Phala Cloud
// (package phala/phalatest), so `go run ./examples/update-cvm` works on a
// fresh clone:
//
//	go run ./examples/update-cvm
//
// With PHALA_CLOUD_API_KEY set it runs against Phala Cloud
// (PHALA_CLOUD_API_PREFIX overrides the API root). It then CHANGES AND
// RESTARTS the CVM named by PHALA_CVM_ID several times and replaces its
// environment variables with demo values: use a throw-away CVM. The
// unified PATCH step needs a CVM on an on-chain KMS (PHALA_ONCHAIN_CVM_ID);
// registering its compose hash is your transaction: the example prints
// what to register and skips the step unless PHALA_TX_HASH holds the hash
// of that transaction (run it once to learn the hash, register, run again).
//
// Env values are encrypted only to a key the SDK has checked. The example
// pins the on-chain KMS's signer client-wide (phala.WithKeyAnchor): the
// fake's own signer, or PHALA_KMS_SIGNER (the KMS contract's k256 public
// key, 0x + 66 hex) against Phala Cloud; without it the on-chain key check
// shows the refusal. The central-KMS env step opts in to the API's unsigned
// key for that one call (phala.InsecureTrustAPISigner), which is all a
// central KMS offers, and prints the anchor used.
//
// The exit status is 0 when every step that ran succeeded, 1 otherwise.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "update-cvm:", err)
		os.Exit(1)
	}
}

// fakeUpdateDelay is how long the fake keeps a CVM "updating" after an
// accepted update: long enough to show progress, short enough to be quick.
const fakeUpdateDelay = 30 * time.Millisecond

// env is where the example runs: the real cloud or the fake.
type env struct {
	client *phala.Client
	cvmID  string // central-KMS (or any) CVM for the single-aspect updates
	// onchainID names the on-chain-KMS CVM for the two-phase PatchCVM by
	// its app id ("app_" + 40 hex): the env key is only trusted for an app
	// the caller named. "" skips it.
	onchainID string
	// register registers a compose hash on-chain and returns the
	// transaction hash; ok is false when the step must be skipped.
	register func(ctx context.Context, out io.Writer, cvmID, appID, hash string) (tx string, ok bool)
	// poll is the polling interval while waiting for an update.
	poll time.Duration
	// beat is how often a wait says it is still waiting (0: never).
	beat time.Duration
	// fake is set when running against phalatest.
	fake *phalatest.Server
	// anchor is the client-wide KMS signer anchor (nil: none pinned).
	anchor phala.KeyAnchor
}

// run picks the real cloud when PHALA_CLOUD_API_KEY is set, the fake
// otherwise, and runs every step.
func run(ctx context.Context, out io.Writer) error {
	if strings.TrimSpace(os.Getenv(phala.EnvAPIKey)) != "" {
		e, err := realEnv()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Running against %s (CVM %s)\n", e.client.BaseURL(), e.cvmID)
		return runWith(ctx, out, e)
	}
	srv := phalatest.NewServer(phalatest.WithUpdateDelay(fakeUpdateDelay))
	defer srv.Close()
	fmt.Fprintf(out, "PHALA_CLOUD_API_KEY is not set: running against an in-memory Phala Cloud at %s\n", srv.URL())
	return runWith(ctx, out, fakeEnv(srv))
}

func realEnv() (*env, error) {
	id := strings.TrimSpace(os.Getenv("PHALA_CVM_ID"))
	if id == "" {
		return nil, errors.New("PHALA_CVM_ID must name the CVM to update (it will be changed and restarted)")
	}
	var opts []phala.Option // key and base URL from the environment
	var anchor phala.KeyAnchor
	if s := strings.TrimSpace(os.Getenv("PHALA_KMS_SIGNER")); s != "" {
		a, err := phala.PinnedSigner(s)
		if err != nil {
			return nil, fmt.Errorf("PHALA_KMS_SIGNER: %w", err)
		}
		anchor = a
		opts = append(opts, phala.WithKeyAnchor(a))
	}
	c, err := phala.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &env{client: c, cvmID: id, onchainID: strings.TrimSpace(os.Getenv("PHALA_ONCHAIN_CVM_ID")),
		register: registerByHand, poll: 5 * time.Second, beat: 15 * time.Second, anchor: anchor}, nil
}

// registerByHand uses the transaction the user sent, or explains how.
func registerByHand(_ context.Context, out io.Writer, _, appID, hash string) (string, bool) {
	if tx := strings.TrimSpace(os.Getenv("PHALA_TX_HASH")); tx != "" {
		return tx, true
	}
	fmt.Fprintf(out, "    to continue: call addComposeHash(0x%s) on the app contract 0x%s,\n", hash, appID)
	fmt.Fprintln(out, "    then run again with PHALA_TX_HASH set to the transaction hash. Skipping this step.")
	return "", false
}

func fakeEnv(srv *phalatest.Server) *env {
	central, _ := srv.CVM(phalatest.CentralCVMName)
	onchain, _ := srv.CVM(phalatest.OnChainCVMName)
	// The fake publishes its KMS signer; pin it as you would pin the real
	// KMS contract's. A valid key never fails here.
	anchor, err := phala.PinnedSigner(srv.KMSSigner())
	if err != nil {
		panic(err)
	}
	return &env{
		client: srv.Client(phala.WithKeyAnchor(anchor)), anchor: anchor,
		cvmID: central.ID, onchainID: "app_" + onchain.AppID, poll: 20 * time.Millisecond, fake: srv,
		register: func(_ context.Context, out io.Writer, cvmID, _, hash string) (string, bool) {
			tx := srv.RegisterComposeHash(cvmID, hash)
			fmt.Fprintf(out, "    registered on the fake chain: tx %s\n", tx)
			return tx, tx != ""
		},
	}
}

func runWith(ctx context.Context, out io.Writer, e *env) error {
	p := &printer{out: out}
	c := e.client
	// wait blocks until the update that res describes has finished,
	// printing each status change the server reports.
	wait := func(cvmID string, res phala.Waitable) error {
		start := time.Now()
		var last atomic.Pointer[string]
		stop := p.heartbeat(e.beat, func() string {
			seen := "no status yet"
			if l := last.Load(); l != nil {
				seen = *l
			}
			return fmt.Sprintf("still waiting, %s so far (last: %s)", elapsed(start), seen)
		})
		defer stop()
		opts := &phala.WaitOptions{PollInterval: e.poll, OnEvent: func(st phala.CVMState) {
			line := st.Status
			if st.BootProgress != "" {
				line += " (boot: " + st.BootProgress + ")"
			}
			if st.Progress != nil && st.Progress.CorrelationID != "" {
				line += " [update " + st.Progress.CorrelationID + "]"
			}
			if l := last.Load(); l == nil || *l != line {
				p.kv("progress", line+"  +"+elapsed(start))
				last.Store(&line)
			}
		}}
		st, err := c.WaitForUpdate(ctx, cvmID, res, opts)
		if err != nil {
			var boot *phala.BootError
			if errors.As(err, &boot) {
				return fmt.Errorf("the CVM did not come back after %s: %s", elapsed(start), boot.Message)
			}
			return fmt.Errorf("waiting for the update: %w", err)
		}
		p.kv("now", st.Status+" after "+elapsed(start))
		return nil
	}

	p.step("Read the CVM")
	info, err := c.GetCVMInfo(ctx, e.cvmID)
	if err != nil {
		return err
	}
	p.kv("name", info.Name)
	p.kv("status", info.Status)
	p.kv("KMS", kmsText(info))
	p.kv("compose hash", info.ComposeHash)

	p.step("Replace the Docker Compose file")
	res, err := c.UpdateDockerCompose(ctx, e.cvmID, "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"80:80\"\n", nil)
	if err != nil {
		return err
	}
	if res.RequiresOnChainHash {
		return fmt.Errorf("CVM %s is on an on-chain KMS; give a central-KMS CVM in PHALA_CVM_ID", e.cvmID)
	}
	p.kv("status", res.Status)
	p.kv("correlation id", res.CorrelationID)
	if err := wait(e.cvmID, res); err != nil {
		return err
	}

	p.step("Replace the pre-launch script")
	res, err = c.UpdatePreLaunchScript(ctx, e.cvmID, "#!/bin/sh\necho \"pre-launch: $(date)\"\n", nil)
	if err != nil {
		return err
	}
	p.kv("status", res.Status)
	if err := wait(e.cvmID, res); err != nil {
		return err
	}

	p.step("Encrypt and replace the environment variables")
	// The central KMS's key is not signed: the API's word (over TLS) is all
	// there is, so this call opts in to it explicitly; the client-wide
	// anchor would refuse it. On an on-chain KMS, leave Anchor unset and
	// the pinned signer applies (step 10).
	envs := []phala.EnvVar{{Key: "FOO", Value: "bar"}, {Key: "API_TOKEN", Value: "demo-token"}}
	res, err = c.EncryptAndUpdateEnvs(ctx, e.cvmID, envs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: phala.InsecureTrustAPISigner()}})
	if err != nil {
		return err
	}
	if res.RequiresOnChainHash {
		return fmt.Errorf("changing the allowed env keys of %s needs an on-chain registration; use a central-KMS CVM", e.cvmID)
	}
	p.kv("key", res.EnvKey.PublicKey)
	p.kv("key anchor", res.EnvKey.Anchor)
	p.kv("status", res.Status)
	p.kv("keys changed", res.AllowedEnvsChanged)
	if err := wait(e.cvmID, res); err != nil {
		return err
	}
	if e.fake != nil {
		p.kv("VM sees keys", strings.Join(sortedKeys(e.fake.Envs(e.cvmID)), ", "))
	}

	p.step("Resize: 4 vCPUs, 8 GB memory")
	var resized phala.UpdateResult // filled by the call: UpdateCVMResources returns only an error
	if err := c.UpdateCVMResources(phala.WithUpdateResult(ctx, &resized), e.cvmID, &phala.UpdateResourcesRequest{VCPU: phala.Ptr(4), Memory: phala.Ptr(8192), AllowRestart: phala.Ptr(true)}); err != nil {
		return err
	}
	p.kv("status", "accepted")
	if err := wait(e.cvmID, &resized); err != nil {
		return err
	}

	p.step("Make TCB information public")
	vis, err := c.UpdateCVMVisibility(ctx, e.cvmID, &phala.UpdateVisibilityRequest{PublicTcbinfo: phala.Ptr(true)})
	if err != nil {
		return err
	}
	p.kv("public sysinfo", vis.PublicSysinfo)
	p.kv("public logs", vis.PublicLogs)
	p.kv("public tcbinfo", vis.PublicTcbinfo)

	p.step("Move to OS image dstack-0.5.4")
	var moved phala.UpdateResult
	if err := c.UpdateOSImage(phala.WithUpdateResult(ctx, &moved), e.cvmID, &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}); err != nil {
		return err
	}
	p.kv("status", "accepted")
	if err := wait(e.cvmID, &moved); err != nil {
		return err
	}

	p.step("Provision, then commit, a compose file update")
	prov, err := c.ProvisionCVMComposeFileUpdate(ctx, e.cvmID, &phala.ProvisionComposeUpdateRequest{
		DockerComposeFile: "services:\n  web:\n    image: nginx:1.28\n    ports:\n      - \"80:80\"\n"})
	if err != nil {
		return err
	}
	p.kv("compose hash", prov.ComposeHash)
	p.kv("registered", prov.ComposeHashRegistered)
	var committed phala.UpdateResult
	if err := c.CommitCVMComposeFileUpdate(phala.WithUpdateResult(ctx, &committed), e.cvmID, &phala.CommitComposeUpdateRequest{ComposeHash: prov.ComposeHash}); err != nil {
		return err
	}
	p.kv("status", "committed")
	if err := wait(e.cvmID, &committed); err != nil {
		return err
	}

	p.step("PatchCVM on an on-chain KMS: two phases")
	patched, err := patchOnChain(ctx, out, p, e, wait)
	if err != nil {
		return err
	}

	p.step("Check the on-chain KMS's env key against the pinned signer")
	checked, err := checkOnChainKey(ctx, p, e)
	if err != nil {
		return err
	}
	if patched && checked {
		fmt.Fprintln(out, "\nAll steps succeeded.")
	}
	return nil
}

// patchOnChain is step 9: a unified PATCH on the on-chain CVM, through
// both phases when its compose hash must be registered first. done is
// false when the step was skipped.
func patchOnChain(ctx context.Context, out io.Writer, p *printer, e *env, wait func(string, phala.Waitable) error) (bool, error) {
	c := e.client
	if e.onchainID == "" {
		p.kv("skipped", "set PHALA_ONCHAIN_CVM_ID to a CVM on an on-chain KMS")
		return false, nil
	}
	patch, err := c.PatchCVM(ctx, e.onchainID, &phala.PatchCVMRequest{
		DockerComposeFile: phala.Ptr("services:\n  web:\n    image: nginx:1.29\n"), VCPU: phala.Ptr(2)})
	if err != nil {
		return false, err
	}
	if !patch.RequiresOnChainHash {
		p.kv("status", "accepted without on-chain step (the hash was already allowed)")
		return true, nil
	}
	start := time.Now()
	p.kv("phase 1", "the compose hash must be registered on-chain first")
	p.kv("compose hash", patch.ComposeHash)
	p.kv("app contract", "0x"+patch.AppID)
	tx, ok := e.register(ctx, out, e.onchainID, patch.AppID, patch.ComposeHash)
	if !ok {
		return false, nil
	}
	confirmed, err := c.ConfirmCVMPatch(ctx, e.onchainID, &phala.ConfirmCVMPatchRequest{ComposeHash: patch.ComposeHash, TransactionHash: tx})
	if err != nil {
		return false, err
	}
	p.kv("phase 2", "confirmed, "+elapsed(start)+" after phase 1")
	p.kv("correlation id", confirmed.CorrelationID)
	return true, wait(e.onchainID, confirmed)
}

// checkOnChainKey is step 10: the on-chain CVM's env encryption key, with
// the signature's signer compared with the pinned one (the client-wide
// anchor). Without a pinned signer it shows the refusal instead. checked
// is false when nothing was verified.
func checkOnChainKey(ctx context.Context, p *printer, e *env) (bool, error) {
	if e.onchainID == "" {
		p.kv("skipped", "set PHALA_ONCHAIN_CVM_ID to the app id (app_ + 40 hex) of a CVM on an on-chain KMS")
		return false, nil
	}
	key, err := e.client.GetEnvEncryptPublicKey(ctx, e.onchainID, nil)
	if e.anchor == nil && errors.Is(err, phala.ErrKeyVerification) {
		p.kv("refused", "no signer pinned: set PHALA_KMS_SIGNER to the KMS contract's k256 public key (0x + 66 hex)")
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p.kv("key", key.PublicKey)
	p.kv("signed by", key.Signer)
	p.kv("verified", key.SignerVerified)
	p.kv("key anchor", key.Anchor)
	return true, nil
}

func kmsText(info *phala.CVMInfo) string {
	if info.KMSInfo.OnChain() {
		return fmt.Sprintf("on-chain (chain %d)", *info.KMSInfo.ChainID)
	}
	return "central"
}

func sortedKeys(m map[string]string) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.Sort(keys)
	return keys
}
