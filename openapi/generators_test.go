package openapi_test

import (
	"github.com/phalacloud/go-sdk/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTypeScriptGeneratorAcceptsSpec runs openapi/tools/ts-check.sh (what
// `make spec-generators` runs): openapi-typescript on openapi/dist/phala-cloud.json,
// then tsc --strict on openapi/tools/ts-check/client.ts. It skips when Node or the
// pinned tooling (`make openapi-tools`, i.e. npm ci in openapi/tools) is absent;
// PHALA_REQUIRE_TOOLS=1 turns that skip into a failure (for CI).
func TestTypeScriptGeneratorAcceptsSpec(t *testing.T) {
	t.Parallel() // node and tsc work on their own: overlap with the browser test
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	skip := func(why string) {
		t.Helper()
		testenv.Missing(t, why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("node is not installed: TypeScript generator check not run")
	}
	for _, tool := range []string{"openapi-typescript", "tsc"} {
		if _, err := os.Stat(filepath.Join(root, "openapi/tools/node_modules/.bin", tool)); err != nil {
			skip("openapi/tools/node_modules lacks " + tool + ": run 'make openapi-tools' (npm ci) first")
		}
	}
	cmd := exec.Command("sh", "openapi/tools/ts-check.sh")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("ts-check.sh: %v", err)
	}
}
