package phala_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Issue 24: every error that tells the user what to do says the right
// thing, in code that compiles. Each case below provokes one such error
// from the SDK itself (no copy of its text); the test then takes from the
// message every Go snippet (phala.X(...), client.X(...), context.X())
// and compiles them all in a throw-away package (go build -overlay), and
// checks that every other identifier the message names (WithInsecureHTTP,
// PatchCVMRequest.PrepareOnly) is one of phala's (or the onchain module's)
// exported names, fields or methods, and every PHALA_ variable one of
// phala's constants. A suggestion like phala.WithKeyAnchor(phala.PinnedSigner("0x..."))
// (PinnedSigner returns two values) fails here.
//
// The messages that need a server (the env-key refusals, the 409 hint) come
// from phalatest.
func TestErrorSuggestionsCompile(t *testing.T) {
	ctx := context.Background()
	c, err := auditedClient(phala.NewClient(phala.WithAPIKey("k-test-key"), phala.WithBaseURL("http://127.0.0.1:1/api/v1"),
		phala.WithoutRetries()))
	require.NoError(t, err)
	var nilCtx context.Context
	cases := []struct {
		name string
		err  func() error
		says string // a phrase that proves the intended message came
	}{
		{"plain http base URL", func() error {
			_, err := auditedClient(phala.NewClient(phala.WithAPIKey("k-test-key"), phala.WithBaseURL("http://example.com/api/v1")))
			return err
		}, "WithInsecureHTTP"},
		{"nil ctx", func() error { _, err := audited(c.GetCVMInfo(nilCtx, "my-app")); return err }, "context.Background()"},
		{"empty commit token", func() error {
			_, err := audited(c.CommitCVMUpdate(ctx, "my-app", secretToken(""), strings.Repeat("ab", 32), "0x"+strings.Repeat("cd", 32)))
			return err
		}, "PrepareOnly"},
		{"empty pre-launch script", func() error { _, err := audited(c.UpdatePreLaunchScript(ctx, "my-app", "", nil)); return err }, "PatchCVM"},
		{"patch with nothing", func() error { _, err := audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{})); return err }, "ConfirmCVMPatch"},
		{"short encrypted env", func() error {
			_, err := audited(c.UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{EncryptedEnv: "00"}))
			return err
		}, "EncryptEnvVars"},
		{"no API key", func() error {
			t.Setenv(phala.EnvAPIKey, "")
			nokey, err := auditedClient(phala.NewClient(phala.WithBaseURL("http://127.0.0.1:1/api/v1")))
			require.NoError(t, err)
			_, err = audited(nokey.GetCVMInfo(ctx, "my-app"))
			return err
		}, "WithAPIKey"},
	}
	srv := phalatest.NewTestServer(t)
	fake := auditedFake(srv.Client(phala.WithoutRetries()))
	pinned, err := audited(phala.PinnedSigner(srv.KMSSigner()))
	require.NoError(t, err)
	cases = append(cases, []struct {
		name string
		err  func() error
		says string
	}{
		{"on-chain key without anchor", func() error {
			_, err := audited(fake.GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, nil))
			return err
		}, "PinnedSigner"},
		{"central KMS with an anchor", func() error {
			_, err := audited(auditedFake(srv.Client(phala.WithKeyAnchor(pinned))).GetEnvEncryptPublicKey(ctx, phalatest.CentralCVMName, nil))
			return err
		}, "InsecureTrustAPISigner"},
		{"on-chain CVM named by name", func() error {
			_, err := audited(fake.GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName, &phala.EnvKeyOptions{Anchor: pinned}))
			return err
		}, "EnvKeyOptions.AppID"},
		{"anchor and expected signer", func() error {
			_, err := audited(fake.GetEnvEncryptPublicKey(ctx, phalatest.OnChainCVMName,
				&phala.EnvKeyOptions{Anchor: pinned, ExpectedSigner: srv.KMSSigner()}))
			return err
		}, "ExpectedSigner"},
		{"409 without a code", func() error {
			srv.HoldUpdates()
			defer srv.ReleaseUpdates()
			_, err := audited(fake.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  a:\n    image: nginx:1\n", nil))
			require.NoError(t, err)
			_, err = audited(fake.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  b:\n    image: nginx:1\n", nil))
			return err
		}, "WaitForCVM"},
	}...)
	waits := []struct {
		name   string
		result phala.Waitable
		says   string
	}{
		{"WithUpdateResult forgotten", &phala.UpdateResult{}, "WithUpdateResult"},
		{"nil result", nil, "WithUpdateResult"},
		{"on-chain phase 1", &phala.UpdateResult{RequiresOnChainHash: true}, "ComposeHash"},
		{"patch phase 1", &phala.PatchCVMResponse{RequiresOnChainHash: true}, "ConfirmCVMPatch"},
		{"accepted without id", &phala.UpdateResult{Status: phala.StatusInProgress}, "WaitForCVM"},
	}
	for _, w := range waits {
		cases = append(cases, struct {
			name string
			err  func() error
			says string
		}{"WaitForUpdate: " + w.name, func() error { _, err := audited(c.WaitForUpdate(ctx, "my-app", w.result, nil)); return err }, w.says})
	}

	names := exportedNames(t)
	var funcs []string
	for i, tc := range cases {
		err := tc.err()
		require.Error(t, err, tc.name)
		msg := err.Error()
		require.Contains(t, msg, tc.says, "%s: not the expected message", tc.name)
		snippets, rest := splitSnippets(msg)
		for _, id := range identifiers(rest) {
			assert.True(t, names[id], "%s: the message names %s, which phala does not export:\n%s", tc.name, id, msg)
		}
		for _, v := range envVarRE.FindAllString(rest, -1) {
			assert.True(t, names[`"`+v+`"`], "%s: the message names %s, which no phala constant holds:\n%s", tc.name, v, msg)
		}
		var body strings.Builder
		for _, s := range snippets {
			if strings.HasSuffix(s, ")") {
				fmt.Fprintf(&body, "\t%s\n", s)
			} else {
				fmt.Fprintf(&body, "\t_ = %s\n", s)
			}
		}
		funcs = append(funcs, fmt.Sprintf("// %s: %s\nfunc _%d(ctx context.Context, client *phala.Client, cvmID string, res phala.UpdateResult) {\n%s}\n",
			tc.name, strings.ReplaceAll(msg, "\n", " "), i, body.String()))
	}
	compileSnippets(t, funcs)
}

// snippetRE finds the start of a Go snippet in a message.
var snippetRE = regexp.MustCompile(`\b(phala|client|context)\.[A-Z][A-Za-z0-9]*`)

// selectorRE matches a selector continuing a snippet.
var selectorRE = regexp.MustCompile(`^\.[A-Z][A-Za-z0-9]*`)

// splitSnippets takes the Go snippets out of msg: a qualified name with
// the balanced (...) or {...} and the selectors that follow it. It returns
// them and the message without them.
func splitSnippets(msg string) (snippets []string, rest string) {
	var b strings.Builder
	last := 0
	for _, m := range snippetRE.FindAllStringIndex(msg, -1) {
		if m[0] < last {
			continue
		}
		end := m[1]
		for end < len(msg) {
			if msg[end] == '(' || msg[end] == '{' {
				end = balanced(msg, end)
			} else if sel := selectorRE.FindString(msg[end:]); sel != "" { // a chain: .Method(...)
				end += len(sel)
			} else {
				break
			}
		}
		b.WriteString(msg[last:m[0]])
		snippets = append(snippets, msg[m[0]:end])
		last = end
	}
	b.WriteString(msg[last:])
	return snippets, b.String()
}

// balanced returns the index after the bracket that closes msg[i]
// (len(msg) when none does), skipping quoted strings.
func balanced(msg string, i int) int {
	depth, inStr := 0, false
	for j := i; j < len(msg); j++ {
		switch ch := msg[j]; {
		case inStr && ch == '\\':
			j++
		case ch == '"':
			inStr = !inStr
		case inStr:
		case ch == '(' || ch == '{':
			depth++
		case ch == ')' || ch == '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(msg)
}

// identRE matches a capitalised word, optionally Type.Member; identifiers
// keeps those shaped like Go names: a lower-case letter (so not CVM or
// KMS) and a second capital or a selector (so not "Another" starting the
// server's sentence), such as WithAPIKey, PatchCVM or EnvKeyOptions.KMS.
var identRE = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)?\b`)

func identifiers(s string) []string {
	var out []string
	for _, w := range identRE.FindAllString(s, -1) {
		upper := 0
		for _, r := range w {
			if r >= 'A' && r <= 'Z' {
				upper++
			}
		}
		if strings.ToUpper(w) != w && (strings.Contains(w, ".") || upper >= 2) {
			out = append(out, w)
		}
	}
	return out
}

// envVarRE matches an environment variable a message tells the user to set.
var envVarRE = regexp.MustCompile(`\bPHALA_[A-Z0-9_]+\b`)

// exportedNames lists phala's exported names (and the onchain module's,
// which messages name too, as "the onchain module's NewKMSAnchor") from
// their source: top-level
// names, for every type T with a field or method M both "M" and "T.M" (a
// message names Client methods bare, as "PatchCVM"), and the values of
// string constants, quoted (a message names PHALA_CLOUD_API_KEY).
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	onchain, err := filepath.Glob("../onchain/*.go")
	require.NoError(t, err)
	files = append(files, onchain...)
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range af.Decls {
			addDecl(names, d)
		}
	}
	return names
}

func addDecl(names map[string]bool, d ast.Decl) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			names[d.Name.Name] = true
			return
		}
		typ := d.Recv.List[0].Type
		if st, ok := typ.(*ast.StarExpr); ok {
			typ = st.X
		}
		if id, ok := typ.(*ast.Ident); ok && d.Name.IsExported() {
			names[d.Name.Name], names[id.Name+"."+d.Name.Name] = true, true
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				names[s.Name.Name] = true
				if st, ok := s.Type.(*ast.StructType); ok {
					for _, f := range st.Fields.List {
						for _, n := range f.Names {
							names[n.Name], names[s.Name.Name+"."+n.Name] = true, true
						}
					}
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					names[n.Name] = true
				}
				for _, v := range s.Values { // string constants by value, quoted
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						names[lit.Value] = true
					}
				}
			}
		}
	}
}

// compileSnippets builds the functions as a package that exists only in
// an overlay, so nothing is written into the module.
func compileSnippets(t *testing.T, funcs []string) {
	t.Helper()
	src := "package snippetcheck\n\nimport (\n\t\"context\"\n\n\t\"github.com/phalacloud/go-sdk/phala\"\n)\n\n" +
		"var _ = context.Background\n\n" + strings.Join(funcs, "\n")
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	file := filepath.Join(dir, "snippets.go")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
	overlay := filepath.Join(dir, "overlay.json")
	target := filepath.Join(root, "internal", "snippetcheck", "snippets.go")
	require.NoError(t, os.WriteFile(overlay, fmt.Appendf(nil, `{"Replace":{%q:%q}}`, target, file), 0o600))
	cmd := exec.Command("go", "build", "-o", os.DevNull, "-overlay", overlay, "./internal/snippetcheck")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "a suggested snippet does not compile:\n%s\nthe snippets:\n%s", out, src)
}

// Issue 24 point 2, as a user meets it: UpdateCVMResources called without
// WithUpdateResult leaves the UpdateResult empty, and WaitForUpdate's
// error names the option, not the on-chain flow.
func TestWaitForUpdateAfterForgettingWithUpdateResult(t *testing.T) {
	srv := phalatest.NewTestServer(t)
	client := auditedFake(srv.Client())
	ctx := context.Background()
	var res phala.UpdateResult
	require.NoError(t, auditedErr(client.UpdateCVMResources(ctx, phalatest.CentralCVMName, &phala.UpdateResourcesRequest{VCPU: phala.Int(4)})))
	_, err := audited(client.WaitForUpdate(ctx, phalatest.CentralCVMName, &res, nil))
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "pass phala.WithUpdateResult(ctx, &res) as their context")
	assert.NotContains(t, err.Error(), "on-chain")
}
