package phala_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseSnippetFile reads testdata/doc_snippets.txt: sections headed
// "== Name", each the documentation page's snippet as published.
func parseSnippetFile(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("testdata/doc_snippets.txt")
	require.NoError(t, err)
	out := map[string]string{}
	var name string
	var body []string
	flush := func() {
		if name != "" {
			out[name] = strings.Join(body, "\n")
		}
	}
	for _, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if n, ok := strings.CutPrefix(line, "== "); ok {
			flush()
			name, body = n, nil
			continue
		}
		body = append(body, line)
	}
	flush()
	return out
}

// exampleBodies returns, per Example function of src, the lines of its
// body (between the braces).
func exampleBodies(t *testing.T, src string) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") {
			continue
		}
		from, to := fset.Position(fn.Body.Lbrace).Offset+1, fset.Position(fn.Body.Rbrace).Offset
		out[fn.Name.Name] = strings.Split(src[from:to], "\n")
	}
	return out
}

// holdsSnippet reports whether body holds snippet as consecutive lines,
// each indented by the same run of tabs (blank lines blank).
func holdsSnippet(body []string, snippet string) bool {
	want := strings.Split(snippet, "\n")
	for i := 0; i+len(want) <= len(body); i++ {
		first := body[i]
		indent := first[:len(first)-len(strings.TrimLeft(first, "\t"))]
		ok := true
		for j, w := range want {
			if got := body[i+j]; (w == "" && got != "") || (w != "" && got != indent+w) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestExamplesHoldDocSnippets keeps the documentation page's snippets in
// example_test.go unchanged: snippet Name stands, line for line, in the body
// of ExampleClient_Name, so since the examples compile and run, so do the
// snippets. No marker shows in the Examples pkg.go.dev renders.
func TestExamplesHoldDocSnippets(t *testing.T) {
	want := parseSnippetFile(t)
	require.Len(t, want, 9)
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	bodies := exampleBodies(t, string(src))
	for name, snippet := range want {
		body, ok := bodies["ExampleClient_"+name]
		if assert.True(t, ok, "no ExampleClient_%s for the page's snippet %s", name, name) {
			assert.True(t, holdsSnippet(body, snippet), "ExampleClient_%s does not hold the documentation's snippet:\n%s", name, snippet)
		}
	}
}

// The comparison must notice a change, or the test above proves nothing.
func TestSnippetComparisonDetectsEdits(t *testing.T) {
	src := "package x\n\nfunc ExampleA() {\n\tx := 1\n\tif x > 0 {\n\t\tfoo()\n\n\t\tbar()\n\t}\n}\n"
	body := exampleBodies(t, src)["ExampleA"]
	require.NotEmpty(t, body)
	assert.True(t, holdsSnippet(body, "foo()\n\nbar()"), "a nested snippet")
	assert.True(t, holdsSnippet(body, "if x > 0 {\n\tfoo()"), "a snippet keeps its inner indentation")
	assert.False(t, holdsSnippet(body, "foo(1)\n\nbar()"), "an edited line")
	assert.False(t, holdsSnippet(body, "foo()\nbar()"), "a dropped blank line")
	assert.False(t, holdsSnippet(body, "\tfoo()\n\n\tbar()"), "lines of another indentation")
	assert.False(t, holdsSnippet(body, "x := 1\nfoo()"), "lines that are not consecutive")
}
