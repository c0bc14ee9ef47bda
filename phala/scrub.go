package phala

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
)

// The scrubber is the one choke point for server bytes: the engine's
// attempt passes every answer through secrets (status line, header values
// and names, the body), and every transport error, before anything reaches
// a decoder, an error, a log record, a hook or a result; the texts built
// from those bytes afterwards (an *APIError's fields, a snippet, a stream's
// joined error message) are scrubbed again, as they are final, since a
// transformation (JSON unescaping, UTF-8 repair, a join) can reassemble a
// secret the bytes held apart. It replaces each secret with [REDACTED] in
// the forms a server or proxy plausibly echoes it:
//
//   - as sent;
//   - JSON-escaped per character (\u0070, any hex case, and \/);
//   - percent-encoded per character (%70, any hex case), as a query echo;
//   - as HTML character references (&#112;, &#x70;);
//   - base64-encoded (standard or URL alphabet, padded or not, at any
//     alignment): the part of the encoding that depends on the key alone.
//
// Forms can mix within one occurrence. A body whose read ends (EOF, reset,
// timeout) inside what may be the start of the key loses that tail too: a
// read cut by an error drops any partial match, a clean end drops a partial
// match of at least minTailRedact key characters, so the cut at
// MaxErrorBody or a reset never leaves a long key prefix behind. Reading
// ahead of the cut (the scrubber decides a byte only once it knows whether
// the key starts there), the 64 KiB limit never splits an occurrence.

// minTailRedact is how many key characters a clean end of input must hold
// for the partial match there to be redacted.
const minTailRedact = 4

// keyScrubber finds the API key in its encoded forms.
type keyScrubber struct {
	key []byte
	// b64 are the parts of the key's base64 forms (standard and URL
	// alphabets, at each of the 3 byte alignments) that depend on the key
	// alone, so that they are found whatever surrounds the key.
	b64 [256][][]byte // by first byte
	// start marks the bytes an occurrence can start with: the key's first
	// character, the escapes' first bytes and the base64 parts' first
	// bytes; formStart the first four only.
	start, formStart [256]bool
	// cores are all the base64 parts; longest is the longest of them and
	// of the key, the furthest an occurrence can reach without an escape.
	cores   [][]byte
	longest int
}

func newKeyScrubber(key string) *keyScrubber {
	if key == "" {
		return nil
	}
	s := &keyScrubber{key: []byte(key)}
	for _, b := range []byte{key[0], '\\', '%', '&'} {
		s.start[b], s.formStart[b] = true, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for off := 0; off < 3; off++ {
			// Char j of the encoding covers bits [6j, 6j+6); it depends on
			// the key alone when those lie within the key's bits.
			in := append(make([]byte, off), key...)
			in = append(in, 0, 0)
			e := enc.EncodeToString(in)
			from := (8*off + 5) / 6
			to := (8*(off+len(key)))/6 - 1 // last j with 6j+6 <= 8(off+len)
			if to-from+1 < 8 {
				continue // too short to tell from ordinary text
			}
			core := []byte(e[from : to+1])
			if !slices.ContainsFunc(s.b64[core[0]], func(c []byte) bool { return bytes.Equal(c, core) }) {
				s.b64[core[0]] = append(s.b64[core[0]], core)
				s.start[core[0]] = true
				s.cores = append(s.cores, core)
			}
		}
	}
	s.longest = len(key)
	for _, c := range s.cores {
		s.longest = max(s.longest, len(c))
	}
	return s
}

// clearBefore is an offset of b before which no occurrence of the key,
// whole or cut by the end of b, can start. Without a '\\', '%' or '&' in b
// every form is the key's characters as they are, or a base64 part: if
// none of them is in b either, an occurrence can only be one cut by the
// end, which starts within the last s.longest bytes. The searches are
// bytes.IndexByte and bytes.Index, much faster than scan's byte-by-byte
// walk, which then looks at that tail only.
func (s *keyScrubber) clearBefore(b []byte) int {
	if len(b) <= s.longest || bytes.IndexByte(b, '\\') >= 0 || bytes.IndexByte(b, '%') >= 0 ||
		bytes.IndexByte(b, '&') >= 0 || bytes.Contains(b, s.key) {
		return 0
	}
	for _, c := range s.cores {
		if bytes.Contains(b, c) {
			return 0
		}
	}
	return len(b) - s.longest
}

// match outcomes.
const (
	noMatch = iota
	fullMatch
	partialMatch // the input ended inside a possible occurrence
)

// matchAt tries the key at b[i:]. It returns the outcome, the end of a full
// match, and for a partial match how many key characters were matched.
func (s *keyScrubber) matchAt(b []byte, i int) (outcome, end, chars int) {
	if s.formStart[b[i]] {
		outcome, end, chars = s.matchForms(b, i)
		if outcome == fullMatch {
			return outcome, end, chars
		}
	}
	for _, core := range s.b64[b[i]] {
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, core):
			return fullMatch, i + len(core), len(s.key)
		case len(rest) < len(core) && bytes.HasPrefix(core, rest):
			// A partial base64 part of n characters carries 6n/8 key bytes.
			outcome, chars = partialMatch, max(chars, len(rest)*6/8)
		}
	}
	return outcome, end, chars
}

// matchForms matches the key character by character, each in any form.
func (s *keyScrubber) matchForms(b []byte, i int) (outcome, end, chars int) {
	p := i
	for j, c := range s.key {
		n, ok, short := matchChar(b[p:], c)
		if short {
			return partialMatch, 0, j
		}
		if !ok {
			return noMatch, 0, 0
		}
		p += n
	}
	return fullMatch, p, len(s.key)
}

// matchChar reports whether b starts with c in one of its forms (n bytes),
// or whether b ends before a form of c could be told apart (short).
func matchChar(b []byte, c byte) (n int, ok, short bool) {
	if len(b) == 0 {
		return 0, false, true
	}
	switch b[0] {
	case c:
		return 1, true, false
	case '\\': // \uXXXX, or \/ \" \\ for the characters JSON may escape so
		if len(b) < 2 {
			return 0, false, true
		}
		if b[1] == c && (c == '/' || c == '"' || c == '\\') {
			return 2, true, false
		}
		if b[1] != 'u' {
			return 0, false, false
		}
		return hexForm(b, 2, 4, c)
	case '%':
		return hexForm(b, 1, 2, c)
	case '&':
		return entityForm(b, c)
	}
	return 0, false, false
}

// hexForm matches digits hex digits at b[start:] whose value is c.
func hexForm(b []byte, start, digits int, c byte) (int, bool, bool) {
	v := 0
	for k := 0; k < digits; k++ {
		if start+k >= len(b) {
			return 0, false, true
		}
		d, ok := hexDigit(b[start+k])
		if !ok {
			return 0, false, false
		}
		v = v<<4 | d
	}
	return start + digits, v == int(c), false
}

// entityForm matches &#DDD; or &#xHH; whose value is c (at most 8 digits).
func entityForm(b []byte, c byte) (int, bool, bool) {
	if len(b) < 2 {
		return 0, false, true
	}
	if b[1] != '#' {
		return 0, false, false
	}
	p, base := 2, 10
	if p < len(b) && (b[p] == 'x' || b[p] == 'X') {
		p, base = 3, 16
	}
	v, digits := 0, 0
	for ; p < len(b) && digits <= 8; p++ {
		var d int
		var ok bool
		if base == 16 {
			d, ok = hexDigit(b[p])
		} else {
			d, ok = int(b[p]-'0'), b[p] >= '0' && b[p] <= '9'
		}
		if !ok {
			break
		}
		v = v*base + d
		digits++
	}
	if digits > 8 {
		return 0, false, false
	}
	if p >= len(b) {
		return 0, false, true
	}
	if digits == 0 || b[p] != ';' {
		return 0, false, false
	}
	return p + 1, v == int(c), false
}

func hexDigit(b byte) (int, bool) {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0'), true
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10, true
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10, true
	}
	return 0, false
}

// scan returns the scrubbed form of b: b[:held] itself when nothing in it
// is the key (copied false), else scratch with the scrubbed bytes appended
// (copied true). With atEnd false it stops at a partial match and returns
// its offset as held (the caller keeps those bytes until more input decides
// them); with atEnd true the input is complete and cut reports whether it
// ended by an error (then any partial match is redacted).
func (s *keyScrubber) scan(scratch, b []byte, atEnd, cut bool) (out []byte, held int, copied bool) {
	return s.scanFrom(scratch, b, atEnd, cut, s.clearBefore(b))
}

// scanFrom is scan knowing that no occurrence starts before from.
func (s *keyScrubber) scanFrom(scratch, b []byte, atEnd, cut bool, from int) (out []byte, held int, copied bool) {
	last := 0
	out = scratch
	for i := from; i < len(b); i++ {
		if !s.start[b[i]] {
			continue
		}
		outcome, end, chars := s.matchAt(b, i)
		switch outcome {
		case fullMatch:
			out = append(out, b[last:i]...)
			out = append(out, redacted...)
			last, copied = end, true
			i = end - 1
		case partialMatch:
			if !atEnd {
				if !copied {
					return b[:i], i, false
				}
				return append(out, b[last:i]...), i, true
			}
			if cut || chars >= minTailRedact {
				out = append(out, b[last:i]...)
				return append(out, redacted...), len(b), true
			}
			// Too short to be the key's prefix: keep this byte, look on.
		}
	}
	if !copied {
		return b, len(b), false
	}
	return append(out, b[last:]...), len(b), true
}

// String returns s with the key removed; a nil scrubber returns s.
func (s *keyScrubber) String(v string) string {
	if s == nil || v == "" {
		return v
	}
	out, _, copied := s.scan(nil, []byte(v), true, false)
	if !copied {
		return v
	}
	return string(out)
}

// header scrubs the names and values of h in place.
func (s *keyScrubber) header(h http.Header) {
	if s == nil {
		return
	}
	for k, vs := range h {
		for i, v := range vs {
			vs[i] = s.String(v)
		}
		if clean := s.String(k); clean != k {
			delete(h, k)
			h[clean] = append(h[clean], vs...)
		}
	}
}

// scrubError returns err, or an error with the same text minus the key
// when its text holds it (net/http quotes malformed answers in errors).
// The replacement does not unwrap: the original carries the key.
func (s *keyScrubber) scrubError(err error) error {
	if s == nil || err == nil {
		return err
	}
	msg := err.Error()
	if clean := s.String(msg); clean != msg {
		return errors.New(clean)
	}
	return err
}

// scrubReader scrubs a body while it is read. A chunk without the key is
// handed out from the read buffer itself, uncopied; the buffer comes from a
// pool and goes back once the body has ended.
type scrubReader struct {
	s       *keyScrubber
	src     io.ReadCloser
	pending []byte // read, not yet decided (a possible key start)
	out     []byte // decided, not yet returned
	outBuf  []byte // scratch for chunks that change
	err     error  // the source's error, returned once out is drained
	buf     *[]byte
}

var scrubBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (r *scrubReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 && r.err == nil {
		if r.buf == nil {
			r.buf = scrubBufs.Get().(*[]byte)
		}
		n, err := r.src.Read(*r.buf)
		data := (*r.buf)[:n]
		fromPending := len(r.pending) > 0
		if fromPending {
			r.pending = append(r.pending, data...)
			data = r.pending
		}
		atEnd := err != nil
		if atEnd {
			r.err = r.s.scrubError(err)
		}
		out, held, copied := r.s.scan(r.outBuf[:0], data, atEnd, atEnd && err != io.EOF)
		if copied {
			r.outBuf = out[:0]
		} else if fromPending {
			// out aliases pending, which is rewritten below.
			r.outBuf = append(r.outBuf[:0], out...)
			out = r.outBuf
		}
		r.out = out
		r.pending = append(r.pending[:0], data[held:]...)
	}
	if len(r.out) > 0 {
		n := copy(p, r.out)
		r.out = r.out[n:]
		return n, nil
	}
	if r.buf != nil { // the body has ended and nothing aliases the buffer
		scrubBufs.Put(r.buf)
		r.buf = nil
	}
	return 0, r.err
}

func (r *scrubReader) Close() error { return r.src.Close() }
