package phala

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComposeHashKnownAnswers(t *testing.T) {
	ka := loadKnownAnswers(t)
	for i, v := range ka.ComposeHash {
		h, err := audited(ComposeHash(v.AppCompose))
		require.NoError(t, err)
		assert.Equal(t, v.DstackForm, h, "vector %d dstack form", i)

		h, err = audited(ComposeHashNormalized(v.AppCompose))
		require.NoError(t, err)
		assert.Equal(t, v.DstackFormNormalized, h, "vector %d normalized", i)

		dump, err := audited(DumpAppCompose(v.AppCompose))
		require.NoError(t, err)
		assert.Equal(t, v.DumpFormText, string(dump), "vector %d dump text", i)

		h, err = audited(DumpAppComposeHash(v.AppCompose))
		require.NoError(t, err)
		assert.Equal(t, v.DumpFormHash, h, "vector %d dump hash", i)
	}
}

func TestComposeHashSerialisationRules(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"sorted keys nested", `{"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}}`, `{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}`},
		{"html not escaped", `{"a":"<x>&amp;\u003c"}`, `{"a":"<x>&amp;<"}`},
		{"non-ascii literal", `{"a":"h\u00e9llo 😀 \ud83d\ude00"}`, `{"a":"héllo 😀 😀"}`},
		{"lone surrogate escaped lowercase", `{"a":"\uD800x\uDFFF"}`, `{"a":"\ud800x\udfff"}`},
		{"control chars", `{"a":"\u0000\u0001\b\f\n\r\t\u001F\u007f"}`, "{\"a\":\"\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\x7f\"}"},
		{"slash and quotes", `{"a":"\/\"\\"}`, `{"a":"/\"\\"}`},
		{"line separators literal", `{"a":"\u2028\u2029"}`, "{\"a\":\"\u2028\u2029\"}"},
		{"numbers", `{"a":[0,-0,1.0,2.50,1e21,1e-7,123456789012345678901,0.1,1E2,-1.5e-10,1e400,-1e400,1e-400,100e-2,0.000001]}`,
			`{"a":[0,0,1,2.5,1e+21,1e-7,123456789012345680000,0.1,100,-1.5e-10,null,null,0,1,0.000001]}`},
		{"duplicate keys last wins", `{"b":1,"a":2,"b":3}`, `{"a":2,"b":3}`},
		{"utf16 key order", "{\"\uff01\":1,\"\U0001F600\":2,\"a\":3}", "{\"a\":3,\"\U0001F600\":2,\"\uff01\":1}"},
		{"array index keys first numerically", `{"b":1,"10":2,"9":3,"01":4,"a":5}`, `{"9":3,"10":2,"01":4,"a":5,"b":1}`},
		{"constructor key leaves object unsorted", `{"z":{"b":1,"a":2,"constructor":3},"y":1}`, `{"y":1,"z":{"b":1,"a":2,"constructor":3}}`},
		{"__proto__ dropped when sorted", `{"__proto__":{"x":1},"a":1}`, `{"a":1}`},
		{"empty containers", `{"a":{},"b":[],"c":[[]]}`, `{"a":{},"b":[],"c":[[]]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := parseAppCompose([]byte(c.in))
			require.NoError(t, err)
			got := string(v.Sorted().Stringify(""))
			assert.Equal(t, c.want, got)
			h, err := audited(ComposeHash([]byte(c.in)))
			require.NoError(t, err)
			assert.Equal(t, sha256Hex([]byte(c.want)), h)
		})
	}
}

func TestDumpAppComposeReplacesColonSpaceEverywhere(t *testing.T) {
	out, err := audited(DumpAppCompose([]byte(`{"runner":"bash","bash_script":"echo \": x\"","docker_compose_file":"gone","pre_launch_script":null,"n":[]}`)))
	require.NoError(t, err)
	assert.Equal(t, "{\n    \"bash_script\":\"echo \\\":x\\\"\",\n    \"n\":[],\n    \"runner\":\"bash\"\n}", string(out))
}

func TestComposeHashNormalization(t *testing.T) {
	base := func(extra string) []byte {
		return []byte(`{"name":"x"` + extra + `}`)
	}
	hash := func(doc []byte) string {
		h, err := audited(ComposeHash(doc))
		require.NoError(t, err)
		return h
	}
	norm := func(doc []byte) string {
		h, err := audited(ComposeHashNormalized(doc))
		require.NoError(t, err)
		return h
	}
	// runner bash drops docker_compose_file, keeps bash_script
	assert.Equal(t, hash(base(`,"runner":"bash","bash_script":"b"`)), norm(base(`,"runner":"bash","bash_script":"b","docker_compose_file":"d"`)))
	// runner docker-compose drops bash_script
	assert.Equal(t, hash(base(`,"runner":"docker-compose","docker_compose_file":"d"`)), norm(base(`,"runner":"docker-compose","bash_script":"b","docker_compose_file":"d"`)))
	// other runners keep both
	assert.Equal(t, hash(base(`,"runner":"other","bash_script":"b","docker_compose_file":"d"`)), norm(base(`,"runner":"other","bash_script":"b","docker_compose_file":"d"`)))
	// falsy pre_launch_script values are dropped, truthy kept
	for _, falsy := range []string{`""`, `null`, `false`, `0`, `-0.0`} {
		assert.Equal(t, hash(base(``)), norm(base(`,"pre_launch_script":`+falsy)), falsy)
	}
	for _, truthy := range []string{`"x"`, `true`, `1`, `{}`, `[]`} {
		assert.NotEqual(t, hash(base(``)), norm(base(`,"pre_launch_script":`+truthy)), truthy)
	}
	// the non-normalised form keeps everything
	assert.NotEqual(t, hash(base(``)), hash(base(`,"pre_launch_script":""`)))
}

func TestComposeHashRefusals(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `1`, `{`, `{"a":1,}`, `{"a":01}`, `{"a":.5}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":1} x`, `{'a':1}`, `{"a":NaN}`, `{"a":"\u12"}`} {
		_, err := audited(ComposeHash([]byte(in)))
		require.Error(t, err, "%q", in)
		assert.True(t, errors.Is(err, ErrInvalidArgument), "%q", in)
		var iae *InvalidArgumentError
		assert.True(t, errors.As(err, &iae))
	}
	deep := make([]byte, 0, 4100)
	deep = append(deep, `{"a":`...)
	for i := 0; i < 2000; i++ {
		deep = append(deep, '[')
	}
	_, err := audited(ComposeHash(deep))
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestDumpIsValidJSON(t *testing.T) {
	out, err := audited(DumpAppCompose([]byte(`{"a":{"b":[1,2,{"c":"d"}]},"e":"f"}`)))
	require.NoError(t, err)
	assert.True(t, json.Valid(out))
}
