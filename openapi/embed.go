// Package openapi embeds the hand-maintained OpenAPI document of the Phala
// Cloud endpoints this SDK covers, for tests and for servers that publish it.
package openapi

import _ "embed"

// Spec is openapi/phala-cloud.yaml as committed.
//
//go:embed phala-cloud.yaml
var Spec []byte

// SpecJSON is the published, self-contained bundle of Spec
// (openapi/dist/phala-cloud.json, written by `make spec`), whose info.version
// is the SDK's version. Serve it as application/json.
//
//go:embed dist/phala-cloud.json
var SpecJSON []byte

// DocsHTML is the API reference page rendered from SpecJSON
// (openapi/dist/index.html, written by `make docs`). It is self-contained: it
// loads no script, style or font from another host. Serve it as text/html.
//
//go:embed dist/index.html
var DocsHTML []byte
