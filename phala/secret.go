package phala

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
)

// secret holds a credential; every way of printing it prints a placeholder.
type secret string

func (s secret) String() string               { return redacted }
func (s secret) GoString() string             { return redacted }
func (s secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// minHandedSecret is the shortest secret a caller hands a call (an env
// value, a commit token) that is scrubbed: a shorter one ("1", "true")
// occurs in ordinary text by chance, and scrubbing it would garble every
// message. The API key is scrubbed whatever its length.
const minHandedSecret = 8

// secrets are the scrubbers of every secret a call's texts must not hold:
// the API key, the commit tokens the client received, and the secrets the
// caller handed the call.
type secrets []*keyScrubber

// with returns s plus scrubbers for the values of vs at least
// minHandedSecret long.
func (s secrets) with(vs ...string) secrets {
	for _, v := range vs {
		if len(v) >= minHandedSecret {
			s = append(s, newKeyScrubber(v))
		}
	}
	return s
}

// String returns v without any of the secrets.
func (s secrets) String(v string) string {
	for _, k := range s {
		v = k.String(v)
	}
	return v
}

// body returns b, a whole body, scrubbed: b itself when it holds no
// secret, else a copy. cut says the body ended before its end (a partial
// secret at the end is then always dropped).
func (s secrets) body(b []byte, cut bool) []byte {
	for _, k := range s {
		b, _, _ = k.scan(nil, b, true, cut)
	}
	return b
}

// head scrubs the status line and the headers of resp.
func (s secrets) head(resp *http.Response) {
	resp.Status = s.String(resp.Status)
	for _, k := range s {
		k.header(resp.Header)
	}
}

// err returns err, or an error with the same text minus the secrets when
// its text holds one (net/http quotes malformed answers in errors). The
// replacement does not unwrap: the original carries the secret.
func (s secrets) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := s.String(msg); clean != msg {
		return errors.New(clean)
	}
	return err
}

// reader scrubs a streamed body as it is read.
func (s secrets) reader(rc io.ReadCloser) io.ReadCloser {
	for _, k := range s {
		rc = &scrubReader{s: k, src: rc}
	}
	return rc
}

// maxReceivedTokens bounds the commit tokens a client remembers to scrub.
const maxReceivedTokens = 64

// tokenSet is the commit tokens a client received (PatchCVM with
// PrepareOnly): each is a bearer credential, scrubbed from every later text
// of the client.
type tokenSet struct {
	mu sync.Mutex
	s  secrets
}

// add remembers token, dropping the oldest beyond maxReceivedTokens.
func (t *tokenSet) add(token string) {
	if len(token) < minHandedSecret {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.s {
		if string(k.key) == token {
			return
		}
	}
	t.s = append(t.s, newKeyScrubber(token))
	if len(t.s) > maxReceivedTokens {
		t.s = t.s[1:]
	}
}

// all is base followed by the tokens: base itself when there are none.
func (t *tokenSet) all(base secrets) secrets {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.s) == 0 {
		return base
	}
	return append(append(secrets(nil), base...), t.s...)
}
