package phala

import (
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/phalacloud/go-sdk/internal/jsjson"
)

// Limits the dstack guest applies to an environment variable set; values
// beyond them are refused before encryption.
const (
	// MaxEnvKeyBytes is the longest accepted key, in bytes.
	MaxEnvKeyBytes = 255
	// MaxEnvValueBytes is the longest accepted value, in bytes (128 KiB).
	MaxEnvValueBytes = 128 << 10
	// MaxEnvVars is the largest accepted number of variables.
	MaxEnvVars = 1024
	// MaxEnvTotalBytes bounds the sum of all key and value lengths, in
	// bytes (1 MiB).
	MaxEnvTotalBytes = 1 << 20
)

const redacted = "[REDACTED]"

// EnvVar is one environment variable for a CVM. Value is a secret: the
// String, GoString, Format, LogValue and MarshalJSON methods print the key
// only, so fmt verbs (%v, %+v, %#v, %s, %d, ...), log/slog and
// encoding/json never reveal it.
type EnvVar struct {
	// Key must match ^[A-Za-z_][A-Za-z0-9_]*$ and be at most
	// MaxEnvKeyBytes long.
	Key string
	// Value is any valid UTF-8 text of at most MaxEnvValueBytes bytes.
	Value string
}

// String returns "KEY=[REDACTED]".
func (e EnvVar) String() string { return e.Key + "=" + redacted }

// GoString returns a Go-syntax form with the value redacted.
func (e EnvVar) GoString() string {
	return "phala.EnvVar{Key:" + strconv.Quote(e.Key) + ", Value:\"" + redacted + "\"}"
}

// Format implements fmt.Formatter so that no verb prints the value.
func (e EnvVar) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(e.GoString()))
		return
	}
	_, _ = f.Write([]byte(e.String()))
}

// LogValue implements slog.LogValuer: a group with the key and a redacted
// value.
func (e EnvVar) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", e.Key), slog.String("value", redacted))
}

// MarshalJSON writes {"key":KEY,"value":"[REDACTED]"} so that loggers and
// debug dumps that fall back to encoding/json (slog's JSON handler does for
// slices) do not reveal the value. EnvVar is not meant to be stored as
// JSON: EncryptEnvVars builds the real plaintext itself.
func (e EnvVar) MarshalJSON() ([]byte, error) {
	b := append([]byte(`{"key":`), jsjson.AppendString(nil, e.Key)...)
	return append(b, `,"value":"`+redacted+`"}`...), nil
}

// EnvKeys returns the keys of envs in order, e.g. for the env_keys field
// of update requests. It does not validate them.
func EnvKeys(envs []EnvVar) []string {
	keys := make([]string, len(envs))
	for i, e := range envs {
		keys[i] = e.Key
	}
	return keys
}

// validEnvKey reports whether k matches ^[A-Za-z_][A-Za-z0-9_]*$.
func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// validateEnvVars applies every rule of EncryptEnvVars. Messages name the
// entry by index and key (keys are not secret), never by value.
func validateEnvVars(envs []EnvVar) error {
	if len(envs) == 0 {
		return invalidArg("envs", "the set is empty; an update replaces the whole set, so at least one variable is required")
	}
	if len(envs) > MaxEnvVars {
		return invalidArg("envs", "%d variables exceed the limit of %d", len(envs), MaxEnvVars)
	}
	seen := make(map[string]int, len(envs))
	total := 0
	for i, e := range envs {
		if len(e.Key) > MaxEnvKeyBytes {
			return invalidArg(envField(i, "Key"), "key is %d bytes long, the limit is %d", len(e.Key), MaxEnvKeyBytes)
		}
		if !validEnvKey(e.Key) {
			return invalidArg(envField(i, "Key"), "key %q does not match ^[A-Za-z_][A-Za-z0-9_]*$", e.Key)
		}
		if j, dup := seen[e.Key]; dup {
			return invalidArg(envField(i, "Key"), "key %q repeats envs[%d]", e.Key, j)
		}
		seen[e.Key] = i
		if len(e.Value) > MaxEnvValueBytes {
			return invalidArg(envField(i, "Value"), "value of %q is %d bytes long, the limit is %d", e.Key, len(e.Value), MaxEnvValueBytes)
		}
		if !utf8.ValidString(e.Value) {
			return invalidArg(envField(i, "Value"), "value of %q is not valid UTF-8", e.Key)
		}
		total += len(e.Key) + len(e.Value)
	}
	if total > MaxEnvTotalBytes {
		return invalidArg("envs", "keys and values total %d bytes, the limit is %d", total, MaxEnvTotalBytes)
	}
	return nil
}

func envField(i int, name string) string { return "envs[" + strconv.Itoa(i) + "]." + name }

// envPlaintext is JSON.stringify({env: envs}) for validated envs.
func envPlaintext(envs []EnvVar) []byte {
	n := 10
	for _, e := range envs {
		n += len(e.Key) + len(e.Value) + 24
	}
	b := make([]byte, 0, n)
	b = append(b, `{"env":[`...)
	for i, e := range envs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = jsjson.AppendString(b, e.Key)
		b = append(b, `,"value":`...)
		b = jsjson.AppendString(b, e.Value)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
