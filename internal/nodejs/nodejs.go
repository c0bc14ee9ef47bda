// Package nodejs lets tests run JavaScript against the official Phala
// Cloud npm packages, to check that the Go SDK interoperates with them.
//
// Install installs the packages pinned by package.json and
// package-lock.json (embedded in this package) with "npm ci" into a cache
// folder shared by all test binaries, and Run executes a script there. When
// node or npm is not installed the calling test is skipped.
package nodejs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/phalacloud/go-sdk/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

//go:embed package.json package-lock.json
var manifest embed.FS

// MinNodeMajor is the oldest Node.js major version the pinned packages
// support; an older node makes Install skip the test.
const MinNodeMajor = 18

// InstallTimeout bounds "npm ci".
const InstallTimeout = 10 * time.Minute

// RunTimeout bounds one Run.
const RunTimeout = 5 * time.Minute

// Install makes sure the pinned npm packages are installed and returns
// the folder that holds their node_modules; scripts given to Run can
// require() them by name. The folder is
// <os.UserCacheDir()>/phala-go-sdk/node-<hash of package.json and
// package-lock.json>, reused when complete and guarded by a file lock while
// being created, so parallel test binaries neither race nor install twice.
//
// The test is skipped when node or npm is missing from PATH or node is
// older than MinNodeMajor; any other failure (npm ci failing, no cache
// folder) fails it.
func Install(t testing.TB) string {
	t.Helper()
	requireTools(t)
	dir, err := installDir(context.Background(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ErrUnavailable is what InstallDir's error matches when node or npm is
// missing from PATH or node is older than MinNodeMajor.
var ErrUnavailable = errors.New("nodejs: node and npm are required")

// InstallDir is Install for programs that have no testing.TB (such as
// bench/compare): it installs the pinned packages into the same cache
// folder and returns it, or returns an error, matching ErrUnavailable when
// node or npm is missing or too old.
func InstallDir(ctx context.Context) (string, error) {
	if _, _, err := findTools(); err != nil {
		return "", err
	}
	return installDir(ctx, nil)
}

func installDir(ctx context.Context, logf func(string, ...any)) (string, error) {
	_, npm, err := findTools()
	if err != nil {
		return "", err
	}
	pkg, err := manifest.ReadFile("package.json")
	if err != nil {
		return "", fmt.Errorf("nodejs: %w", err)
	}
	lock, err := manifest.ReadFile("package-lock.json")
	if err != nil {
		return "", fmt.Errorf("nodejs: %w", err)
	}
	sum := sha256.New()
	sum.Write(pkg)
	sum.Write([]byte{0})
	sum.Write(lock)
	name := "node-" + hex.EncodeToString(sum.Sum(nil))[:16]

	base, err := cacheBase()
	if err != nil {
		return "", fmt.Errorf("nodejs: no cache folder: %w", err)
	}
	dir := filepath.Join(base, name)
	if complete(dir) {
		return dir, nil
	}
	unlock, err := lockFile(filepath.Join(base, name+".lock"))
	if err != nil {
		return "", fmt.Errorf("nodejs: lock: %w", err)
	}
	defer unlock()
	if complete(dir) { // another process finished while we waited
		return dir, nil
	}
	_ = os.RemoveAll(dir) // an interrupted earlier attempt

	tmp, err := os.MkdirTemp(base, name+".tmp-")
	if err != nil {
		return "", fmt.Errorf("nodejs: %w", err)
	}
	defer os.RemoveAll(tmp)
	for n, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, n), b, 0o644); err != nil {
			return "", fmt.Errorf("nodejs: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, InstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if logf != nil {
		logf("nodejs: installing pinned npm packages into %s", dir)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("nodejs: npm ci failed: %w\n%s", err, tail(out.Bytes(), 4000))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(time.Now().UTC().Format(time.RFC3339)), 0o644); err != nil {
		return "", fmt.Errorf("nodejs: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("nodejs: %w", err)
	}
	return dir, nil
}

// Run executes script as a CommonJS module (it may use require() for the
// installed packages, and await import() for ES modules) with node in dir,
// which Install returned. stdin is fed to the script; its standard output is
// returned. A non-zero exit or a timeout (RunTimeout) fails the test with
// the script's standard error. The test is skipped when node is missing.
func Run(t testing.TB, dir, script string, stdin []byte) []byte {
	t.Helper()
	node, _ := requireTools(t)
	f, err := os.CreateTemp(dir, "script-*.cjs")
	if err != nil {
		t.Fatalf("nodejs: %v", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		t.Fatalf("nodejs: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("nodejs: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, f.Name())
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nodejs: script failed: %v\nstderr:\n%s", err, tail(stderr.Bytes(), 4000))
	}
	return stdout.Bytes()
}

func requireTools(t testing.TB) (node, npm string) {
	t.Helper()
	node, npm, err := findTools()
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("%v; skipping the JavaScript interop test: install Node.js %d or later with npm "+
			"(the first run installs the pinned @phala/cloud with npm ci into the user cache)", err, MinNodeMajor))
	}
	return node, npm
}

// findTools looks node and npm up in PATH and checks node's version; the
// error matches ErrUnavailable.
func findTools() (node, npm string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("%w: node is not installed (not in PATH)", ErrUnavailable)
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		return "", "", fmt.Errorf("%w: npm is not installed (not in PATH)", ErrUnavailable)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", "", fmt.Errorf("%w: %s --version failed (%v)", ErrUnavailable, node, err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < MinNodeMajor {
		return "", "", fmt.Errorf("%w: node %s is older than %d", ErrUnavailable, v, MinNodeMajor)
	}
	return node, npm, nil
}

func cacheBase() (string, error) {
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	base := filepath.Join(c, "phala-go-sdk")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	return base, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

var errLockTimeout = errors.New("timed out waiting for the install lock")

func lockErr(path string, err error) error { return fmt.Errorf("%s: %w", path, err) }
