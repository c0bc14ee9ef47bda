package phala

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The table-driven checks must accept exactly what the regular expressions
// they replaced accepted.
var (
	refEnvKeyRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	refHexBlobRE = regexp.MustCompile(`^(?:[0-9a-fA-F]{2})+$`)
)

func validateInputs() []string {
	in := []string{"", "A", "_", "a1", "1a", "_9", "FOO_BAR", "FOO-BAR", "FOO BAR", "FOO\n", "\nFOO", "é", "Aé",
		"A\x00", "\xff", "0f", "0F", "0g", "abc", "abcd", "ABCDEF0123456789", "١٢", "ａｂ", "0\u0660", "00\u200b"}
	for c := 0; c < 256; c++ {
		in = append(in, string(rune(c)), "A"+string(rune(c)), "0"+string(rune(c)), string([]byte{byte(c)}), "A"+string([]byte{byte(c), 'B'}))
	}
	for _, r := range []rune{unicode.MaxRune, 0x80, 0x7ff, 0x800, 0xffff, 0x10000} {
		in = append(in, string(r), "A"+string(r))
	}
	return in
}

func TestCheckEnvKeysMatchesRegexp(t *testing.T) {
	for _, k := range validateInputs() {
		err := checkEnvKeys("f", []string{k})
		assert.Equal(t, refEnvKeyRE.MatchString(k), err == nil, "key %q", k)
		if err != nil {
			assert.True(t, errors.Is(err, ErrInvalidArgument))
		}
	}
}

func TestCheckHexBlobMatchesRegexp(t *testing.T) {
	in := append(validateInputs(), strings.Repeat("0f", 1409), strings.Repeat("0f", 1409)+"é")
	for i := range 40 { // a bad byte at each place of an unrolled step and of the tail
		for _, bad := range []string{"g", "G", " ", "\x00", "\xff"} {
			b := []byte(strings.Repeat("a1", 20))
			b[i] = bad[0]
			in = append(in, string(b))
		}
	}
	for _, s := range in {
		err := checkHexBlob("f", s)
		assert.Equal(t, refHexBlobRE.MatchString(s), err == nil, "blob %q", s)
	}
}

func TestCheckEnvKeysDuplicates(t *testing.T) {
	for _, n := range []int{2, 32, 33, 100} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("K%d", i)
		}
		require.NoError(t, checkEnvKeys("f", keys), "n=%d", n)
		keys[n-1] = keys[0]
		err := checkEnvKeys("f", keys)
		require.ErrorIs(t, err, ErrInvalidArgument, "n=%d", n)
		assert.Contains(t, err.Error(), `"K0" is listed twice`)
	}
}

// The validation of a 20-variable UpdateCVMEnvs request (a 2,818-character
// blob, 20 keys): the table walks against the rune walk and the regexp
// they replaced (refHexBlobRunes, refEnvKeys).
func BenchmarkValidateEnvs(b *testing.B) {
	blob := strings.Repeat("0f", 1409)
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = fmt.Sprintf("APP_SETTING_%02d", i)
	}
	b.Run("checkHexBlob", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = checkHexBlob("f", blob)
		}
	})
	b.Run("checkHexBlob/before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = refHexBlobRunes(blob)
		}
	})
	b.Run("checkEnvKeys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = checkEnvKeys("f", keys)
		}
	})
	b.Run("checkEnvKeys/before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = refEnvKeys(keys)
		}
	})
}

// refHexBlobRunes and refEnvKeys are the checks as they were before the
// byte tables, kept for BenchmarkValidateEnvs.
func refHexBlobRunes(s string) bool {
	isHex := func(r rune) bool { return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F') }
	return s != "" && len(s)%2 == 0 && strings.IndexFunc(s, func(r rune) bool { return !isHex(r) }) < 0
}

func refEnvKeys(keys []string) bool {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !refEnvKeyRE.MatchString(k) || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

func FuzzCheckHexBlob(f *testing.F) {
	f.Add(strings.Repeat("0f", 20))
	f.Add("0f0f0f0f0f0f0f0g")
	f.Fuzz(func(t *testing.T, s string) {
		if (checkHexBlob("f", s) == nil) != refHexBlobRE.MatchString(s) {
			t.Fatalf("checkHexBlob and the regexp disagree on %q", s)
		}
	})
}

// FuzzCheckEnvKeys: the table walk with hashed duplicates accepts exactly
// the key lists the regexp and a map accept (keys split on ',').
func FuzzCheckEnvKeys(f *testing.F) {
	f.Add("APP_A,APP_B,APP_A")
	f.Add("_x,X9,9x")
	f.Fuzz(func(t *testing.T, list string) {
		keys := strings.Split(list, ",")
		if len(list) > 4*MaxEnvKeyBytes {
			return
		}
		short := true
		for _, k := range keys {
			short = short && len(k) <= MaxEnvKeyBytes
		}
		if short && (checkEnvKeys("f", keys) == nil) != refEnvKeys(keys) {
			t.Fatalf("checkEnvKeys and the reference disagree on %q", keys)
		}
	})
}
