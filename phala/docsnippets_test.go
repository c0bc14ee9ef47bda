package phala_test

import (
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

// extractExampleSnippets returns, per name, the lines between
// "// doc:begin Name" and "// doc:end" in src, with the marker's own
// indentation removed from each line.
func extractExampleSnippets(t *testing.T, src string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimLeft(lines[i], "\t")
		name, ok := strings.CutPrefix(trimmed, "// doc:begin ")
		if !ok {
			continue
		}
		indent := lines[i][:len(lines[i])-len(trimmed)]
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "// doc:end"; i++ {
			l := lines[i]
			if l != "" {
				require.True(t, strings.HasPrefix(l, indent), "line %q of %s is less indented than its marker", l, name)
				l = strings.TrimPrefix(l, indent)
			}
			body = append(body, l)
		}
		require.Less(t, i, len(lines), "doc:begin %s has no doc:end", name)
		require.NotContains(t, out, name, "snippet %s appears twice", name)
		out[name] = strings.Join(body, "\n")
	}
	return out
}

// TestExamplesHoldDocSnippets keeps the documentation page's snippets in
// example_test.go unchanged: since the examples compile and run, so do the
// snippets.
func TestExamplesHoldDocSnippets(t *testing.T) {
	want := parseSnippetFile(t)
	require.Len(t, want, 9)
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	got := extractExampleSnippets(t, string(src))
	assert.Len(t, got, len(want))
	for name, snippet := range want {
		assert.Equal(t, snippet, got[name], "example snippet %s differs from the documentation", name)
	}
}

// The extractor must notice a change, or the test above proves nothing.
func TestSnippetExtractorDetectsEdits(t *testing.T) {
	src := "func X() {\n\t// doc:begin A\n\tfoo()\n\n\tif x {\n\t\tbar()\n\t}\n\t// doc:end\n}\n"
	got := extractExampleSnippets(t, src)
	assert.Equal(t, map[string]string{"A": "foo()\n\nif x {\n\tbar()\n}"}, got)
	edited := extractExampleSnippets(t, strings.Replace(src, "foo()", "foo(1)", 1))
	assert.NotEqual(t, got, edited)
}
