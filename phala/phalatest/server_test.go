package phalatest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func TestEveryIDForm(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := noRetry(s)
	ctx := ctxT(t)
	for _, sd := range []phalatest.CVMSeed{must(s.CVM(phalatest.CentralCVMName)), must(s.CVM(phalatest.OnChainCVMName))} {
		forms := map[string]string{
			"hashed id":         sd.ID,
			"uuid":              sd.VMUUID,
			"uuid without dash": strings.ReplaceAll(sd.VMUUID, "-", ""),
			"app id":            "app_" + sd.AppID,
			"bare app id":       sd.AppID,
			"upper-case app id": "app_" + strings.ToUpper(sd.AppID),
			"instance id":       "instance_" + sd.InstanceID,
			"name":              sd.Name,
		}
		for form, id := range forms {
			info, err := c.GetCVMInfo(ctx, id)
			require.NoError(t, err, form)
			require.Equal(t, sd.ID, info.ID, form)
			// Also without the SDK's normalisation (a bare app id as is).
			r := do(t, s, http.MethodGet, "/cvms/"+id, "", "", nil)
			require.Equal(t, http.StatusOK, r.status, form)
			require.Equal(t, sd.ID, r.body["id"], form)
		}
	}
	_, err := c.GetCVMInfo(ctx, "no-such-cvm")
	ae := apiError(t, err, http.StatusNotFound)
	require.Equal(t, phala.CodeCVMNotFound, ae.Code)
	require.True(t, errors.Is(err, phala.ErrNotFound))
}

func must(sd phalatest.CVMSeed, ok bool) phalatest.CVMSeed {
	if !ok {
		panic("no such CVM")
	}
	return sd
}

func TestWithCVMSeed(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithoutDefaultCVMs(), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "extra-app", ChainID: 1, KMSID: "kms_eth", AllowedEnvs: []string{"X"}, Env: map[string]string{"X": "1", "Y": "2"},
		VCPU: 8,
	}))
	require.Len(t, s.CVMIDs(), 1)
	info, err := noRetry(s).GetCVMInfo(ctxT(t), "extra-app")
	require.NoError(t, err)
	require.Equal(t, 8, info.VCPU)
	require.Equal(t, int64(1), *info.KMSInfo.ChainID)
	require.Equal(t, "ethereum", info.KMSType)
	require.Equal(t, map[string]string{"X": "1"}, s.Envs("extra-app"), "seeded env is filtered by allowed_envs")
	require.Panics(t, func() { phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "x"})) }, "a malformed name panics")
	require.Panics(t, func() {
		phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: phalatest.CentralCVMName}))
	}, "a duplicate name panics")
}

func TestAuth(t *testing.T) {
	s := phalatest.NewTestServer(t, phalatest.WithAPIKey("phak_secret_test_key"))
	ctx := ctxT(t)
	bad := s.Client(phala.WithAPIKey("phak_wrong"), phala.WithoutRetries())
	_, err := bad.GetCVMInfo(ctx, phalatest.CentralCVMName)
	apiError(t, err, http.StatusUnauthorized)
	require.True(t, errors.Is(err, phala.ErrUnauthorized))

	r := do(t, s, http.MethodGet, "/cvms/"+phalatest.CentralCVMName, "", "", map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "Invalid or missing API key", r.body["message"])
	require.NotEmpty(t, r.body["request_id"])
	require.Equal(t, r.header.Get("X-Request-ID"), r.body["request_id"])

	// The KMS key endpoint needs no key.
	_, onchain := seeds(t, s)
	r = do(t, s, http.MethodGet, "/kms/"+onchain.KMSID+"/pubkey/"+onchain.AppID, "", "", map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, r.status)
	r = do(t, s, http.MethodGet, "/kms/"+onchain.KMSSlug+"/pubkey/"+strings.Repeat("0", 40), "", "", nil)
	require.Equal(t, http.StatusNotFound, r.status)

	// The key never shows up in the request log.
	for _, q := range s.Requests() {
		require.Empty(t, q.Header.Get("X-API-Key"))
	}
	// The version header is accepted; a malformed one is a 422.
	r = do(t, s, http.MethodGet, "/cvms/"+phalatest.CentralCVMName, "", "", map[string]string{"X-Phala-Version": "2025-10-28"})
	require.Equal(t, http.StatusOK, r.status)
	r = do(t, s, http.MethodGet, "/cvms/"+phalatest.CentralCVMName, "", "", map[string]string{"X-Phala-Version": "latest"})
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
}

func TestSpecViolationsAre422(t *testing.T) {
	s := phalatest.NewTestServer(t)
	cases := []struct {
		name, method, path, ctype, body string
		hdr                             map[string]string
		loc                             []any
		typ                             string
	}{
		{"wrong type", "PATCH", "/cvms/central-app/resources", "application/json", `{"vcpu":"four"}`, nil, []any{"body", "vcpu"}, "type_error"},
		{"below minimum", "PATCH", "/cvms/central-app/resources", "application/json", `{"vcpu":0}`, nil, []any{"body", "vcpu"}, "greater_than_equal"},
		{"missing field", "PATCH", "/cvms/central-app/visibility", "application/json", `{"public_sysinfo":true}`, nil, []any{"body", "public_logs"}, "missing"},
		{"missing os image", "PATCH", "/cvms/central-app/os-image", "application/json", `{}`, nil, []any{"body", "os_image_name"}, "missing"},
		{"non-hex env", "PATCH", "/cvms/central-app/envs", "application/json", `{"encrypted_env":"zz"}`, nil, []any{"body", "encrypted_env"}, "string_pattern_mismatch"},
		{"bad header", "PATCH", "/cvms/onchain-app/docker-compose", "text/yaml", "services: {}\n", map[string]string{"X-Compose-Hash": "nothex"}, []any{"header", "X-Compose-Hash"}, ""},
		{"bad query", "GET", "/cvms/central-app/state?interval=2", "", "", nil, []any{"query", "interval"}, ""},
		{"wrong content type", "PATCH", "/cvms/central-app/docker-compose", "application/json", `{"docker_compose_file":"x"}`, nil, []any{"body"}, ""},
		{"empty compose", "PATCH", "/cvms/central-app/docker-compose", "text/yaml", "", nil, []any{"body"}, ""},
		{"shutdown timeout", "PATCH", "/cvms/central-app", "application/json", `{"shutdown_timeout":5}`, nil, []any{"body", "shutdown_timeout"}, "greater_than_equal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, tc.ctype, tc.body, tc.hdr)
			require.Equal(t, http.StatusUnprocessableEntity, r.status, "body %s", r.raw)
			detail, ok := r.body["detail"].([]any)
			require.True(t, ok && len(detail) > 0, "detail list: %s", r.raw)
			first := detail[0].(map[string]any)
			require.Equal(t, tc.loc, first["loc"], "body %s", r.raw)
			require.NotEmpty(t, first["msg"])
			if tc.typ != "" {
				require.Equal(t, tc.typ, first["type"], "body %s", r.raw)
			}
		})
	}
	for _, q := range s.Requests() {
		require.False(t, q.Applied, "%s %s: a refused request must change nothing", q.Method, q.Path)
	}
	// The Go client decodes the 422 too.
	_, err := noRetry(s).GetCVMInfo(ctxT(t), "central-app")
	require.NoError(t, err)
	r := do(t, s, "GET", "/cvms/central-app/unknown", "", "", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	r = do(t, s, "DELETE", "/cvms/central-app", "", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
}

func TestEveryOperationIsServed(t *testing.T) {
	s := phalatest.NewTestServer(t)
	for _, q := range []struct{ method, path, ctype, body string }{
		{"GET", "/cvms/central-app", "", ""},
		{"GET", "/cvms/central-app/compose_file", "", ""},
		{"GET", "/cvms/central-app/state", "", ""},
		{"GET", "/cvms/central-app/state?target=running&interval=5&timeout=10", "", ""},
	} {
		r := do(t, s, q.method, q.path, q.ctype, q.body, nil)
		require.Equal(t, http.StatusOK, r.status, "%s %s: %s", q.method, q.path, r.raw)
	}
	st, err := noRetry(s).GetCVMState(ctxT(t), "central-app")
	require.NoError(t, err)
	require.Equal(t, "running", st.Status)
}
