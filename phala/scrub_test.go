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
