package phalatest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestSpecEndpointsAreOptIn checks that /openapi.json and /docs are served
// (without an API key, outside the request log) only with
// WithSpecEndpoints.
func TestSpecEndpointsAreOptIn(t *testing.T) {
	get := func(s *phalatest.Server, path string) int {
		resp, err := http.Get(s.RootURL() + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	plain := phalatest.NewTestServer(t)
	require.Equal(t, http.StatusNotFound, get(plain, "/openapi.json"))
	require.Equal(t, http.StatusNotFound, get(plain, "/docs"))

	s := phalatest.NewTestServer(t, phalatest.WithSpecEndpoints())
	for _, p := range []string{"/openapi.json", "/docs", "/docs/", "/docs/a/b"} {
		require.Equal(t, http.StatusOK, get(s, p), p)
	}
	require.Empty(t, s.Requests())
}
