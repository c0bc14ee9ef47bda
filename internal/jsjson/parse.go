package jsjson

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parser reads one JSON text; err describes the first problem.
type parser struct {
	s     string
	i     int
	depth int
	err   string
}

// Parse parses one JSON text the way JSON.parse does. The input must be
// valid UTF-8. The returned error is a plain description (no input text).
func Parse(data []byte) (*Value, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	p := &parser{s: string(data)}
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

func (p *parser) fail() error {
	msg := p.err
	if msg == "" {
		msg = "syntax error"
	}
	return errors.New("not valid JSON: " + msg + " at byte offset " + strconv.Itoa(p.i))
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) lit(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	p.err = "invalid literal"
	return false
}

func (p *parser) value() *Value {
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
		return &Value{kind: String, str: s}
	case c == 't':
		if !p.lit("true") {
			return nil
		}
		return &Value{kind: Bool, b: true}
	case c == 'f':
		if !p.lit("false") {
			return nil
		}
		return &Value{kind: Bool}
	case c == 'n':
		if !p.lit("null") {
			return nil
		}
		return &Value{kind: Null}
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		p.err = "unexpected character"
		return nil
	}
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > MaxDepth {
		p.err = "nesting deeper than " + strconv.Itoa(MaxDepth)
		return false
	}
	return true
}

func (p *parser) object() *Value {
	if !p.enter() {
		return nil
	}
	p.i++ // {
	o := newObject()
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return &Value{kind: Object, obj: o}
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
			return &Value{kind: Object, obj: o}
		}
	}
}

func (p *parser) array() *Value {
	if !p.enter() {
		return nil
	}
	p.i++ // [
	a := []*Value{}
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return &Value{kind: Array, arr: a}
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
			return &Value{kind: Array, arr: a}
		}
	}
}

// sep reads what follows a member or an element: ',' (more follow) or
// closer (the container ends and its depth is left). Anything else sets
// p.err and ok is false.
func (p *parser) sep(closer byte) (done, ok bool) {
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

func (p *parser) number() *Value {
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
	return &Value{kind: Number, num: f}
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

func (p *parser) hex4() (rune, bool) {
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
func (p *parser) str() (string, bool) {
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
