package phalatest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/testkit"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// The helpers shared with onchain's tests.
var ctxT, quickWait = testkit.Context, testkit.QuickWait

// rawResult is an answer read with plain net/http.
type rawResult struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a request with the server's API key (unless key is set in hdr).
func do(t *testing.T, s *phalatest.Server, method, path, contentType string, body string, hdr map[string]string) rawResult {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-API-Key", s.APIKey())
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := rawResult{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		require.NoError(t, json.Unmarshal(raw, &r.body), "body %s", raw)
	}
	require.NotEmpty(t, resp.Header.Get("X-Request-ID"), "every answer carries X-Request-ID")
	return r
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// noRetry is a client that makes each call once, so tests see raw answers.
func noRetry(s *phalatest.Server) *phala.Client { return s.Client(phala.WithoutRetries()) }

// seeds returns the normalised seeds of the default CVMs.
func seeds(t *testing.T, s *phalatest.Server) (central, onchain phalatest.CVMSeed) {
	t.Helper()
	var ok1, ok2 bool
	central, ok1 = s.CVM(phalatest.CentralCVMName)
	onchain, ok2 = s.CVM(phalatest.OnChainCVMName)
	require.True(t, ok1 && ok2)
	return central, onchain
}

// apiError asserts err is an *phala.APIError with the status.
func apiError(t *testing.T, err error, status int) *phala.APIError {
	t.Helper()
	var ae *phala.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, status, ae.StatusCode, "error: %v", err)
	return ae
}

// manualClock is a settable clock.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *manualClock { return &manualClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
