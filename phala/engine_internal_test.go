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

// readLimited reads the body up to one byte over the limit, so that an
// answer over it is seen as such.
func TestReadLimited(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"short", "hello", "hello"},
		{"empty", "", ""},
		{"at the limit", strings.Repeat("a", limit), strings.Repeat("a", limit)},
		{"over the limit: one byte more is read", strings.Repeat("b", 40), strings.Repeat("b", limit+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readLimited(iotest.OneByteReader(strings.NewReader(tc.body)), limit)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
	boom := errors.New("connection reset")
	got, err := readLimited(io.MultiReader(strings.NewReader("par"), iotest.ErrReader(boom)), limit)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "par", string(got), "what was read before the error")
}
