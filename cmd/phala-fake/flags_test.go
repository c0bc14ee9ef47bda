package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrintsItsAddressAndKey: the three lines scripts parse, and the key
// they print is the one the API wants.
func TestPrintsItsAddressAndKey(t *testing.T) {
	vars := startInProcess(t, "-api-key", "phak_fake_test", "-update-delay", "0")
	prefix, key := vars["PHALA_CLOUD_API_PREFIX"], vars["PHALA_CLOUD_API_KEY"]
	require.True(t, strings.HasPrefix(prefix, "http://127.0.0.1:") && strings.HasSuffix(prefix, "/api/v1"), prefix)
	assert.Equal(t, "phak_fake_test", key)
	assert.Equal(t, strings.TrimSuffix(prefix, "/api/v1")+"/_fake", vars["PHALA_FAKE_CONTROL_URL"])

	for _, tc := range []struct {
		key  string
		want int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {key, http.StatusOK}} {
		req, err := http.NewRequest(http.MethodGet, prefix+"/cvms/central-app", nil)
		require.NoError(t, err)
		if tc.key != "" {
			req.Header.Set("X-API-Key", tc.key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode, "key %q", tc.key)
	}
}

func TestRefusesBadFlags(t *testing.T) {
	assert.Error(t, run([]string{"-api-key", ""}, io.Discard, io.Discard, nil))
	assert.Error(t, run([]string{"extra"}, io.Discard, io.Discard, nil))
	assert.Error(t, run([]string{"-seed", "/nonexistent.json"}, io.Discard, io.Discard, nil))
}

// TestRestartLagFlag: with -restart-lag an accepted update leaves the CVM
// running, without progress, until its restart begins.
func TestRestartLagFlag(t *testing.T) {
	vars := startInProcess(t, "-update-delay", "1h", "-restart-lag", "1h")
	prefix, key := vars["PHALA_CLOUD_API_PREFIX"], vars["PHALA_CLOUD_API_KEY"]
	send := func(method, path, body string) string {
		req, err := http.NewRequest(method, prefix+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-API-Key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, send(http.MethodPatch, "/cvms/central-app/resources", `{"vcpu":3}`), `"correlation_id"`)
	state := send(http.MethodGet, "/cvms/central-app/state", "")
	assert.Contains(t, state, `"status":"running"`)
	assert.NotContains(t, state, `"progress"`)
}

// A seed file holds the seeds to what the cloud accepts, as WithCVM does:
// memory in GB or a compose that is not YAML is an error naming the
// field, not a CVM reporting 8 MB.
func TestRefusesSeedsTheCloudWouldNot(t *testing.T) {
	for seed, want := range map[string]string{
		`[{"name":"small-app","memory_mb":8}]`:                         "MemoryMB 8 refused: memory is in MB",
		`[{"name":"small-app","docker_compose_file":"this: [is not"}]`: "not valid YAML",
	} {
		f := filepath.Join(t.TempDir(), "seeds.json")
		require.NoError(t, os.WriteFile(f, []byte(seed), 0o600))
		err := run([]string{"-seed", f}, io.Discard, io.Discard, nil)
		require.Error(t, err, seed)
		assert.Contains(t, err.Error(), want)
	}
}
