package jsjson

// Strings are WTF-8: UTF-8 that may also hold lone UTF-16 surrogates
// (U+D800..U+DFFF) as three-byte sequences, so that every string
// JavaScript can hold fits in a Go string.

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// writeWTF8 writes r, encoding a lone surrogate as a generalised UTF-8
// three-byte sequence.
func writeWTF8(b *strings.Builder, r rune) {
	if utf16.IsSurrogate(r) {
		b.WriteByte(0xE0 | byte(r>>12))
		b.WriteByte(0x80 | byte(r>>6)&0x3F)
		b.WriteByte(0x80 | byte(r)&0x3F)
		return
	}
	b.WriteRune(r)
}

// decodeWTF8 decodes the next code point of a WTF-8 string; lone
// surrogates come back as themselves.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2]&0xC0 == 0x80 {
		return rune(0xD000) | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), 3
	}
	return utf8.DecodeRuneInString(s)
}

// compareUTF16 orders two WTF-8 strings by their UTF-16 code units, as
// Array.prototype.sort does by default.
func compareUTF16(a, b string) int {
	for len(a) > 0 && len(b) > 0 {
		ra, na := decodeWTF8(a)
		rb, nb := decodeWTF8(b)
		if ra != rb {
			ua, ub := utf16Lead(ra), utf16Lead(rb)
			if ua != ub {
				if ua < ub {
					return -1
				}
				return 1
			}
			// Same lead unit: both are supplementary characters with the
			// same high surrogate; compare the low surrogates.
			_, la := utf16.EncodeRune(ra)
			_, lb := utf16.EncodeRune(rb)
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case len(a) == len(b):
		return 0
	case len(a) == 0:
		return -1
	default:
		return 1
	}
}

func utf16Lead(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}
