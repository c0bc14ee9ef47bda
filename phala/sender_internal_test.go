package phala

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readLimited reads what the body holds, whatever Content-Length claims:
// the length only sizes the buffer.
func TestReadLimited(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name   string
		body   string
		length int64
		want   string
	}{
		{"length matches", "hello", 5, "hello"},
		{"length unknown", "hello", -1, "hello"},
		{"length says less", "hello world", 3, "hello world"},
		{"length says more", "hi", 10, "hi"},
		{"empty", "", 0, ""},
		{"at the limit", strings.Repeat("a", limit), limit, strings.Repeat("a", limit)},
		{"over the limit: one byte more is read", strings.Repeat("b", 40), 40, strings.Repeat("b", limit+1)},
		{"over the limit, length says less", strings.Repeat("c", 40), 4, strings.Repeat("c", limit+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readLimited(iotest.OneByteReader(strings.NewReader(tc.body)), tc.length, limit)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
	boom := errors.New("connection reset")
	got, err := readLimited(io.MultiReader(strings.NewReader("par"), iotest.ErrReader(boom)), 10, limit)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "par", string(got), "what was read before the error")
}
