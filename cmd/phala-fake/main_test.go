package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/openapi"
	"github.com/phalacloud/go-sdk/phala"
)

// startInProcess runs run() until the test ends and returns what it printed.
func startInProcess(t *testing.T, args ...string) map[string]string {
	t.Helper()
	pr, pw := io.Pipe()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- run(args, pw, io.Discard, stop); pw.Close() }()
	t.Cleanup(func() {
		close(stop)
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("run did not return after stop")
		}
	})
	vals := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(vals) < 3 && sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		require.True(t, ok, "unexpected output line %q", sc.Text())
		vals[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.Len(t, vals, 3)
	return vals
}

// TestServesSpecAndDocs checks /openapi.json and /docs (any path under
// it): served without an API key, with the embedded bytes.
func TestServesSpecAndDocs(t *testing.T) {
	vals := startInProcess(t)
	root := strings.TrimSuffix(vals["PHALA_FAKE_CONTROL_URL"], "/_fake")
	for _, tc := range []struct {
		path, ctype string
		body        []byte
	}{
		{"/openapi.json", "application/json", openapi.SpecJSON},
		{"/docs", "text/html", openapi.DocsHTML},
		{"/docs/", "text/html", openapi.DocsHTML},
		{"/docs/operation/getCVMState", "text/html", openapi.DocsHTML},
	} {
		resp, err := http.Get(root + tc.path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, tc.path)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype), "%s: %s", tc.path, resp.Header.Get("Content-Type"))
		require.True(t, bytes.Equal(tc.body, body), "%s: not the embedded bytes", tc.path)
	}
	// Not a catch-all: other paths outside the API are still 404, and
	// POST is not served.
	for _, p := range []string{"/docsx", "/openapi.yaml"} {
		resp, err := http.Get(root + p)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
	resp, err := http.Post(root+"/openapi.json", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode)
}

// TestMaxStreamDurationFlag checks that -max-stream-duration caps the
// state streams: a wait for a status that never comes sees the streams
// time out and reconnects until its context ends.
func TestMaxStreamDurationFlag(t *testing.T) {
	vals := startInProcess(t, "-max-stream-duration", "20ms")
	c, err := phala.NewClient(phala.WithBaseURL(vals["PHALA_CLOUD_API_PREFIX"]), phala.WithAPIKey(vals["PHALA_CLOUD_API_KEY"]))
	require.NoError(t, err)
	// The wait ends (cancelled) once the third stream has started, however
	// long that takes on a loaded machine; a cap that did not work would
	// leave one stream open and the test would hang until its deadline.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen int
	_, err = c.WaitForCVM(ctx, "central-app", &phala.WaitOptions{Target: "stopped", PollInterval: 10 * time.Millisecond,
		OnEvent: func(phala.CVMState) {
			if seen++; seen == 3 {
				cancel()
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 3, seen, "each reconnect starts a stream with a first state event")
}
