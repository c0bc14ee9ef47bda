package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestSpecPagesOutsideTheLog checks that specPages answers /openapi.json
// and /docs (any path under it) in front of the fake, without an API key
// and outside its request log, with a request id, and passes everything
// else on.
func TestSpecPagesOutsideTheLog(t *testing.T) {
	get := func(s *phalatest.Server, path string) *http.Response {
		resp, err := http.Get(s.RootURL() + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	s := phalatest.NewTestServer(t, phalatest.WithMiddleware(specPages))
	for _, p := range []string{"/openapi.json", "/docs", "/docs/", "/docs/a/b"} {
		resp := get(s, p)
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		require.Regexp(t, `^req_[0-9a-f]{16}$`, resp.Header.Get("X-Request-ID"), p)
	}
	require.Empty(t, s.Requests())

	require.Equal(t, http.StatusNotFound, get(s, "/docsx").StatusCode)
	require.Len(t, s.Requests(), 1, "other paths reach the fake")
}
