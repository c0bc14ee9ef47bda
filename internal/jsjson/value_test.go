package jsjson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObjectMembers(t *testing.T) {
	m, err := ObjectMembers([]byte(` { "a" : [1, {"x":2}] , "\ud800":"s", "a": 3 , "n":null} `))
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"a": []byte("3"), "\xed\xa0\x80": []byte(`"s"`), "n": []byte("null")}, m)

	m, err = ObjectMembers([]byte(`{}`))
	require.NoError(t, err)
	assert.Empty(t, m)

	_, err = ObjectMembers([]byte(`[1]`))
	assert.ErrorIs(t, err, ErrNotObject)
	_, err = ObjectMembers([]byte(`{"a":1`))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNotObject)
	assert.True(t, strings.HasPrefix(err.Error(), "not valid JSON: "), err.Error())
}

func TestHasLoneSurrogate(t *testing.T) {
	for raw, want := range map[string]bool{
		`"\ud800"`:           true,
		`"\udc00x"`:          true,
		`"\ud83d\ude00"`:     false,
		`["a",["\udfff"]]`:   true,
		`{"k":"\ud800"}`:     false, // object members are not inspected
		`1`:                  false,
		`"\ud800`:            false, // not JSON
		`"plain \u00e9 é"`:   false,
		`["\ud800\u0041"]`:   true,
		`"\ud800\ud800"`:     true,
		`[["x"],"\ud801",1]`: true,
	} {
		assert.Equal(t, want, HasLoneSurrogate([]byte(raw)), raw)
	}
}

func TestValueAccessorsAndWithout(t *testing.T) {
	v, err := Parse([]byte(`{"b":1,"a":"x","2":true,"1":null,"c":""}`))
	require.NoError(t, err)
	assert.Equal(t, Object, v.Kind())

	a, ok := v.Member("a")
	require.True(t, ok)
	s, ok := a.AsString()
	assert.True(t, ok)
	assert.Equal(t, "x", s)
	b, _ := v.Member("b")
	_, ok = b.AsString()
	assert.False(t, ok)
	var absent *Value
	_, ok = absent.AsString()
	assert.False(t, ok)
	_, ok = a.Member("a")
	assert.False(t, ok, "a string has no members")

	// Array-index keys first (numerically), then insertion order.
	assert.Equal(t, `{"1":null,"2":true,"b":1,"a":"x","c":""}`, string(v.Stringify("")))
	w := v.Without("a", "2", "missing")
	assert.Equal(t, `{"1":null,"b":1,"c":""}`, string(w.Stringify("")))
	assert.Equal(t, `{"1":null,"2":true,"b":1,"a":"x","c":""}`, string(v.Stringify("")), "Without leaves v alone")
	assert.Equal(t, "{\n  \"1\": null,\n  \"2\": true,\n  \"a\": \"x\",\n  \"b\": 1,\n  \"c\": \"\"\n}", string(v.Sorted().Stringify("  ")))

	c, _ := v.Member("c")
	one, _ := v.Member("1")
	tr, _ := v.Member("2")
	assert.False(t, c.Truthy())
	assert.False(t, one.Truthy())
	assert.True(t, tr.Truthy())
	assert.True(t, a.Truthy())
	assert.True(t, b.Truthy())
}
