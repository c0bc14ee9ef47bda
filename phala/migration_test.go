package phala

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportedNames returns every exported name the package's library files
// declare: top-level identifiers, methods, struct fields and interface
// methods.
func exportedNames(t *testing.T) map[string]bool {
	names, _ := declaredNames(t)
	return names
}

// declaredNames is exportedNames plus the values of the string constants
// declared with a literal.
func declaredNames(t *testing.T) (map[string]bool, map[string]string) {
	return declaredNamesIn(t, "*.go")
}

// declaredNamesIn is declaredNames for the library files pattern matches
// (another package of the repository, e.g. "../onchain/*.go").
func declaredNamesIn(t *testing.T, pattern string) (map[string]bool, map[string]string) {
	t.Helper()
	values := map[string]string{}
	files, err := filepath.Glob(pattern)
	require.NoError(t, err)
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				names[n.Name.Name] = true
			case *ast.TypeSpec:
				names[n.Name.Name] = true
			case *ast.ValueSpec:
				for i, id := range n.Names {
					names[id.Name] = true
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, err := strconv.Unquote(lit.Value)
							require.NoError(t, err)
							values[id.Name] = v
						}
					}
				}
			case *ast.Field:
				for _, id := range n.Names {
					names[id.Name] = true
				}
			}
			return true
		})
	}
	return names, values
}

// TestMigrationNamesExist checks that every exported Go name MIGRATION.md
// gives for this package (the second column of its tables, in backticks)
// is declared here (or, for the on-chain rows, in the onchain module), so
// that a rename cannot leave the guide behind.
func TestMigrationNamesExist(t *testing.T) {
	doc, err := os.ReadFile("../MIGRATION.md")
	require.NoError(t, err)
	names := exportedNames(t)
	onchain, _ := declaredNamesIn(t, "../onchain/*.go")
	require.NotEmpty(t, onchain, "the onchain module's files were not found")
	for n := range onchain {
		names[n] = true
	}
	code := regexp.MustCompile("`([^`]+)`")
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	// Names of other packages and of the language that the column uses.
	foreign := map[string]bool{"Is": true, "RawMessage": true, "Duration": true}
	checked := 0
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "or"), "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "official" {
			continue
		}
		here := cells[2]
		if strings.HasPrefix(strings.TrimSpace(cells[2]), "`ERR-") {
			here = cells[3] // the error-code table: official | value | here
		}
		for _, m := range code.FindAllStringSubmatch(here, -1) {
			for _, id := range ident.FindAllString(m[1], -1) {
				if id[0] < 'A' || id[0] > 'Z' || foreign[id] || strings.HasPrefix(id, "ERR") {
					continue
				}
				checked++
				assert.True(t, names[id], "MIGRATION.md names %q (in %q), which package phala does not declare", id, m[1])
			}
		}
	}
	require.Greater(t, checked, 100, "the tables were not found")
}

// TestMigrationErrorCodes checks the error-code table of MIGRATION.md
// against the Code* constants: a cell that is just a constant names one
// with the row's value; "`CodeX` has this value here" and "`CodeX` by
// name, but its value here is `ERR-..`" hold; every constant with the
// row's value is named in the row; and every Code* constant is in the
// table.
func TestMigrationErrorCodes(t *testing.T) {
	doc, err := os.ReadFile("../MIGRATION.md")
	require.NoError(t, err)
	_, values := declaredNames(t)
	byValue := map[string][]string{}
	for name, v := range values {
		if strings.HasPrefix(name, "Code") {
			byValue[v] = append(byValue[v], name)
		}
	}
	only := regexp.MustCompile("^`(Code[A-Za-z0-9]+)`$")
	hasValue := regexp.MustCompile("`(Code[A-Za-z0-9]+)` has this value here")
	byName := regexp.MustCompile("`(Code[A-Za-z0-9]+)` by name, but its value here is `(ERR-[0-9]{2}-[0-9]{3})`")
	named := regexp.MustCompile("`(Code[A-Za-z0-9]+)`")
	inTable := map[string]bool{}
	rows := 0
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`ERR-") {
			continue
		}
		rows++
		value := strings.Trim(strings.TrimSpace(cells[2]), "`")
		here := strings.TrimSpace(cells[3])
		if m := only.FindStringSubmatch(here); m != nil {
			assert.Equal(t, value, values[m[1]], "%s: %s", value, m[1])
		}
		for _, m := range hasValue.FindAllStringSubmatch(here, -1) {
			assert.Equal(t, value, values[m[1]], "%s: %s has this value", value, m[1])
		}
		for _, m := range byName.FindAllStringSubmatch(here, -1) {
			assert.Equal(t, m[2], values[m[1]], "%s: the value of %s", value, m[1])
		}
		mentioned := map[string]bool{}
		for _, m := range named.FindAllStringSubmatch(here, -1) {
			mentioned[m[1]] = true
			inTable[m[1]] = true
		}
		for _, name := range byValue[value] {
			assert.True(t, mentioned[name], "%s is %s but its row does not name it", name, value)
		}
	}
	require.Greater(t, rows, 30, "the error-code table was not found")
	for name := range values {
		if strings.HasPrefix(name, "Code") {
			assert.True(t, inTable[name], "%s is not in MIGRATION.md's error-code table", name)
		}
	}
}
