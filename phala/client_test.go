package phala_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

const cvmInfoMin = `{"id":"cvm_1","name":"my-app","status":"running"}`

func requireInvalidOption(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	var ia *phala.InvalidArgumentError
	require.ErrorAs(t, err, &ia)
	assert.Equal(t, field, ia.Field)
}

func TestNewClientDefaults(t *testing.T) {
	t.Setenv(phala.EnvAPIKey, "")
	t.Setenv(phala.EnvAPIPrefix, "")
	c, err := auditedClient(phala.NewClient())
	require.NoError(t, err)
	assert.Equal(t, "https://cloud-api.phala.com/api/v1", c.BaseURL())
	assert.Equal(t, phala.DefaultBaseURL, c.BaseURL())
	assert.Equal(t, "2026-06-23", phala.DefaultAPIVersion)
	assert.Equal(t, 60*time.Second, phala.DefaultTimeout)
}

func TestNewClientBaseURLFromEnvironment(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusOK, cvmInfoMin)
	t.Setenv(phala.EnvAPIPrefix, " "+h.baseURL()+"/ ")
	t.Setenv(phala.EnvAPIKey, testAPIKey)
	c, err := auditedClient(phala.NewClient(phala.WithHTTPClient(h.httpClient())))
	require.NoError(t, err)
	assert.Equal(t, h.baseURL(), c.BaseURL(), "trimmed, without the trailing slash")
	_, err = audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	r := h.only()
	assert.Equal(t, "/api/v1/cvms/my-app", r.EscapedPath)
	assert.Equal(t, testAPIKey, r.Header.Get("X-API-Key"))

	// WithBaseURL wins over the environment.
	t.Setenv(phala.EnvAPIPrefix, "https://elsewhere.example/api/v1")
	c, err = auditedClient(phala.NewClient(phala.WithBaseURL(h.baseURL()), phala.WithHTTPClient(h.httpClient())))
	require.NoError(t, err)
	assert.Equal(t, h.baseURL(), c.BaseURL())
}

func TestWithBaseURL(t *testing.T) {
	t.Run("trailing slash", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, cvmInfoMin)
		_, err := audited(h.client(phala.WithBaseURL(h.baseURL()+"///")).GetCVMInfo(context.Background(), "my-app"))
		require.NoError(t, err)
		assert.Equal(t, "/api/v1/cvms/my-app", h.only().EscapedPath)
	})
	t.Run("a base without /api/v1 misses the API", func(t *testing.T) {
		var reports []error
		h := newHarness(t, withReport(func(_ string, _ *http.Request, err error) { reports = append(reports, err) }))
		_, err := audited(h.client(phala.WithBaseURL(h.srv.URL)).GetCVMInfo(context.Background(), "my-app"))
		require.ErrorIs(t, err, phala.ErrNotFound)
		assert.Equal(t, "/cvms/my-app", h.only().EscapedPath)
		assert.NotEmpty(t, reports, "the validator sees a path outside the spec's server")
	})
	bad := []string{"not a url", "cloud-api.phala.com/api/v1", "ftp://cloud-api.phala.com/api/v1",
		"https://user:pw@cloud-api.phala.com/api/v1", "https://cloud-api.phala.com/api/v1?x=1",
		"https://cloud-api.phala.com/api/v1#frag", "https:///api/v1", "://x"}
	for _, u := range bad {
		t.Run(u, func(t *testing.T) {
			_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(u)))
			requireInvalidOption(t, err, "base URL")
			assert.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestPlainHTTPBaseURL(t *testing.T) {
	t.Setenv(phala.EnvAPIKey, "")
	remote := "http://cloud-api.example.com/api/v1"
	_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(remote)))
	requireInvalidOption(t, err, "base URL")
	assert.NotContains(t, err.Error(), testAPIKey)

	c, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(remote), phala.WithInsecureHTTP()))
	require.NoError(t, err)
	assert.Equal(t, remote, c.BaseURL())

	_, err = auditedClient(phala.NewClient(phala.WithBaseURL(remote)))
	require.NoError(t, err, "without a key there is nothing to leak")

	t.Setenv(phala.EnvAPIKey, "from-env")
	_, err = auditedClient(phala.NewClient(phala.WithBaseURL(remote)))
	requireInvalidOption(t, err, "base URL")

	for _, u := range []string{"http://127.0.0.1:8080/api/v1", "http://localhost/api/v1", "http://[::1]:9/api/v1",
		"http://LocalHost:8080/api/v1", "http://127.1.2.3/api/v1", "https://cloud-api.example.com/api/v1"} {
		_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(u)))
		assert.NoError(t, err, u)
	}
	// Only exactly "localhost" and loopback IP literals: Go resolves any
	// other name, *.localhost included, through DNS, which may answer with
	// any address (issue 12, section 5).
	for _, u := range []string{"http://10.0.0.1/api/v1", "http://localhost.example.com/api/v1", "http://127.example.com/api/v1",
		"http://anything.localhost/api/v1", "http://api.localhost/api/v1", "http://localhost./api/v1"} {
		_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithBaseURL(u)))
		assert.ErrorIs(t, err, phala.ErrInvalidArgument, u)
	}
}

func TestWithAPIVersion(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusOK, `{"id":4211,"name":"my-app","status":"running"}`)
	_, err := audited(h.client(phala.WithAPIVersion("2025-10-28")).GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, []string{"2025-10-28"}, h.only().Header.Values("X-Phala-Version"))

	for _, v := range []string{"", "latest", "20260121", "2026-1-21", "2026-13-01", "2026-02-30", "2026-01-21T00:00:00Z", "2026-01-21\n"} {
		_, err := auditedClient(phala.NewClient(phala.WithAPIKey(testAPIKey), phala.WithAPIVersion(v)))
		requireInvalidOption(t, err, "WithAPIVersion")
	}
}

func TestWithUserAgent(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusOK, cvmInfoMin)
	_, err := audited(h.client(phala.WithUserAgent("my-tool/1.2")).GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, "phala-go-sdk/"+phala.Version+" my-tool/1.2", h.only().Header.Get("User-Agent"))
	assert.Equal(t, "0.1.0", phala.Version)

	_, err = auditedClient(phala.NewClient(phala.WithUserAgent("evil\r\nX-API-Key: x")))
	requireInvalidOption(t, err, "WithUserAgent")
}

func TestWithHeader(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusOK, cvmInfoMin)
	_, err := audited(h.client(phala.WithHeader("X-Trace", "abc"), phala.WithHeader("X-Trace", "def")).GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, []string{"abc", "def"}, h.only().Header.Values("X-Trace"))

	for _, name := range []string{"X-API-Key", "x-api-key", "X-Phala-Version", "user-agent", "Content-Type", "Host", "accept", "X-Compose-Hash", "x-transaction-hash", "X-Prepare-Only"} {
		_, err := auditedClient(phala.NewClient(phala.WithHeader(name, "v")))
		requireInvalidOption(t, err, "WithHeader")
	}
	_, err = auditedClient(phala.NewClient(phala.WithHeader("", "v")))
	requireInvalidOption(t, err, "WithHeader")
	_, err = auditedClient(phala.NewClient(phala.WithHeader("X-A", "v\r\nX-API-Key: stolen")))
	requireInvalidOption(t, err, "WithHeader")
}

func TestOtherOptionErrors(t *testing.T) {
	_, err := auditedClient(phala.NewClient(phala.WithHTTPClient(nil)))
	requireInvalidOption(t, err, "WithHTTPClient")
	_, err = auditedClient(phala.NewClient(phala.WithTimeout(-time.Second)))
	requireInvalidOption(t, err, "WithTimeout")
	for _, k := range []string{" " + testAPIKey, testAPIKey + "\n", "a\r\nb"} {
		_, err = auditedClient(phala.NewClient(phala.WithAPIKey(k)))
		requireInvalidOption(t, err, "WithAPIKey")
		assert.NotContains(t, err.Error(), strings.TrimSpace(k))
	}
	_, err = auditedClient(phala.NewClient(nil, phala.WithAPIKey(testAPIKey)))
	require.NoError(t, err, "a nil option is ignored")
}

// slowHandler answers only when the request is abandoned (or after 10 s).
func slowHandler(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	w.WriteHeader(http.StatusOK)
}

func TestWithTimeout(t *testing.T) {
	t.Run("the client's timeout", func(t *testing.T) {
		h := newHarness(t)
		h.handle("GET /cvms/{id}", slowHandler)
		start := time.Now()
		_, err := audited(h.client(phala.WithTimeout(100*time.Millisecond)).GetCVMInfo(context.Background(), "my-app"))
		require.Error(t, err)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var te *phala.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, http.MethodGet, te.Method)
		assert.Equal(t, "/api/v1/cvms/my-app", te.Path)
		assert.NotContains(t, err.Error(), testAPIKey)
	})
	t.Run("a sooner context deadline wins", func(t *testing.T) {
		h := newHarness(t)
		h.handle("GET /cvms/{id}", slowHandler)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := audited(h.client(phala.WithTimeout(time.Minute)).GetCVMInfo(ctx, "my-app"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("a cancelled context", func(t *testing.T) {
		h := newHarness(t)
		h.handle("GET /cvms/{id}", slowHandler)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		_, err := audited(h.client().GetCVMInfo(ctx, "my-app"))
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("a fast answer within the timeout", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}", http.StatusOK, cvmInfoMin)
		_, err := audited(h.client(phala.WithTimeout(5*time.Second)).GetCVMInfo(context.Background(), "my-app"))
		require.NoError(t, err)
	})
}

func TestTransportErrorHidesSecrets(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	h.srv.Close() // nothing listens any more
	_, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
	var te *phala.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.MethodPatch, te.Method)
	assert.Equal(t, "/api/v1/cvms/my-app/docker-compose", te.Path)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), testAPIKey)
	var apiErr *phala.APIError
	assert.False(t, errors.As(err, &apiErr))
}

func TestAPIKeyNeverPrinted(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusUnauthorized, `{"detail":"Invalid API key"}`)
	c := h.client(phala.WithHeader("X-Trace", "t"))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, c)
		assert.NotContains(t, out, testAPIKey, verb)
		out = fmt.Sprintf(verb, *c)
		assert.NotContains(t, out, testAPIKey, verb+" of the value")
	}
	assert.Contains(t, fmt.Sprintf("%+v", c), h.baseURL())
	assert.Contains(t, fmt.Sprintf("%v", c), "[REDACTED]")
	assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %#v", phala.Client{}, &phala.Client{}) })
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "c", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("client", "c", c)
	assert.NotContains(t, buf.String(), testAPIKey)
	assert.NotEmpty(t, buf.String())

	_, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.ErrorIs(t, err, phala.ErrUnauthorized)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), testAPIKey)
	// It was sent, though.
	assert.Equal(t, testAPIKey, h.only().Header.Get("X-API-Key"))
}

func TestSuccessBodyOverLimit(t *testing.T) {
	h := newHarness(t, withoutResponseValidation("the answer is deliberately larger than the SDK reads"))
	big := `{"id":"cvm_1","name":"my-app","status":"running","pad":"` + strings.Repeat("x", phala.MaxResponseBody) + `"}`
	h.reply("GET /cvms/{id}", http.StatusOK, big)
	_, err := audited(h.client().GetCVMInfo(context.Background(), "my-app"))
	require.ErrorIs(t, err, phala.ErrResponseTooLarge)
}

func TestPtrHelpers(t *testing.T) {
	assert.Equal(t, 3, *phala.Int(3))
	assert.True(t, *phala.Bool(true))
	assert.Equal(t, "s", *phala.String("s"))
	assert.Equal(t, 2.5, *phala.Ptr(2.5))
	a, b := phala.Int(1), phala.Int(1)
	assert.NotSame(t, a, b, "each call returns a new pointer")
}

// A base URL without /api/v1 reaches no API path: its 404 says so, while a
// 404 under the right prefix is the server's alone.
func TestBaseURLWithoutAPIPrefixExplainsThe404(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		base string
		hint bool
	}{{srv.URL, true}, {srv.URL + "/api", true}, {srv.URL + "/api/v1", false}} {
		c, err := auditedClient(phala.NewClient(phala.WithAPIKey("phak_test_key"), phala.WithBaseURL(tc.base)))
		require.NoError(t, err)
		_, err = audited(c.GetCVMInfo(context.Background(), "my-app"))
		require.ErrorIs(t, err, phala.ErrNotFound)
		if tc.hint {
			assert.Contains(t, err.Error(), "does not end in /api/v1", tc.base)
		} else {
			assert.NotContains(t, err.Error(), "/api/v1", tc.base)
		}
	}
}
