// Package gosdk is the module root; it holds only the go:generate line that
// turns openapi/phala-cloud.yaml into the bindings in gen/.
package gosdk

//go:generate go tool oapi-codegen -config gen/oapi-codegen.yaml openapi/phala-cloud.yaml
