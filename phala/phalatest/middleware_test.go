package phalatest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestNoSpecPages checks that the fake itself serves neither the OpenAPI
// document nor its reference page (cmd/phala-fake adds them), and that no
// library file of the package names openapi.DocsHTML or openapi.SpecJSON,
// so that a binary importing phalatest does not carry the 2.6 MB page.
func TestNoSpecPages(t *testing.T) {
	s := phalatest.NewTestServer(t)
	for _, p := range []string{"/openapi.json", "/docs", "/docs/"} {
		status, _ := get(t, s.RootURL()+p)
		require.Equal(t, http.StatusNotFound, status, p)
	}

	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "openapi" && (sel.Sel.Name == "DocsHTML" || sel.Sel.Name == "SpecJSON") {
					t.Errorf("%s: uses openapi.%s", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	require.NotZero(t, checked)
}

// TestWithMiddleware checks that the wrappers see requests first (the last
// option outermost), that what they answer stays out of the request log,
// and that what they pass on reaches the fake.
func TestWithMiddleware(t *testing.T) {
	var order []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				if r.URL.Path == "/"+name {
					_, _ = io.WriteString(w, name)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	s := phalatest.NewTestServer(t, phalatest.WithMiddleware(mw("inner")), phalatest.WithMiddleware(nil), phalatest.WithMiddleware(mw("outer")))

	status, body := get(t, s.RootURL()+"/inner")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "inner", body)
	require.Equal(t, []string{"outer", "inner"}, order)
	require.Empty(t, s.Requests())

	order = nil
	status, _ = get(t, s.URL()+"/cvms/"+phalatest.CentralCVMName)
	require.Equal(t, http.StatusUnauthorized, status, "passed on to the fake, which wants an API key")
	require.Equal(t, []string{"outer", "inner"}, order)
	require.Len(t, s.Requests(), 1)
}
