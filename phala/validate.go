package phala

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxComposeSize is the largest compose file plus pre-launch script the API
// takes: 200 KiB.
const MaxComposeSize = 200 << 10

var (
	composeHashRE = regexp.MustCompile(`^(0x)?[0-9a-fA-F]{64}$`)
	txHashRE      = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)
	hex40RE       = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	// uuidV4RE is the UUID pattern of the official SDKs' id normalisation:
	// version nibble 4, variant 8-b, each dash optional, any case.
	uuidV4RE = regexp.MustCompile(`^(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$`)
)

// checkCVMID refuses ids that cannot name a CVM and returns the id to send,
// normalised exactly as the official SDKs do (the official Go SDK's
// ResolveCVMID in go/helpers.go and @phala/cloud 0.2.9's CvmIdSchema in
// dist/index.js): a UUID v4, with or without dashes, loses its dashes; a
// bare 40-hex app id gets the "app_" prefix, its case kept; anything else
// (hashed id, app_/instance_ id, integer id, name) goes as it is.
//
// Refused, with ErrInvalidArgument naming "cvmID" and nothing sent: the
// empty id, one over 256 bytes, a dot segment (URL resolution would drop
// it and reach another endpoint), white space, control characters (NUL
// included), invalid UTF-8, and "/", which no id form contains and which
// proxies may decode from %2F into a path separator.
func checkCVMID(id string) (string, error) {
	switch {
	case id == "":
		return "", invalidArg("cvmID", "is empty")
	case len(id) > 256:
		return "", invalidArg("cvmID", "is longer than 256 bytes")
	case !utf8.ValidString(id):
		return "", invalidArg("cvmID", "is not valid UTF-8")
	case strings.Trim(id, ".") == "":
		return "", invalidArg("cvmID", "is a dot segment")
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "", invalidArg("cvmID", "contains white space or control characters")
	case strings.Contains(id, "/"):
		return "", invalidArg("cvmID", "contains '/', which no CVM id form has")
	}
	switch {
	case uuidV4RE.MatchString(id):
		return strings.ReplaceAll(id, "-", ""), nil
	case hex40RE.MatchString(id):
		return "app_" + id, nil
	}
	return id, nil
}

func checkComposeHash(field, h string) error {
	if !composeHashRE.MatchString(h) {
		return invalidArg(field, "want 64 hex characters, optionally after 0x")
	}
	return nil
}

func checkTxHash(field, h string) error {
	if !txHashRE.MatchString(h) {
		return invalidArg(field, "want 0x followed by 64 hex characters")
	}
	return nil
}

// checkPhase2 validates the optional phase-2 pair; both or neither.
func checkPhase2(prefix, composeHash, txHash string) error {
	if composeHash == "" && txHash == "" {
		return nil
	}
	if composeHash == "" || txHash == "" {
		return invalidArg(prefix+"ComposeHash/TransactionHash", "give both or neither")
	}
	if err := checkComposeHash(prefix+"ComposeHash", composeHash); err != nil {
		return err
	}
	return checkTxHash(prefix+"TransactionHash", txHash)
}

// MinEncryptedEnvBytes is the shortest possible EncryptEnvVars output, in
// bytes: the ephemeral X25519 key (32), the AES-GCM IV (12) and the tag
// (16) around an empty plaintext. A shorter EncryptedEnv (under 120 hex
// characters) cannot be a ciphertext and is refused before sending.
const MinEncryptedEnvBytes = 32 + 12 + 16

// maxExactInt is 2^53: larger integers do not survive the API's JSON
// numbers (IEEE-754 doubles in JavaScript and Python's json with floats)
// exactly.
const maxExactInt = 1 << 53

// checkEncryptedEnv refuses what cannot be EncryptEnvVars output.
func checkEncryptedEnv(field, s string) error {
	if err := checkHexBlob(field, s); err != nil {
		return err
	}
	if len(s)/2 < MinEncryptedEnvBytes {
		return invalidArg(field, "is %d bytes, shorter than any ciphertext (%d: key, IV and tag); pass EncryptEnvVars's output", len(s)/2, MinEncryptedEnvBytes)
	}
	return nil
}

// checkText refuses text the API cannot store as sent: a NUL byte, or
// bytes that are not UTF-8 (encoding/json would silently turn them into
// U+FFFD, so the CVM would get another compose file or script than the
// caller's, and another compose hash).
func checkText(field, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return invalidArg(field, "contains a NUL byte (at byte %d)", i)
	}
	if !utf8.ValidString(s) {
		return invalidArg(field, "is not valid UTF-8")
	}
	return nil
}

// checkContent refuses empty or blank content and checkText's problems;
// it is for a compose file, a script, an instance type or an OS image name.
func checkContent(field, s string) error {
	if strings.TrimSpace(s) == "" {
		if s == "" {
			return invalidArg(field, "is empty")
		}
		return invalidArg(field, "is only white space")
	}
	return checkText(field, s)
}

// checkOptionalContent is checkContent for a pointer field, nil allowed.
func checkOptionalContent(field string, s *string) error {
	if s == nil {
		return nil
	}
	return checkContent(field, *s)
}

// checkSetHash refuses a phase-2 pointer that is set to "": the caller
// meant to leave it out (nil), and the SDK would otherwise send an empty
// X-Compose-Hash header.
func checkSetHash(field string, s *string) error {
	if s != nil && *s == "" {
		return invalidArg(field, "is set but empty; leave it nil when there is no phase 2")
	}
	return nil
}

// intField is one integer field of a request, in declaration order, so
// that the first bad field is the same on every run.
type intField struct {
	name string
	v    *int
}

func checkPositiveFields(fields ...intField) error {
	for _, f := range fields {
		if err := checkPositive(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// checkHexBlob accepts a non-empty even-length string of hex digits
// (0-9, a-f, A-F).
func checkHexBlob(field, s string) error {
	if s == "" {
		return invalidArg(field, "is empty")
	}
	notHex := func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') }
	if len(s)%2 != 0 || strings.IndexFunc(s, notHex) >= 0 {
		return invalidArg(field, "is not hex (an even number of 0-9a-f characters)")
	}
	return nil
}

// checkEnvKeys accepts keys that match [A-Za-z_][A-Za-z0-9_]*, at most
// MaxEnvKeyBytes long, each once.
func checkEnvKeys(field string, keys []string) error {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if len(k) > MaxEnvKeyBytes {
			return invalidArg(field, "a key is %d bytes long, the limit is %d", len(k), MaxEnvKeyBytes)
		}
		if !validEnvKey(k) {
			return invalidArg(field, "key %q does not match [A-Za-z_][A-Za-z0-9_]*", k)
		}
		if seen[k] {
			return invalidArg(field, "key %q is listed twice", k)
		}
		seen[k] = true
	}
	return nil
}

func checkPositive(field string, v *int) error {
	if v != nil && *v <= 0 {
		return invalidArg(field, "must be positive, got %d", *v)
	}
	if v != nil && int64(*v) > maxExactInt {
		return invalidArg(field, "is above 2^53, which the API's JSON numbers do not hold exactly")
	}
	return nil
}

func checkComposeSize(field string, parts ...*string) error {
	n := 0
	for _, p := range parts {
		if p != nil {
			n += len(*p)
		}
	}
	if n > MaxComposeSize {
		return invalidArg(field, "compose file plus pre-launch script is %d bytes, over the 200 KiB limit", n)
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
