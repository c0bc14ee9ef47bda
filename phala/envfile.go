package phala

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxEnvFileBytes bounds what ParseEnvFile reads (8 MiB), far above what
// EncryptEnvVars accepts.
const maxEnvFileBytes = 8 << 20

// ParseEnvFile reads a .env file and returns its variables in file order,
// ready for EncryptEnvVars.
//
// Accepted syntax, one KEY=VALUE per line:
//   - blank lines and lines whose first non-blank character is # are
//     skipped; a leading "export " is ignored;
//   - KEY must match ^[A-Za-z_][A-Za-z0-9_]*$ (blanks around it and around
//     = are ignored);
//   - an unquoted value runs to the end of the line, "=" included; a # that
//     follows a blank starts a comment; surrounding blanks are trimmed;
//   - a value in single quotes is taken literally and may span lines;
//   - a value in double quotes may span lines and understands the escapes
//     \n, \r, \t, \" and \\ (any other backslash is kept as it is);
//   - after a closing quote only blanks and a # comment may follow.
//
// The input must be valid UTF-8 and at most 8 MiB. A line without "=", an
// invalid or repeated key, an unterminated quote or trailing text yields an
// *EnvFileError with the line number (never the value). An empty file
// gives an empty slice. A read error from r is returned as it is.
func ParseEnvFile(r io.Reader) ([]EnvVar, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxEnvFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEnvFileBytes {
		return nil, &EnvFileError{Line: 0, Reason: fmt.Sprintf("file is larger than %d bytes", maxEnvFileBytes)}
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var out []EnvVar
	seen := map[string]int{}
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		fail := func(format string, args ...any) ([]EnvVar, error) {
			return nil, &EnvFileError{Line: lineNo, Reason: fmt.Sprintf(format, args...)}
		}
		line := lines[i]
		if !utf8.ValidString(line) {
			return fail("not valid UTF-8")
		}
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			trimmed = strings.TrimLeft(rest, " \t")
		}
		key, val, ok := strings.Cut(trimmed, "=")
		if !ok {
			return fail("expected KEY=VALUE")
		}
		key = strings.TrimRight(key, " \t")
		if !validEnvKey(key) {
			if len(key) > 64 {
				return fail("invalid key (does not match ^[A-Za-z_][A-Za-z0-9_]*$)")
			}
			return fail("invalid key %q (does not match ^[A-Za-z_][A-Za-z0-9_]*$)", key)
		}
		if prev, dup := seen[key]; dup {
			return fail("key %q repeats line %d", key, prev)
		}
		raw := val
		val = strings.TrimLeft(val, " \t")
		var value string
		switch {
		case strings.HasPrefix(val, "'") || strings.HasPrefix(val, `"`):
			q := val[0]
			var b strings.Builder
			cur := val[1:]
			closed := false
			for {
				j := 0
				for j < len(cur) {
					c := cur[j]
					if c == q {
						closed = true
						break
					}
					if q == '"' && c == '\\' && j+1 < len(cur) {
						switch e := cur[j+1]; e {
						case 'n':
							b.WriteByte('\n')
						case 'r':
							b.WriteByte('\r')
						case 't':
							b.WriteByte('\t')
						case '"', '\\':
							b.WriteByte(e)
						default:
							b.WriteByte('\\')
							b.WriteByte(e)
						}
						j += 2
						continue
					}
					b.WriteByte(c)
					j++
				}
				if closed {
					cur = cur[j+1:]
					break
				}
				if i+1 >= len(lines) {
					return fail("unterminated %c quote", q)
				}
				i++
				if !utf8.ValidString(lines[i]) {
					return nil, &EnvFileError{Line: i + 1, Reason: "not valid UTF-8"}
				}
				b.WriteByte('\n')
				cur = lines[i]
			}
			tail := strings.TrimLeft(cur, " \t")
			if tail != "" && tail[0] != '#' {
				return fail("unexpected text after the closing quote of %q", key)
			}
			value = b.String()
		default:
			if k := commentStart(raw); k >= 0 {
				raw = raw[:k]
			}
			value = strings.Trim(raw, " \t")
		}
		seen[key] = lineNo
		out = append(out, EnvVar{Key: key, Value: value})
	}
	if out == nil {
		out = []EnvVar{}
	}
	return out, nil
}

// commentStart finds a # preceded by a blank in an unquoted value.
// A # right after the = is part of the value.
func commentStart(v string) int {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return i
		}
	}
	return -1
}
