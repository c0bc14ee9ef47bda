package jsjson

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// appendNumber appends x exactly as JavaScript's Number.prototype.toString
// (radix 10) formats it; non-finite values give "null" as JSON.stringify
// would, and -0 gives "0".
func appendNumber(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	if x == 0 {
		return append(b, '0')
	}
	if x < 0 {
		b = append(b, '-')
		x = -x
	}
	// Shortest round-tripping digits, closest to x: the same digit string
	// the ECMAScript algorithm selects.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(string(e), "e")
	digits := strings.Replace(mant, ".", "", 1)
	e10, _ := strconv.Atoi(exp)
	k := len(digits)
	n := e10 + 1 // x = 0.digits * 10^n
	switch {
	case k <= n && n <= 21:
		b = append(b, digits...)
		for i := 0; i < n-k; i++ {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:]...)
	case -6 < n && n <= 0:
		b = append(b, "0."...)
		for i := 0; i < -n; i++ {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}

const lowerHex = "0123456789abcdef"

// AppendString appends s (WTF-8) as JSON.stringify quotes a string.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c >= 0x80 {
			r, n := decodeWTF8(s[i:])
			if utf16.IsSurrogate(r) || (r == utf8.RuneError && n == 1) {
				b = append(b, s[start:i]...)
				u := uint16(r)
				if r == utf8.RuneError {
					u = 0xFFFD // invalid byte: cannot occur for parsed input
				}
				b = append(b, '\\', 'u', lowerHex[u>>12], lowerHex[u>>8&0xF], lowerHex[u>>4&0xF], lowerHex[u&0xF])
				i += n
				start = i
				continue
			}
			i += n
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writer serialises a Value like JSON.stringify(value, null, indent).
type writer struct {
	b      []byte
	indent string // "" for compact output
}

func (w *writer) newline(depth int) {
	if w.indent == "" {
		return
	}
	w.b = append(w.b, '\n')
	for i := 0; i < depth; i++ {
		w.b = append(w.b, w.indent...)
	}
}

func (w *writer) write(v *Value, depth int) {
	switch v.kind {
	case Null:
		w.b = append(w.b, "null"...)
	case Bool:
		if v.b {
			w.b = append(w.b, "true"...)
		} else {
			w.b = append(w.b, "false"...)
		}
	case Number:
		w.b = appendNumber(w.b, v.num)
	case String:
		w.b = AppendString(w.b, v.str)
	case Array:
		if len(v.arr) == 0 {
			w.b = append(w.b, "[]"...)
			return
		}
		w.b = append(w.b, '[')
		for i, e := range v.arr {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.newline(depth + 1)
			w.write(e, depth+1)
		}
		w.newline(depth)
		w.b = append(w.b, ']')
	case Object:
		keys := v.obj.ownKeys()
		if len(keys) == 0 {
			w.b = append(w.b, "{}"...)
			return
		}
		w.b = append(w.b, '{')
		for i, k := range keys {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.newline(depth + 1)
			w.b = AppendString(w.b, k)
			w.b = append(w.b, ':')
			if w.indent != "" {
				w.b = append(w.b, ' ')
			}
			e, _ := v.obj.get(k)
			w.write(e, depth+1)
		}
		w.newline(depth)
		w.b = append(w.b, '}')
	}
}

// Stringify returns JSON.stringify(v) (indent "") or
// JSON.stringify(v, null, indent).
func (v *Value) Stringify(indent string) []byte {
	return v.AppendStringify(make([]byte, 0, 64), indent)
}

// AppendStringify appends Stringify(indent) to dst. Give dst the capacity
// the output is expected to need, so that a large document is not copied
// while its output grows.
func (v *Value) AppendStringify(dst []byte, indent string) []byte {
	w := &writer{indent: indent, b: dst}
	w.write(v, 0)
	return w.b
}
