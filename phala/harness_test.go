package phala_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/specdoc"
	"github.com/phalacloud/go-sdk/phala"
)

// Values that satisfy the spec's patterns, shared by the tests.
const (
	testAPIKey   = "phk_test_0123456789abcdef"
	testHash     = "8f1c0f5d3d2b7b8e1f8d4c1e6b2a9f0e3c5d7a9b1c3e5f7a9b0c2d4e6f8a0b1c"
	testTx       = "0x5e1d3a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f"
	testAppID    = "9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796"
	testDeviceID = "3c1f2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
	testCorrID   = "6f9619ff-8b86-4011-b42d-00c04fc964ff"
	testCompose  = "services:\n  app:\n    image: nginx:latest\n"
)

// loadSpec is the parsed openapi/phala-cloud.yaml (internal/specdoc,
// shared with phalatest).
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := specdoc.Doc()
	require.NoError(t, err, "loading openapi/phala-cloud.yaml")
	return doc
}

// specRouter returns a router for the spec whose only server is serverURL.
func specRouter(t testing.TB, serverURL string) routers.Router {
	t.Helper()
	r, err := specdoc.Router(serverURL)
	require.NoError(t, err)
	return r
}

// validatingTransport checks every request against the spec before it is
// sent and every response after it arrived. Each violation goes to report;
// it is never swallowed.
type validatingTransport struct {
	base              http.RoundTripper
	router            routers.Router
	validateResponses bool
	report            func(kind string, req *http.Request, err error)
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	// Validate a clone so that nothing kin-openapi does to the request
	// (reading the body, setting defaults) reaches what is sent.
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	var in *openapi3filter.RequestValidationInput
	route, pathParams, err := v.router.FindRoute(vreq)
	if err != nil {
		v.report("request", req, fmt.Errorf("no operation in the spec: %w", err))
	} else {
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: pathParams, Route: route, Options: specdoc.Options(true)}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.report("request", req, err)
		}
	}

	resp, err := v.base.RoundTrip(req)
	if err != nil || !v.validateResponses || in == nil {
		return resp, err
	}
	rbody, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rbody))
	if rerr != nil {
		return resp, nil // let the SDK see a clean body; the read error is not the spec's business
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Options: specdoc.Options(true)}
	rin.SetBodyBytes(rbody)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		v.report("response", req, fmt.Errorf("HTTP %d %s: %w", resp.StatusCode, truncate(rbody, 300), err))
	}
	return resp, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// recorded is one request as the test server received it.
type recorded struct {
	Method      string
	EscapedPath string
	RawQuery    string
	Header      http.Header
	Body        []byte
}

// JSON decodes the body as JSON.
func (r recorded) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "request body %q", r.Body)
	return m
}

// harness is an httptest server holding the API under /api/v1, and a
// client transport that validates traffic against openapi/phala-cloud.yaml.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	api    *http.ServeMux
	router routers.Router
	tr     *validatingTransport

	mu   sync.Mutex
	reqs []recorded
}

type harnessOption func(*harness)

// withoutResponseValidation keeps request validation but accepts responses
// the spec does not declare (HTML bodies, 3xx, bodies over a limit...).
// The reason is required so that every use says why.
func withoutResponseValidation(reason string) harnessOption {
	if strings.TrimSpace(reason) == "" {
		panic("withoutResponseValidation needs a reason")
	}
	return func(h *harness) { h.tr.validateResponses = false }
}

// withReport replaces t.Errorf as the sink of spec violations.
func withReport(f func(kind string, req *http.Request, err error)) harnessOption {
	return func(h *harness) { h.tr.report = f }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, api: http.NewServeMux()}
	root := http.NewServeMux()
	root.Handle("/api/v1/", http.StripPrefix("/api/v1", h.api))
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, recorded{Method: r.Method, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body})
		h.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		root.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	h.router = specRouter(t, h.srv.URL+"/api/v1")
	h.tr = &validatingTransport{base: h.srv.Client().Transport, router: h.router, validateResponses: true,
		report: func(kind string, req *http.Request, err error) {
			t.Errorf("openapi: the %s of %s %s violates the spec:\n%v", kind, req.Method, req.URL.EscapedPath(), err)
		}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// baseURL is the API root, /api/v1 included.
func (h *harness) baseURL() string { return h.srv.URL + "/api/v1" }

// httpClient is an *http.Client whose transport validates against the spec.
func (h *harness) httpClient() *http.Client { return &http.Client{Transport: h.tr} }

// client builds a phala.Client against the harness with an API key. It
// makes single attempts, so that each scripted answer maps to one result;
// retries have their own tests (retry_test.go).
func (h *harness) client(opts ...phala.Option) *phala.Client {
	h.t.Helper()
	all := append([]phala.Option{phala.WithAPIKey(testAPIKey), phala.WithBaseURL(h.baseURL()),
		phala.WithHTTPClient(h.httpClient()), phala.WithoutRetries()}, opts...)
	c, err := auditedClient(phala.NewClient(all...))
	require.NoError(h.t, err)
	return c
}

// handle registers a handler under /api/v1 with a ServeMux pattern such
// as "PATCH /cvms/{id}/docker-compose".
func (h *harness) handle(pattern string, f http.HandlerFunc) { h.api.HandleFunc(pattern, f) }

// reply registers a handler that answers status with body as JSON.
func (h *harness) reply(pattern string, status int, body string, headers ...string) {
	h.handle(pattern, replyFunc(status, "application/json", body, headers...))
}

func replyFunc(status int, contentType, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func (h *harness) requests() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.reqs...)
}

func (h *harness) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reqs)
}

// only returns the single request the server received.
func (h *harness) only() recorded {
	h.t.Helper()
	reqs := h.requests()
	require.Len(h.t, reqs, 1, "want exactly one request")
	return reqs[0]
}

// acceptedJSON is the spec's 202 body.
const acceptedJSON = `{"status":"in_progress","message":"CVM update started","correlation_id":"` + testCorrID + `"}`

// TestHarnessReportsViolations proves that the validating transport fails
// on traffic that breaks the spec, so that its silence elsewhere means
// something.
func TestHarnessReportsViolations(t *testing.T) {
	type violation struct {
		kind string
		err  error
	}
	var got []violation
	h := newHarness(t, withReport(func(kind string, _ *http.Request, err error) {
		got = append(got, violation{kind, err})
	}))
	// A 200 the spec does not declare for this operation, with a body that
	// is not the accepted shape either.
	h.reply("PATCH /cvms/{id}/os-image", http.StatusOK, `{"status": 7}`)
	h.reply("PATCH /cvms/{id}/resources", http.StatusAccepted, `{"status": 7}`)

	hc := h.httpClient()
	send := func(method, path, contentType, body string, header ...string) {
		t.Helper()
		req, err := http.NewRequest(method, h.baseURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	// 1. Request body lacks the required os_image_name; response status undeclared.
	send(http.MethodPatch, "/cvms/my-app/os-image", "application/json", `{}`)
	require.Len(t, got, 2)
	require.Equal(t, "request", got[0].kind)
	require.ErrorContains(t, got[0].err, "os_image_name")
	require.Equal(t, "response", got[1].kind)
	require.ErrorContains(t, got[1].err, "200")

	// 2. A malformed X-Phala-Version and a negative vcpu; the response body
	// has a number where the spec wants a string.
	got = nil
	send(http.MethodPatch, "/cvms/my-app/resources", "application/json", `{"vcpu": -1}`, "X-Phala-Version", "yesterday")
	require.Len(t, got, 2)
	require.Equal(t, "request", got[0].kind)
	require.ErrorContains(t, got[0].err, "X-Phala-Version")
	require.ErrorContains(t, got[0].err, "vcpu")
	require.Equal(t, "response", got[1].kind)
	require.ErrorContains(t, got[1].err, "status")

	// 3. A path outside the base path matches no operation.
	got = nil
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+"/cvms/my-app", nil)
	require.NoError(t, err)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, got, 1)
	require.Equal(t, "request", got[0].kind)

	// The server saw all three, with their bodies intact after validation.
	reqs := h.requests()
	require.Len(t, reqs, 3)
	require.Equal(t, `{}`, string(reqs[0].Body))
	require.Equal(t, `{"vcpu": -1}`, string(reqs[1].Body))
	require.Equal(t, "/cvms/my-app", reqs[2].EscapedPath)
}

// TestHarnessAcceptsConformingTraffic is the counterpart: a request and
// answer that follow the spec pass without a report.
func TestHarnessAcceptsConformingTraffic(t *testing.T) {
	var got []error
	h := newHarness(t, withReport(func(_ string, _ *http.Request, err error) { got = append(got, err) }))
	h.reply("PATCH /cvms/{id}/os-image", http.StatusAccepted, acceptedJSON)
	c := h.client()
	require.NoError(t, auditedErr(c.UpdateOSImage(context.Background(), "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})))
	require.Empty(t, got)
	require.Equal(t, 1, h.count())
}
