//go:build tools

// This file pins the code generator's version in go.mod; it is never built.
package tools

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
