package main

// A minimal stand-in for internal/nodejs (branch crypto): once that
// package is in main, replace installNode/runNode with nodejs.Install and
// nodejs.Run, which have the same shape.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodePackageJSON pins the npm packages the interop test runs against.
const nodePackageJSON = `{
  "name": "phala-go-sdk-fake-interop",
  "version": "0.0.0",
  "private": true,
  "dependencies": {
    "@phala/cloud": "0.2.9",
    "@phala/dstack-sdk": "0.5.8"
  }
}
`

// installNode installs the pinned packages into
// <os.UserCacheDir()>/phala-go-sdk/fake-node-<hash> (reused when complete)
// and returns that folder. It skips the test when node or npm is missing.
func installNode(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: skipping the JavaScript interop test", tool)
		}
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no user cache folder: %v", err)
	}
	sum := sha256.Sum256([]byte(nodePackageJSON))
	dir := filepath.Join(base, "phala-go-sdk", "fake-node-"+hex.EncodeToString(sum[:6]))
	done := filepath.Join(dir, ".installed")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	// Install into a fresh folder, then move it in place, so that a
	// concurrent or interrupted install never leaves a half-filled dir.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(nodePackageJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, lastBytes(out, 4000))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".installed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(done); serr != nil { // not another process winning the race
			t.Fatalf("moving the npm install into place: %v", err)
		}
	}
	return dir
}

// runNode runs script (CommonJS) with node in dir, feeding stdin, and
// returns its standard output; a failure fails the test with both outputs.
func runNode(t testing.TB, dir, script string, stdin []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-e", script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v\nstdout:\n%s\nstderr:\n%s", err, lastBytes(stdout.Bytes(), 8000), lastBytes(stderr.Bytes(), 4000))
	}
	return stdout.Bytes()
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
