package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/openapi"
)

// runFakeInProcess runs the program in-process and returns the variables it
// printed.
func runFakeInProcess(t *testing.T, args ...string) map[string]string {
	t.Helper()
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- run(args, pw, io.Discard, stop); pw.Close() }()
	t.Cleanup(func() { close(stop); <-done })
	vars := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vars) < 3 && sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		require.True(t, ok, "unexpected line %q", sc.Text())
		vars[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.Len(t, vars, 3)
	return vars
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestFakePrintsItsAddressAndServesTheSpec(t *testing.T) {
	vars := runFakeInProcess(t, "-api-key", "phak_fake_test", "-update-delay", "0")
	prefix, key := vars["PHALA_CLOUD_API_PREFIX"], vars["PHALA_CLOUD_API_KEY"]
	require.True(t, strings.HasPrefix(prefix, "http://127.0.0.1:") && strings.HasSuffix(prefix, "/api/v1"), prefix)
	assert.Equal(t, "phak_fake_test", key)
	root := strings.TrimSuffix(prefix, "/api/v1")
	assert.Equal(t, root+"/_fake", vars["PHALA_FAKE_CONTROL_URL"])

	resp, body := get(t, root+"/openapi.json")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, openapi.SpecJSON, body)
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	assert.Equal(t, "3.0.3", doc.OpenAPI)

	for _, path := range []string{"/docs", "/docs/", "/docs/cvm-configuration"} {
		resp, body = get(t, root+path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.True(t, bytes.Equal(openapi.DocsHTML, body), path)
		assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	}

	resp, _ = get(t, prefix+"/cvms/central-app")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the API needs the key")
	resp, body = get(t, prefix+"/cvms/central-app", "X-API-Key", key)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"name":"central-app"`)
}

func TestFakeRefusesBadFlags(t *testing.T) {
	assert.Error(t, run([]string{"-api-key", ""}, io.Discard, io.Discard, nil))
	assert.Error(t, run([]string{"extra"}, io.Discard, io.Discard, nil))
	assert.Error(t, run([]string{"-seed", "/nonexistent.json"}, io.Discard, io.Discard, nil))
}
