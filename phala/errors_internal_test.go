package phala

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every exported sentinel error is a constant: a var (errors.New, or an
// *APIError whose fields anyone could set) could be reassigned or changed
// by any importer, silently breaking every errors.Is in the program.
func TestSentinelsAreConstants(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	consts := 0
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || (g.Tok != token.VAR && g.Tok != token.CONST) {
				continue
			}
			for _, s := range g.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					if !strings.HasPrefix(id.Name, "Err") || !id.IsExported() {
						continue
					}
					assert.Equal(t, token.CONST, g.Tok, "%s (%s) is a var", id.Name, name)
					consts++
				}
			}
		}
	}
	assert.Greater(t, consts, 20, "the sentinels were not found")
	// The status sentinels still match every answer of their status, and
	// an *APIError target still compares the code.
	e := &APIError{StatusCode: 404, Code: CodeCVMNotFound}
	assert.ErrorIs(t, e, ErrNotFound)
	assert.NotErrorIs(t, e, ErrConflict)
	assert.ErrorIs(t, e, &APIError{StatusCode: 404, Code: CodeCVMNotFound})
	assert.NotErrorIs(t, e, &APIError{StatusCode: 404, Code: CodeNodeNotFound})
	assert.True(t, errors.Is(&InvalidArgumentError{Field: "x"}, ErrInvalidArgument))
	assert.Equal(t, "phala: HTTP 404", ErrNotFound.Error())
}
