package phala

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The secret type redacts itself however it is printed, logged or encoded.
func TestSecretRedacts(t *testing.T) {
	s := secret("phk_live_abcdef")
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&b, verb+"\n", s)
	}
	slog.New(slog.NewTextHandler(&b, nil)).Info("k", "key", s)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("k", "key", s)
	j, err := json.Marshal(map[string]secret{"key": s})
	if err != nil {
		t.Fatal(err)
	}
	b.Write(j)
	out := b.String()
	if strings.Contains(out, "abcdef") {
		t.Errorf("the secret leaked:\n%s", out)
	}
	if strings.Count(out, redacted) < 8 {
		t.Errorf("want [REDACTED] in every form, got:\n%s", out)
	}
	if string(s) != "phk_live_abcdef" {
		t.Errorf("the value itself must be kept for the header")
	}
}
