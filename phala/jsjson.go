package phala

// This file holds a small JSON model that behaves like JavaScript's
// JSON.parse and JSON.stringify, so that hashes computed over serialised
// documents match the ones the official JavaScript packages compute.
//
// Differences from encoding/json that matter here:
//   - numbers are IEEE-754 doubles and are printed with the algorithm of
//     Number.prototype.toString (1e21 -> "1e+21", 2.0 -> "2", -0 -> "0");
//   - strings are escaped only where JSON.stringify escapes them (no HTML
//     escaping, no escaping of U+2028/U+2029, lone surrogates as \udxxx);
//   - object keys keep the order a JavaScript object would give them:
//     array-index keys first in numeric order, then the rest in insertion
//     order; duplicate keys keep the position of the first occurrence and the
//     value of the last one.
//
// Strings are held in Go strings encoded as WTF-8: valid UTF-8 plus lone
// UTF-16 surrogates encoded as three-byte sequences (0xED 0xA0..0xBF ..), so
// that every JavaScript string that JSON can carry survives a round trip.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsMaxDepth bounds the nesting of arrays and objects accepted by parseJS.
const jsMaxDepth = 1000

type jsKind uint8

const (
	jsNull jsKind = iota
	jsBool
	jsNumber
	jsString
	jsArray
	jsObject
)

// jsValue is one parsed JSON value.
type jsValue struct {
	kind jsKind
	b    bool
	num  float64 // may be ±Inf when the literal overflowed, as in JavaScript
	str  string  // WTF-8
	arr  []*jsValue
	obj  *jsObj
}

// jsObj keeps properties in first-insertion order.
type jsObj struct {
	keys  []string
	vals  []*jsValue
	index map[string]int
}

func newJSObject() *jsObj { return &jsObj{index: map[string]int{}} }

func (o *jsObj) get(k string) (*jsValue, bool) {
	i, ok := o.index[k]
	if !ok {
		return nil, false
	}
	return o.vals[i], true
}

// set adds or replaces a property like CreateDataProperty: a replaced key
// keeps its position.
func (o *jsObj) set(k string, v *jsValue) {
	if i, ok := o.index[k]; ok {
		o.vals[i] = v
		return
	}
	o.index[k] = len(o.keys)
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *jsObj) del(k string) {
	i, ok := o.index[k]
	if !ok {
		return
	}
	o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
	o.vals = append(o.vals[:i:i], o.vals[i+1:]...)
	delete(o.index, k)
	for j := i; j < len(o.keys); j++ {
		o.index[o.keys[j]] = j
	}
}

// clone makes a shallow copy, like the object spread {...o}.
func (o *jsObj) clone() *jsObj {
	c := &jsObj{
		keys:  append([]string(nil), o.keys...),
		vals:  append([]*jsValue(nil), o.vals...),
		index: make(map[string]int, len(o.keys)),
	}
	for i, k := range c.keys {
		c.index[k] = i
	}
	return c
}

// isArrayIndex reports whether k is a canonical array index (0..2^32-2),
// which JavaScript enumerates before all other keys, in numeric order.
func isArrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= math.MaxUint32-1
}

// ownKeys returns the keys in the order JavaScript enumerates them.
func (o *jsObj) ownKeys() []string {
	var idx []string
	var rest []string
	for _, k := range o.keys {
		if _, ok := isArrayIndex(k); ok {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	if len(idx) == 0 {
		return rest
	}
	sortStable(idx, func(a, b string) bool {
		x, _ := isArrayIndex(a)
		y, _ := isArrayIndex(b)
		return x < y
	})
	return append(idx, rest...)
}

// ---------------------------------------------------------------- parsing

type jsParser struct {
	s     string
	i     int
	depth int
	err   string
}

// parseJS parses one JSON text the way JSON.parse does. The input must be
// valid UTF-8. The returned error is a plain description (no input text).
func parseJS(data []byte) (*jsValue, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	p := &jsParser{s: string(data)}
	p.ws()
	v := p.value()
	if v == nil {
		return nil, p.fail()
	}
	p.ws()
	if p.i != len(p.s) {
		p.err = "unexpected data after the JSON value"
		return nil, p.fail()
	}
	return v, nil
}

func (p *jsParser) fail() error {
	msg := p.err
	if msg == "" {
		msg = "syntax error"
	}
	return errors.New("not valid JSON: " + msg + " at byte offset " + strconv.Itoa(p.i))
}

func (p *jsParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsParser) lit(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	p.err = "invalid literal"
	return false
}

func (p *jsParser) value() *jsValue {
	if p.i >= len(p.s) {
		p.err = "unexpected end of input"
		return nil
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return &jsValue{kind: jsString, str: s}
	case c == 't':
		if !p.lit("true") {
			return nil
		}
		return &jsValue{kind: jsBool, b: true}
	case c == 'f':
		if !p.lit("false") {
			return nil
		}
		return &jsValue{kind: jsBool}
	case c == 'n':
		if !p.lit("null") {
			return nil
		}
		return &jsValue{kind: jsNull}
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		p.err = "unexpected character"
		return nil
	}
}

func (p *jsParser) enter() bool {
	p.depth++
	if p.depth > jsMaxDepth {
		p.err = "nesting deeper than " + strconv.Itoa(jsMaxDepth)
		return false
	}
	return true
}

func (p *jsParser) object() *jsValue {
	if !p.enter() {
		return nil
	}
	p.i++ // {
	o := newJSObject()
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return &jsValue{kind: jsObject, obj: o}
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			p.err = "expected a string key"
			return nil
		}
		k, ok := p.str()
		if !ok {
			return nil
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			p.err = "expected ':'"
			return nil
		}
		p.i++
		p.ws()
		v := p.value()
		if v == nil {
			return nil
		}
		o.set(k, v)
		if done, ok := p.sep('}'); !ok {
			return nil
		} else if done {
			return &jsValue{kind: jsObject, obj: o}
		}
	}
}

func (p *jsParser) array() *jsValue {
	if !p.enter() {
		return nil
	}
	p.i++ // [
	a := []*jsValue{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return &jsValue{kind: jsArray, arr: a}
	}
	for {
		p.ws()
		v := p.value()
		if v == nil {
			return nil
		}
		a = append(a, v)
		if done, ok := p.sep(']'); !ok {
			return nil
		} else if done {
			return &jsValue{kind: jsArray, arr: a}
		}
	}
}

// sep reads what follows a member or an element: ',' (more follow) or
// closer (the container ends and its depth is left). Anything else sets
// p.err and ok is false.
func (p *jsParser) sep(closer byte) (done, ok bool) {
	p.ws()
	if p.i >= len(p.s) {
		p.err = "unexpected end of input"
		return false, false
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return false, true
	case closer:
		p.i++
		p.depth--
		return true, true
	}
	p.err = "expected ',' or '" + string(closer) + "'"
	return false, false
}

func (p *jsParser) number() *jsValue {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		p.err = "invalid number"
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			p.err = "invalid number"
			return nil
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.err = "invalid number"
			return nil
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		p.err = "invalid number"
		return nil
	}
	// On overflow ParseFloat returns ±Inf, on underflow ±0 or a subnormal:
	// the same values JavaScript produces.
	return &jsValue{kind: jsNumber, num: f}
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (p *jsParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		p.err = "truncated \\u escape"
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		h := hexVal(p.s[p.i+k])
		if h < 0 {
			p.err = "invalid \\u escape"
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	p.i += 4
	return r, true
}

// str parses a JSON string starting at the opening quote.
func (p *jsParser) str() (string, bool) {
	p.i++ // "
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			return s, true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var b strings.Builder
	// The unescaped string is never longer than its raw text.
	b.Grow(rawStringLen(p.s[start:]))
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), true
		case c < 0x20:
			p.err = "control character in string"
			return "", false
		case c != '\\':
			// Copy the run of plain bytes up to the next special one at once.
			j := p.i + 1
			for j < len(p.s) && p.s[j] != '"' && p.s[j] != '\\' && p.s[j] >= 0x20 {
				j++
			}
			b.WriteString(p.s[p.i:j])
			p.i = j
			continue
		}
		p.i++ // backslash
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) && r < 0xDC00 && strings.HasPrefix(p.s[p.i:], "\\u") {
				save := p.i
				p.i += 2
				r2, ok := p.hex4()
				if ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
					b.WriteRune(utf16.DecodeRune(r, r2))
					continue
				}
				p.i = save
				p.err = ""
			}
			writeWTF8(&b, r)
		default:
			p.err = "invalid escape"
			return "", false
		}
	}
	p.err = "unterminated string"
	return "", false
}

// rawStringLen returns the length of the raw text of a JSON string that
// starts at s[0] (after the opening quote) up to its closing quote, or
// len(s) when it is not terminated.
func rawStringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return len(s)
}

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

// sortStable is a small insertion/merge sort wrapper kept local so the
// comparison semantics are explicit.
func sortStable(s []string, less func(a, b string) bool) {
	// Merge sort: stable and O(n log n).
	if len(s) < 2 {
		return
	}
	tmp := make([]string, len(s))
	var rec func(lo, hi int)
	rec = func(lo, hi int) {
		if hi-lo < 2 {
			return
		}
		mid := (lo + hi) / 2
		rec(lo, mid)
		rec(mid, hi)
		i, j, k := lo, mid, lo
		for i < mid && j < hi {
			if less(s[j], s[i]) {
				tmp[k] = s[j]
				j++
			} else {
				tmp[k] = s[i]
				i++
			}
			k++
		}
		k += copy(tmp[k:], s[i:mid])
		copy(tmp[k:], s[j:hi])
		copy(s[lo:hi], tmp[lo:hi])
	}
	rec(0, len(s))
}

// ---------------------------------------------------------------- output

// formatJSNumber formats a finite float64 exactly as JavaScript's
// Number.prototype.toString (radix 10) does; non-finite values give "null"
// as JSON.stringify would.
func formatJSNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "null"
	}
	if x == 0 {
		return "0" // also for -0
	}
	var b []byte
	return string(appendJSNumber(b, x))
}

func appendJSNumber(b []byte, x float64) []byte {
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

// appendJSString appends s (WTF-8) as JSON.stringify quotes a string.
func appendJSString(b []byte, s string) []byte {
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

// jsWriter serialises a jsValue like JSON.stringify(value, null, indent).
type jsWriter struct {
	b      []byte
	indent string // "" for compact output
}

func (w *jsWriter) newline(depth int) {
	if w.indent == "" {
		return
	}
	w.b = append(w.b, '\n')
	for i := 0; i < depth; i++ {
		w.b = append(w.b, w.indent...)
	}
}

func (w *jsWriter) write(v *jsValue, depth int) {
	switch v.kind {
	case jsNull:
		w.b = append(w.b, "null"...)
	case jsBool:
		if v.b {
			w.b = append(w.b, "true"...)
		} else {
			w.b = append(w.b, "false"...)
		}
	case jsNumber:
		w.b = appendJSNumber(w.b, v.num)
	case jsString:
		w.b = appendJSString(w.b, v.str)
	case jsArray:
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
	case jsObject:
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
			w.b = appendJSString(w.b, k)
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

// stringifyJS returns JSON.stringify(v) (indent "") or
// JSON.stringify(v, null, indent).
func stringifyJS(v *jsValue, indent string) []byte {
	return stringifyJSSized(v, indent, 0)
}

// stringifyJSSized is stringifyJS with room for sizeHint bytes reserved
// up front, so that a large document is not copied while its output grows.
func stringifyJSSized(v *jsValue, indent string, sizeHint int) []byte {
	w := &jsWriter{indent: indent, b: make([]byte, 0, max(sizeHint, 64))}
	w.write(v, 0)
	return w.b
}

// sortJS reproduces the sortObject helper of the JavaScript packages: plain
// objects get their keys sorted by UTF-16 code units (recursively, also
// inside arrays). Two JavaScript quirks are kept: an object with an own
// "constructor" property is not a plain object to that helper and is left
// as it is (without descending into it), and a "__proto__" key vanishes
// from sorted objects because assigning it changes the prototype instead
// of adding a property.
func sortJS(v *jsValue) *jsValue {
	switch v.kind {
	case jsArray:
		out := make([]*jsValue, len(v.arr))
		for i, e := range v.arr {
			out[i] = sortJS(e)
		}
		return &jsValue{kind: jsArray, arr: out}
	case jsObject:
		if _, ok := v.obj.get("constructor"); ok {
			return v
		}
		keys := append([]string(nil), v.obj.keys...)
		sortStable(keys, func(a, b string) bool { return compareUTF16(a, b) < 0 })
		o := &jsObj{index: make(map[string]int, len(keys))}
		for _, k := range keys {
			if k == "__proto__" {
				continue
			}
			e, _ := v.obj.get(k)
			o.set(k, sortJS(e))
		}
		return &jsValue{kind: jsObject, obj: o}
	}
	return v
}

// truthyJS reports whether v is truthy in JavaScript.
func truthyJS(v *jsValue) bool {
	switch v.kind {
	case jsNull:
		return false
	case jsBool:
		return v.b
	case jsNumber:
		return v.num != 0 && !math.IsNaN(v.num)
	case jsString:
		return v.str != ""
	}
	return true
}
