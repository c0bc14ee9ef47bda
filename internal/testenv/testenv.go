// Package testenv decides what a test does when an outside tool it needs
// (node, npm, chromium, the shared reference files) is missing: skip with
// the reason on a developer's machine, fail in CI, where .ci/run sets
// PHALA_REQUIRE_TOOLS=1 so that a missing install step cannot pass as a
// green run.
package testenv

import (
	"os"
	"testing"
)

// RequireToolsEnv is the variable that turns skips into failures.
const RequireToolsEnv = "PHALA_REQUIRE_TOOLS"

// Required reports whether missing tools must fail the tests.
func Required() bool { return os.Getenv(RequireToolsEnv) == "1" }

// Missing skips t with reason, or fails it when tools are required.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1: required here)", reason, RequireToolsEnv)
	}
	t.Skip(reason)
}
