package phala

import (
	"bytes"
	"log/slog"
)

// secret holds a credential; every way of printing it prints a placeholder.
type secret string

func (s secret) String() string               { return redacted }
func (s secret) GoString() string             { return redacted }
func (s secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// scrub returns b with every occurrence of the secret replaced by the
// redaction placeholder (b itself when the secret is empty or absent).
func (s secret) scrub(b []byte) []byte {
	if s == "" || !bytes.Contains(b, []byte(s)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(s), []byte(redacted))
}
