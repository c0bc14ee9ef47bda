package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oapi-codegen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/gen"
)

// refRequest builds a request the way oapi-codegen v2.8.2's built-in
// client template does (the code gen/client.tmpl replaces): server parsed
// on each call, path parameters styled by the runtime, the operation path
// resolved against the server with url.URL.Parse and printed again, then
// parsed by http.NewRequest and copied by WithContext.
func refRequest(ctx context.Context, method, server, pathFmt string, query string, params ...string) (*http.Request, error) {
	styled := make([]any, len(params))
	for i, p := range params {
		s, err := runtime.StyleParamWithOptions("simple", false, "p", p, runtime.StyleParamOptions{ParamLocation: runtime.ParamLocationPath, Type: "string"})
		if err != nil {
			return nil, err
		}
		styled[i] = s
	}
	serverURL, err := url.Parse(server)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf(pathFmt, styled...)
	if op[0] == '/' {
		op = "." + op
	}
	q, err := serverURL.Parse(op)
	if err != nil {
		return nil, err
	}
	if query != "" {
		q.RawQuery = query
	}
	req, err := http.NewRequest(method, q.String(), nil)
	if err != nil {
		return nil, err
	}
	return req.WithContext(ctx), nil
}

// recorder is a Doer that keeps the request and answers nothing.
type recorder struct{ req *http.Request }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.req = req
	return nil, io.EOF
}

var (
	builderServers = []string{
		"http://127.0.0.1:8080/api/v1", "https://cloud-api.phala.com/api/v1/", "https://h", "https://h/",
		"HTTPS://H/Api/", "https://h/a/./b/", "https://h/a/../b/", "https://h/a%2Fb/", "https://h/a b/",
		"https://h/%7Euser/", "https://h/~user/", "https://h//double/", "https://u:p@h/api/",
		"https://h/api?x=1", "https://h/api#frag", "http://[::1]:80/v1/", "https://h/api/%zz/", "https://h/é/",
		"https://h:8443/api/v1;p=1/", "https://h/api/.", "https://h/api/..", "/relative/", "",
	}
	builderIDs = []string{
		"my-app", "app_0123456789abcdef0123456789abcdef01234567", "a b", "a/b", "..", ".", ".hidden", "a..b",
		"é", "%2e%2e", "%2F", "a?b#c", "x;y=z", "a+b", "", "a:b", "~x", "a%",
	}
)

// The generated builders (gen/client.tmpl) produce the same request as
// the built-in template, for the fast path and the fallback alike: the
// same URL (field by field), Host, method and headers, and the caller's
// context, or the same failure.
func TestGeneratedBuildersMatchBuiltInTemplate(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "marker")
	ver := "2026-01-21"
	target, interval := "running", 5
	for _, server := range builderServers {
		rec := &recorder{}
		c, err := gen.NewClient(server, gen.WithHTTPClient(rec))
		require.NoError(t, err)
		for _, id := range builderIDs {
			cases := []struct {
				name, method, path, query string
				params                    []string
				client                    func() error
				exported                  func() (*http.Request, error)
			}{
				{"GetCVMInfo", http.MethodGet, "/cvms/%s", "", []string{id},
					func() error { _, err := c.GetCVMInfo(ctx, id, &gen.GetCVMInfoParams{XPhalaVersion: &ver}); return err },
					func() (*http.Request, error) { return gen.NewGetCVMInfoRequest(c.Server, id, nil) }},
				{"UpdateCVMEnvs", http.MethodPatch, "/cvms/%s/envs", "", []string{id},
					func() error {
						_, err := c.UpdateCVMEnvs(ctx, id, nil, gen.UpdateEnvsRequest{EncryptedEnv: "00"})
						return err
					},
					func() (*http.Request, error) {
						return gen.NewUpdateCVMEnvsRequest(server, id, nil, gen.UpdateEnvsRequest{EncryptedEnv: "00"})
					}},
				{"GetCVMState", http.MethodGet, "/cvms/%s/state", "target=running&interval=5", []string{id},
					func() error {
						_, err := c.GetCVMState(ctx, id, &gen.GetCVMStateParams{Target: &target, Interval: &interval})
						return err
					},
					func() (*http.Request, error) {
						return gen.NewGetCVMStateRequest(server, id, &gen.GetCVMStateParams{Target: &target, Interval: &interval})
					}},
				{"GetKMSEnvEncryptPublicKey", http.MethodGet, "/kms/%s/pubkey/%s", "", []string{"kms-" + id, id},
					func() error { _, err := c.GetKMSEnvEncryptPublicKey(ctx, "kms-"+id, id, nil); return err },
					func() (*http.Request, error) {
						return gen.NewGetKMSEnvEncryptPublicKeyRequest(c.Server, "kms-"+id, id, nil)
					}},
			}
			for _, tc := range cases {
				where := fmt.Sprintf("%s server=%q id=%q", tc.name, server, id)
				// The client method: against the server as NewClient stored it.
				want, wantErr := refRequest(ctx, tc.method, c.Server, tc.path, tc.query, tc.params...)
				rec.req = nil
				err := tc.client()
				if wantErr != nil {
					require.Error(t, err, where)
					assert.Equal(t, wantErr.Error(), err.Error(), where)
					assert.Nil(t, rec.req, where)
				} else {
					require.ErrorIs(t, err, io.EOF, where)
					sameRequest(t, want, rec.req, where)
					assert.Equal(t, "marker", rec.req.Context().Value(ctxKey{}), where)
				}
				// The exported builder.
				srv := server
				if tc.name == "GetCVMInfo" || tc.name == "GetKMSEnvEncryptPublicKey" {
					srv = c.Server
				}
				want, wantErr = refRequest(context.Background(), tc.method, srv, tc.path, tc.query, tc.params...)
				got, err := tc.exported()
				if wantErr != nil {
					require.Error(t, err, where)
					assert.Equal(t, wantErr.Error(), err.Error(), where)
				} else {
					require.NoError(t, err, where)
					sameRequest(t, want, got, where)
				}
			}
		}
	}
}

func sameRequest(t *testing.T, want, got *http.Request, where string) {
	t.Helper()
	assert.Equal(t, want.Method, got.Method, where)
	assert.Equal(t, *want.URL, *got.URL, where)
	assert.Equal(t, want.URL.String(), got.URL.String(), where)
	assert.Equal(t, want.Host, got.Host, where)
	for k, vs := range want.Header {
		assert.Equal(t, vs, got.Header[k], where+" header "+k)
	}
	for k := range got.Header {
		if k != "Content-Type" && k != "X-Phala-Version" {
			assert.Contains(t, want.Header, k, where)
		}
	}
	if strings.HasPrefix(where, "UpdateCVMEnvs") {
		assert.Equal(t, []string{"application/json"}, got.Header["Content-Type"], where)
	}
}
