// Package readmecheck_test keeps the README's quick starts honest: each Go
// block that is a whole program (package main) is built as it stands, and
// the one that needs no account (phalatest) is run.
package readmecheck_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

func TestREADMEQuickStartsBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the README's programs; without -short")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	var programs []string
	for _, m := range goBlock.FindAllStringSubmatch(string(readme), -1) {
		if strings.HasPrefix(m[1], "package main\n") {
			programs = append(programs, m[1])
		}
	}
	require.Len(t, programs, 2, "the README has two quick starts: the cloud and phalatest")
	for i, src := range programs {
		t.Run(fmt.Sprint("quickstart", i), func(t *testing.T) {
			// The program exists only in an overlay: nothing is written
			// into the module.
			dir := t.TempDir()
			file := filepath.Join(dir, "main.go")
			require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
			pkg := fmt.Sprintf("./internal/readmecheck/quickstart%d", i)
			target := filepath.Join(root, pkg, "main.go")
			overlay := filepath.Join(dir, "overlay.json")
			require.NoError(t, os.WriteFile(overlay, fmt.Appendf(nil, `{"Replace":{%q:%q}}`, target, file), 0o600))
			args := []string{"build", "-o", os.DevNull, "-overlay", overlay, pkg}
			runs := strings.Contains(src, "phalatest.NewServer()")
			if runs {
				args = []string{"run", "-overlay", overlay, pkg}
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "PHALA_CLOUD_API_KEY=")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "README program %d:\n%s\n%s", i, out, src)
			if runs {
				require.Regexp(t, `: 4 vCPU, 8192 MB, running\n$`, string(out))
			}
		})
	}
}
