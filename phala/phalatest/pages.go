package phalatest

import (
	"net/http"
	"strings"

	"github.com/phalacloud/go-sdk/openapi"
)

// WithSpecEndpoints serves, without an API key and outside the request
// log, the published OpenAPI document and its reference page:
//
//	GET /openapi.json            openapi.SpecJSON (application/json)
//	GET /docs, /docs/, /docs/... openapi.DocsHTML (text/html), one page
func WithSpecEndpoints() Option { return func(o *options) { o.specPages = true } }

// specPage answers the WithSpecEndpoints paths.
func specPage(path string) (response, bool) {
	switch {
	case path == "/openapi.json":
		return response{status: http.StatusOK, body: openapi.SpecJSON,
			header: http.Header{"Content-Type": {"application/json"}}}, true
	case path == "/docs" || strings.HasPrefix(path, "/docs/"):
		return response{status: http.StatusOK, body: openapi.DocsHTML,
			header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}}, true
	}
	return response{}, false
}
