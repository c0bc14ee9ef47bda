package main

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
	"github.com/phalacloud/go-sdk/phala"
)

//go:embed testdata/interop.cjs
var interopScript string

// fakeProcess is a running phala-fake binary.
type fakeProcess struct {
	prefix, apiKey, control string
}

// startFake builds cmd/phala-fake and runs it until the test ends.
func startFake(t *testing.T, args ...string) *fakeProcess {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "phala-fake")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	vals := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(vals) < 3 && sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		require.True(t, ok, "unexpected output line %q", sc.Text())
		vals[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	fp := &fakeProcess{prefix: vals["PHALA_CLOUD_API_PREFIX"], apiKey: vals["PHALA_CLOUD_API_KEY"], control: vals["PHALA_FAKE_CONTROL_URL"]}
	require.True(t, strings.HasPrefix(fp.prefix, "http://127.0.0.1:") && strings.HasSuffix(fp.prefix, "/api/v1"), "prefix %q", fp.prefix)
	require.NotEmpty(t, fp.apiKey)
	require.True(t, strings.HasSuffix(fp.control, "/_fake"), "control %q", fp.control)
	return fp
}

func (fp *fakeProcess) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(fp.control + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// TestJavaScriptSDKInterop drives the phala-fake binary with the official
// JavaScript SDK (@phala/cloud 0.2.9, whose zod schemas validate every
// answer) and then checks the state it left with the Go client and the
// /_fake/ endpoints.
func TestJavaScriptSDKInterop(t *testing.T) {
	dir := nodejs.Install(t)
	fp := startFake(t, "-update-delay", "30ms")

	cfg, _ := json.Marshal(map[string]string{"prefix": fp.prefix, "api_key": fp.apiKey, "control": fp.control})
	out := nodejs.Run(t, dir, interopScript, cfg)

	var steps []string
	var done bool
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var ev struct {
			Step string `json:"step"`
			OK   bool   `json:"ok"`
			Done bool   `json:"done"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev), "line %q", line)
		if ev.Done {
			done = true
			continue
		}
		require.True(t, ev.OK, "step failed: %s", line)
		steps = append(steps, ev.Step)
	}
	require.True(t, done, "the script did not finish:\n%s", out)
	require.Len(t, steps, 14, "steps: %v", steps)

	// The state the JavaScript SDK left, seen from Go.
	c, err := phala.NewClient(phala.WithBaseURL(fp.prefix), phala.WithAPIKey(fp.apiKey))
	require.NoError(t, err)
	ctx := t.Context()

	central, err := c.GetCVMInfo(ctx, "central-app")
	require.NoError(t, err)
	require.Equal(t, "running", central.Status)
	require.Equal(t, 4, central.VCPU)
	require.Equal(t, 8.0, central.MemoryGB)
	require.Equal(t, 80, central.DiskGB)
	require.False(t, central.PublicSysinfo)
	require.True(t, central.PublicLogs)
	require.True(t, central.PublicTcbinfo)

	var env map[string]string
	fp.getJSON(t, "/envs/central-app", &env)
	require.Equal(t, map[string]string{"FOO": "js-foo", "API_TOKEN": "js-token"}, env, "NOT_ALLOWED must be filtered out")

	var compose struct {
		AppCompose  map[string]any `json:"app_compose"`
		ComposeHash string         `json:"compose_hash"`
	}
	fp.getJSON(t, "/compose/central-app", &compose)
	require.Equal(t, "services:\n  web:\n    image: nginx:1.28-provisioned\n", compose.AppCompose["docker_compose_file"])
	require.Equal(t, "#!/bin/sh\necho from-js\n", compose.AppCompose["pre_launch_script"])
	require.Equal(t, central.ComposeHash, compose.ComposeHash)

	onchain, err := c.GetCVMInfo(ctx, "onchain-app")
	require.NoError(t, err)
	require.Equal(t, 3, onchain.VCPU, "the confirmed patch carried vcpu 3")
	fp.getJSON(t, "/compose/onchain-app", &compose)
	require.Equal(t, "services:\n  web:\n    image: nginx:1.29-onchain\n", compose.AppCompose["docker_compose_file"])
	require.Equal(t, []any{"FOO", "BAR"}, compose.AppCompose["allowed_envs"])
	env = nil // decoding into a filled map would merge
	fp.getJSON(t, "/envs/onchain-app", &env)
	require.Equal(t, map[string]string{"FOO": "chain-foo", "BAR": "chain-bar"}, env)

	var applied []map[string]any
	fp.getJSON(t, "/applied/onchain-app", &applied)
	require.Len(t, applied, 3, "patch, compose and envs were each applied once")

	// Nothing the JavaScript SDK sent was refused by our spec, and no
	// answer of the fake broke it.
	var reqs []struct {
		Method, Path string
		Status       int
	}
	fp.getJSON(t, "/requests", &reqs)
	for _, r := range reqs {
		require.NotEqual(t, http.StatusUnprocessableEntity, r.Status, "%s %s was refused by the spec", r.Method, r.Path)
		require.True(t, r.Status < 400 || r.Status == 465, "%s %s -> %d", r.Method, r.Path, r.Status)
	}
	var viol []string
	fp.getJSON(t, "/violations", &viol)
	require.Empty(t, viol)
}
