package phalatest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// controlCall sends one request to a /_fake/ endpoint and decodes the
// JSON answer into out.
func controlCall(t *testing.T, s *phalatest.Server, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.RootURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotEmpty(t, resp.Header.Get("X-Request-ID"), "%s %s carries a request id", method, path)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", method, path)
	require.NoError(t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	return resp.StatusCode
}

// TestControlEndpoints walks every /_fake/ route, and checks that an
// unknown path, an unknown CVM or another method answers the JSON 404.
func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	s := phalatest.NewTestServer(t, phalatest.WithControlEndpoints(), phalatest.WithUpdateDelay(0))
	_, oc := seeds(t, s)
	hash := strings.Repeat("ab", 32)

	var tx map[string]string
	require.Equal(t, http.StatusOK, controlCall(t, s, "POST", "/_fake/register-compose-hash",
		`{"cvm_id":"`+oc.ID+`","compose_hash":"`+hash+`"}`, &tx))
	assert.Equal(t, tx["transaction_hash"], s.RegisterComposeHash(oc.ID, hash), "the same hash gives the same transaction")
	var detail map[string]any
	assert.Equal(t, http.StatusBadRequest, controlCall(t, s, "POST", "/_fake/register-compose-hash", `{`, &detail))
	assert.Equal(t, http.StatusBadRequest, controlCall(t, s, "POST", "/_fake/register-compose-hash", `{"cvm_id":"nope","compose_hash":"`+hash+`"}`, &detail))

	for _, miss := range [][2]string{
		{"GET", "/_fake/register-compose-hash"}, {"POST", "/_fake/cvms"}, {"GET", "/_fake/nothing"},
		{"GET", "/_fake/envs/nope"}, {"GET", "/_fake/applied/nope"}, {"GET", "/_fake/compose/nope"},
		{"DELETE", "/_fake/violations"},
	} {
		detail = nil
		assert.Equal(t, http.StatusNotFound, controlCall(t, s, miss[0], miss[1], "", &detail), "%s %s", miss[0], miss[1])
		assert.Equal(t, "unknown CVM or endpoint", detail["detail"], "%s %s", miss[0], miss[1])
	}

	var env map[string]string
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/envs/"+oc.ID, "", &env))
	assert.Equal(t, s.Envs(oc.ID), env)
	var applied []phalatest.AppliedChange
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/applied/"+oc.ID, "", &applied))
	assert.Empty(t, applied)
	var compose struct {
		AppCompose  map[string]any `json:"app_compose"`
		ComposeHash string         `json:"compose_hash"`
	}
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/compose/"+oc.ID, "", &compose))
	_, wantHash, _ := s.AppCompose(oc.ID)
	assert.Equal(t, wantHash, compose.ComposeHash)
	var cvms []phalatest.CVMSeed
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/cvms", "", &cvms))
	require.Len(t, cvms, len(s.CVMIDs()))
	for _, c := range cvms {
		assert.Nil(t, c.Env, "env values stay out of the listing")
	}
	var reqs []map[string]any
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/requests", "", &reqs))
	assert.NotNil(t, reqs)
	var viol []string
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/violations", "", &viol))
	assert.Equal(t, []string{}, viol)
	var signer map[string]string
	require.Equal(t, http.StatusOK, controlCall(t, s, "GET", "/_fake/kms-signer", "", &signer))
	assert.Equal(t, s.KMSSigner(), signer["signer"])
}

// TestControlEndpointsNeedTheOption: without WithControlEndpoints, /_fake/
// is no route of the API.
func TestControlEndpointsNeedTheOption(t *testing.T) {
	t.Parallel()
	s := phalatest.NewTestServer(t)
	var detail map[string]any
	assert.Equal(t, http.StatusNotFound, controlCall(t, s, "GET", "/_fake/cvms", "", &detail))
	assert.Equal(t, "Not Found", detail["detail"])
}

// TestControlAttestation: PUT /_fake/attestation/{cvmId} sets what GET
// /cvms/{id}/attestation answers, DELETE restores the recorded sample.
func TestControlAttestation(t *testing.T) {
	t.Parallel()
	s := phalatest.NewTestServer(t, phalatest.WithControlEndpoints())
	var ok map[string]any
	require.Equal(t, http.StatusOK, controlCall(t, s, http.MethodPut, "/_fake/attestation/"+phalatest.CentralCVMName,
		`{"is_online": false, "error": "stopped"}`, &ok))
	a, err := s.Client().GetCVMAttestation(t.Context(), phalatest.CentralCVMName)
	require.NoError(t, err)
	assert.False(t, a.IsOnline)
	assert.Equal(t, "stopped", a.Error)
	require.Equal(t, http.StatusOK, controlCall(t, s, http.MethodDelete, "/_fake/attestation/"+phalatest.CentralCVMName, "", &ok))
	a, err = s.Client().GetCVMAttestation(t.Context(), phalatest.CentralCVMName)
	require.NoError(t, err)
	assert.True(t, a.IsOnline)
	var nf map[string]any
	assert.Equal(t, http.StatusNotFound, controlCall(t, s, http.MethodPut, "/_fake/attestation/no-such-cvm", `{}`, &nf))
	assert.Equal(t, http.StatusBadRequest, controlCall(t, s, http.MethodPut, "/_fake/attestation/"+phalatest.CentralCVMName, `not json`, &nf))
}
