// Package gosdk is the module root; it holds only the go:generate line that
// turns openapi/phala-cloud.yaml into the bindings in gen/.
package gosdk

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/oapi-codegen.yaml openapi/phala-cloud.yaml
