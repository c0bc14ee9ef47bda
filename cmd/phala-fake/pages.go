package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/phalacloud/go-sdk/openapi"
)

// specPages serves, in front of the fake (phalatest.WithMiddleware),
// without an API key and outside its request log, the published OpenAPI
// document and its reference page:
//
//	GET /openapi.json            openapi.SpecJSON (application/json)
//	GET /docs, /docs/, /docs/... openapi.DocsHTML (text/html), one page
//
// Everything else, and every other method on these paths, goes to next.
// The pages live here rather than in phalatest so that a test binary that
// imports phalatest does not carry the 2.6 MB page.
func specPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		var ctype string
		switch p := r.URL.Path; {
		case p == "/openapi.json":
			body, ctype = openapi.SpecJSON, "application/json"
		case p == "/docs" || strings.HasPrefix(p, "/docs/"):
			body, ctype = openapi.DocsHTML, "text/html; charset=utf-8"
		default:
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("X-Request-ID", newRequestID())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// newRequestID makes an id in the fake's form, req_ and 16 hex digits.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}
