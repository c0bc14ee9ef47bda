package phala

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/phalacloud/go-sdk/internal/benchdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The streaming scrubber decides each byte only when it knows whether the
// key starts there, whatever the read sizes.
func TestScrubReaderAcrossReadBoundaries(t *testing.T) {
	s := newKeyScrubber(leakKey)
	body := "a" + leakKey + "b%" + url.QueryEscape(leakKey) + "\\u0070" + leakKey[:4] + "c" + leakKey[:len(leakKey)-1]
	want := "a" + redacted + "b%" + redacted + "\\u0070" + leakKey[:4] + "c" + redacted
	for _, r := range []func(io.Reader) io.Reader{
		func(r io.Reader) io.Reader { return r },
		iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader,
	} {
		got, err := io.ReadAll(&scrubReader{s: s, src: io.NopCloser(r(strings.NewReader(body)))})
		require.NoError(t, err)
		assert.Equal(t, want, string(got))
	}
	// A reset right after the first key character drops that character too.
	got, err := io.ReadAll(&scrubReader{s: s, src: io.NopCloser(io.MultiReader(strings.NewReader("xyz p"),
		iotest.ErrReader(errors.New("connection reset"))))})
	require.Error(t, err)
	assert.Equal(t, "xyz "+redacted, string(got))
	// Line by line (the state stream's bufio.Scanner) sees scrubbed lines.
	sc := bufio.NewScanner(&scrubReader{s: s, src: io.NopCloser(iotest.OneByteReader(strings.NewReader("data: " + leakKey + "\n\n")))})
	require.True(t, sc.Scan())
	assert.Equal(t, "data: "+redacted, sc.Text())
	// Text without the key passes unchanged, byte for byte.
	plain := bytes.Repeat([]byte(`{"p":"%41&#1;\u00phak_"}`), 5000)
	got, err = io.ReadAll(&scrubReader{s: s, src: io.NopCloser(iotest.HalfReader(bytes.NewReader(plain)))})
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(got))
}

// chunked returns its data in reads of n bytes.
type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// Whatever surrounds the key and however the reads are cut, the key never
// comes out, and streaming gives the same bytes as scrubbing the whole.
func FuzzScrubReader(f *testing.F) {
	f.Add([]byte(`{"message":"x"}`), uint16(3), uint8(1))
	f.Add([]byte(`%70%68&#112;\u0070phak_`), uint16(0), uint8(7))
	f.Add([]byte(leakKey[:10]), uint16(10), uint8(2))
	s := newKeyScrubber(leakKey)
	f.Fuzz(func(t *testing.T, body []byte, at uint16, chunk uint8) {
		i := int(at) % (len(body) + 1)
		in := append(append(append([]byte(nil), body[:i]...), leakKey...), body[i:]...)
		got, err := io.ReadAll(&scrubReader{s: s, src: io.NopCloser(&chunked{b: in, n: int(chunk%64) + 1})})
		require.NoError(t, err)
		require.NotContains(t, string(got), leakKey)
		require.Equal(t, s.String(string(in)), string(got))
	})
}

// BenchmarkScrubReader measures the scrubber on a 1 MiB JSON body without
// the key (the common case: every byte is looked at once).
func BenchmarkScrubReader(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":"cvm_1","name":"phala-app","status":"running","note":"50% done & ok\\u00e9"},`), 1<<20/80)
	s := newKeyScrubber(leakKey)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = io.Copy(io.Discard, &scrubReader{s: s, src: io.NopCloser(bytes.NewReader(body))})
	}
}

// The fast check (clearBefore) skips only what the byte-by-byte walk would
// have passed over: for any input, cut or not, both give the same output.
func FuzzScrubClearBefore(f *testing.F) {
	f.Add([]byte(`{"message":"x"}`), uint16(3), false, false)
	f.Add([]byte(`%70%68&#112;\u0070phak_`), uint16(0), true, false)
	f.Add([]byte(leakKey[:10]), uint16(10), true, true)
	f.Add([]byte(detailForBench), uint16(900), false, false)
	s := newKeyScrubber(leakKey)
	f.Fuzz(func(t *testing.T, body []byte, at uint16, atEnd, cut bool) {
		for _, in := range [][]byte{body, append(append([]byte(nil), body...), leakKey[:int(at)%len(leakKey)]...)} {
			wantOut, wantHeld, wantCopied := s.scanFrom(nil, in, atEnd, cut, 0)
			out, held, copied := s.scan(nil, in, atEnd, cut)
			require.Equal(t, string(wantOut), string(out))
			require.Equal(t, wantHeld, held)
			require.Equal(t, wantCopied, copied)
		}
	})
}

// detailForBench is a 2026-01-21 CVM detail without the key (935 bytes).
const detailForBench = benchdata.Detail

// BenchmarkScrubDetail: the scrubber on a CVM detail without the key, the
// common case, with the fast check and walking every byte.
func BenchmarkScrubDetail(b *testing.B) {
	s := newKeyScrubber(leakKey)
	body := []byte(detailForBench)
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			s.scan(nil, body, true, false)
		}
	})
	b.Run("walk-every-byte", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			s.scanFrom(nil, body, true, false, 0)
		}
	})
}
