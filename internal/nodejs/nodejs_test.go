package nodejs

import (
	"strings"
	"testing"
)

func TestInstallAndRun(t *testing.T) {
	dir := Install(t)
	out := Run(t, dir, `
const cloud = require("@phala/cloud/package.json");
const dstack = JSON.parse(require("fs").readFileSync("node_modules/@phala/dstack-sdk/package.json", "utf8"));
let input = require("fs").readFileSync(0, "utf8");
process.stdout.write(cloud.version + " " + dstack.version + " " + input.toUpperCase());
`, []byte("ok"))
	if got, want := string(out), "0.2.9 0.5.8 OK"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// A second Install reuses the folder.
	if again := Install(t); again != dir {
		t.Fatalf("second Install returned %q, want %q", again, dir)
	}
	if !strings.Contains(dir, "phala-go-sdk") {
		t.Fatalf("unexpected cache folder %q", dir)
	}
}
