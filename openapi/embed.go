// Package openapi embeds the hand-maintained OpenAPI document of the Phala
// Cloud endpoints this SDK covers, for tests and for servers that publish it.
package openapi

import _ "embed"

// Spec is openapi/phala-cloud.yaml as committed.
//
//go:embed phala-cloud.yaml
var Spec []byte
