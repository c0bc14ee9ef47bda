package phala

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// plainSafeReference is plainSafe as it was before it learnt to skip with
// bytes.IndexByte and to filter keys by length: the byte-by-byte walk the
// faster one must agree with.
func plainSafeReference(body []byte, k *plainKeys) bool {
	var seen [8]int
	var lower [maxPlainKey]byte
	digits := 0
	for i := 0; i < len(body); i++ {
		if c := body[i]; c != '"' {
			if !k.numbers {
				continue
			}
			switch {
			case '0' <= c && c <= '9' || c == '.':
				if digits++; digits > 300 {
					return false
				}
			case (c == 'e' || c == 'E') && digits > 0:
				return false
			default:
				digits = 0
			}
			continue
		}
		digits = 0
		j, esc, ascii := i+1, false, true
		for ; j < len(body) && body[j] != '"'; j++ {
			switch c := body[j]; {
			case c == '\\':
				esc = true
				j++
			case c >= utf8.RuneSelf:
				ascii = false
			}
		}
		s := body[i+1 : min(j, len(body))]
		i = j
		if len(s) > 3*k.maxKey { // no rune is over 3 bytes that folds to ASCII
			continue
		}
		if esc {
			return false
		}
		if !ascii {
			if foldsToASCII(s) {
				return false
			}
			continue
		}
		if len(s) > k.maxKey {
			continue
		}
		for n, c := range s {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[n] = c
		}
		slot, known := referenceKey(k, string(lower[:len(s)]))
		if !known {
			continue
		}
		if !bytes.Equal(lower[:len(s)], s) {
			return false // a case variant of a key
		}
		if slot > 0 {
			if seen[slot]++; seen[slot] > 1 {
				return false
			}
		}
	}
	return true
}

// referenceKey is the map lookup the reference walk made.
func referenceKey(k *plainKeys, lowered string) (slot int, known bool) {
	for _, key := range k.byLen[len(lowered)] {
		if key.name == lowered {
			return key.slot, true
		}
	}
	return 0, false
}

// FuzzPlainSafeMatchesReference: the faster plainSafe answers what the
// byte-by-byte walk answers, for every body and both key sets.
func FuzzPlainSafeMatchesReference(f *testing.F) {
	for _, s := range detailVariants() {
		f.Add([]byte(s))
	}
	f.Add([]byte(plainVM))
	f.Add([]byte(`{"ID":"x","public_LOGS":1e5,"a\"b":"\u0041","\xff":"\u017f"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, k := range []*plainKeys{detailKeys, visibilityKeys, detailFlagKeys} {
			if got, want := plainSafe(body, k), plainSafeReference(body, k); got != want {
				t.Fatalf("plainSafe %v, reference %v for %q", got, want, body)
			}
		}
	})
}

func BenchmarkPlainSafe(b *testing.B) {
	body := []byte(detailForBench)
	b.Run("detail", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			plainSafe(body, detailKeys)
		}
	})
	b.Run("detail/reference", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			plainSafeReference(body, detailKeys)
		}
	})
	b.Run("flags", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			plainSafe(body, detailFlagKeys)
		}
	})
}
