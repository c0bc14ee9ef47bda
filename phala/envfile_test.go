package phala

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEnvFile(t *testing.T) {
	in := "# leading comment\n" +
		"\n" +
		"   \t\n" +
		"PLAIN=value\n" +
		"  SPACED  =   spaced value with  inner   blanks   \n" +
		"export EXPORTED=yes\n" +
		"export\tTABBED=1\n" +
		"exporter=not-a-prefix\n" +
		"WITH_EQ=a=b==c\n" +
		"COMMENTED=val # a comment\n" +
		"HASH_IN=a#b\n" +
		"HASH_FIRST=#notacomment\n" +
		"EMPTY=\n" +
		"EMPTY_COMMENT= # only a comment\n" +
		"SINGLE='lit \\n $X \"q\" # not comment'  # comment\n" +
		"DOUBLE=\"esc \\n \\\" \\\\ \\t \\q # kept\"\n" +
		"MULTI=\"line1\n" +
		"line2 'x'\n" +
		"line3\"\n" +
		"MULTI_SINGLE='a\n" +
		"b'\n" +
		"CRLF=crlf\r\n" +
		"UNICODE=héllo 😀\n" +
		"_UNDER=1"
	got, err := audited(ParseEnvFile(strings.NewReader(in)))
	require.NoError(t, err)
	want := []EnvVar{
		{"PLAIN", "value"},
		{"SPACED", "spaced value with  inner   blanks"},
		{"EXPORTED", "yes"},
		{"TABBED", "1"},
		{"exporter", "not-a-prefix"},
		{"WITH_EQ", "a=b==c"},
		{"COMMENTED", "val"},
		{"HASH_IN", "a#b"},
		{"HASH_FIRST", "#notacomment"},
		{"EMPTY", ""},
		{"EMPTY_COMMENT", ""},
		{"SINGLE", `lit \n $X "q" # not comment`},
		{"DOUBLE", "esc \n \" \\ \t \\q # kept"},
		{"MULTI", "line1\nline2 'x'\nline3"},
		{"MULTI_SINGLE", "a\nb"},
		{"CRLF", "crlf"},
		{"UNICODE", "héllo 😀"},
		{"_UNDER", "1"},
	}
	assert.Equal(t, want, got)
}

func TestParseEnvFileEmpty(t *testing.T) {
	got, err := audited(ParseEnvFile(strings.NewReader("# nothing\n\n")))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestParseEnvFileErrors(t *testing.T) {
	secret := "TOPSECRET"
	cases := []struct {
		in   string
		line int
		why  string
	}{
		{"A=1\nNOEQUALS " + secret + "\n", 2, "expected KEY=VALUE"},
		{"A=1\n\n1BAD=" + secret, 3, "invalid key"},
		{"BAD-KEY=" + secret, 1, "invalid key"},
		{"=" + secret, 1, "invalid key"},
		{"A=1\nB=2\nA=" + secret, 3, "repeats line 1"},
		{"A=\"" + secret + "\nstill open", 1, "unterminated \" quote"},
		{"A='" + secret, 1, "unterminated ' quote"},
		{"X=1\nA=\"" + secret + "\" trailing", 2, "after the closing quote"},
		{"A=1\nB=\xff" + secret, 2, "UTF-8"},
	}
	for _, c := range cases {
		_, err := audited(ParseEnvFile(strings.NewReader(c.in)))
		require.Error(t, err, c.in)
		var efe *EnvFileError
		require.True(t, errors.As(err, &efe), c.in)
		assert.Equal(t, c.line, efe.Line, c.in)
		assert.Contains(t, efe.Reason, c.why, c.in)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.NotContains(t, err.Error(), secret)
	}
}

func TestParseEnvFileReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := audited(ParseEnvFile(iotest.ErrReader(boom)))
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrInvalidArgument)
}

func TestParseEnvFileTooLarge(t *testing.T) {
	_, err := audited(ParseEnvFile(strings.NewReader(strings.Repeat("#", maxEnvFileBytes+1))))
	assert.ErrorIs(t, err, ErrInvalidArgument)
}
