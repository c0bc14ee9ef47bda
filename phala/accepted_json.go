package phala

// parseAccepted decodes the small flat object the update endpoints answer
// ({"status":"in_progress","message":"...","correlation_id":"..."}) by
// hand, which is several times cheaper than encoding/json's reflection for
// the three strings it carries. It only takes bodies it is sure
// json.Unmarshal would decode to the same acceptedBody without error: one
// object whose values are plain ASCII strings without escapes, true, false
// or null, keys ASCII without escapes (matched to the fields without
// regard to ASCII case, as encoding/json does; other keys ignored; a
// repeated key overwrites). Anything else (numbers, nesting, escapes,
// non-ASCII, a type json.Unmarshal would refuse) reports ok false, and the
// caller decodes with json.Unmarshal, which also gives the error.
// FuzzParseAccepted holds it to json.Unmarshal.
func parseAccepted(b []byte) (a acceptedBody, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return a, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return a, skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainJSONString(b, i)
		if !ok {
			return a, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return a, false
		}
		i = skipSpace(b, i+1)
		var kind byte // 's' string, 't' true, 'f' false, 'n' null
		var str []byte
		switch {
		case i < len(b) && b[i] == '"':
			if str, next, ok = plainJSONString(b, i); !ok {
				return a, false
			}
			kind, i = 's', next
		case hasWord(b, i, "true"):
			kind, i = 't', i+4
		case hasWord(b, i, "false"):
			kind, i = 'f', i+5
		case hasWord(b, i, "null"):
			kind, i = 'n', i+4
		default:
			return a, false
		}
		if !a.set(key, kind, str) {
			return a, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return a, false
		}
		if b[i] == '}' {
			return a, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return a, false
		}
		i = skipSpace(b, i+1)
	}
}

// set stores one member the way json.Unmarshal would; false for a value
// of the wrong type (json.Unmarshal's error is then the caller's).
func (a *acceptedBody) set(key []byte, kind byte, str []byte) bool {
	var s *string
	switch {
	case foldEqual(key, "status"):
		s = &a.Status
	case foldEqual(key, "message"):
		s = &a.Message
	case foldEqual(key, "correlation_id"):
		s = &a.CorrelationID
	case foldEqual(key, "allowed_envs_changed"):
		switch kind {
		case 't', 'f':
			a.AllowedEnvsChanged = kind == 't'
		case 's':
			return false
		}
		return true // null leaves the field as it is
	default:
		return true // a key the struct does not have
	}
	switch kind {
	case 's':
		*s = string(str)
	case 't', 'f':
		return false
	}
	return true
}

// plainJSONString is the JSON string starting with the quote at b[i]
// when it is printable ASCII without escapes, and the offset after it.
func plainJSONString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func hasWord(b []byte, i int, w string) bool {
	return len(b)-i >= len(w) && string(b[i:i+len(w)]) == w
}

// skipSpace skips JSON whitespace from i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
