package attest

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// padded is a 33-byte vector head padded to 48 bytes.
func padded(head string) string { return head + strings.Repeat("00", 15) }

// The vectors the official Go and JS SDKs share (go/dstack_helpers_test.go,
// js/src/utils/get_mr_config_id.test.ts), recorded in
// shared/reference/api-2026.md section 3.6.
func TestMRConfigIDOfficialVectors(t *testing.T) {
	compose := [32]byte(seq(32, 0))
	v1 := MRConfigIDV1(compose)
	assert.Equal(t, padded("01"+hex.EncodeToString(seq(32, 0))), hex.EncodeToString(v1[:]))

	v2, err := MRConfigIDV2(MRConfig{ComposeHash: compose, AppID: seq(20, 0), KeyProvider: KeyProviderKMS, KeyProviderID: []byte{0xaa, 0xbb, 0xcc, 0xdd}})
	require.NoError(t, err)
	assert.Equal(t, padded("02e472ed80a08042f044ba63b53b798e98e3ea5219cd078007b1ac8b3dfc762b94"), hex.EncodeToString(v2[:]))
	v2none, err := MRConfigIDV2(MRConfig{ComposeHash: compose, AppID: seq(20, 0), KeyProvider: KeyProviderNone})
	require.NoError(t, err)
	assert.Equal(t, padded("02b21a3a65891c2c3955d82000b30fab13f4adc1a12dc4a84793ea322b71f1882a"), hex.EncodeToString(v2none[:]))

	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	full := MRConfig{AppID: rep(0x11, 20), ComposeHash: [32]byte(rep(0x22, 32)), KeyProvider: KeyProviderKMS, KeyProviderID: rep(0x33, 32), InstanceID: rep(0x44, 20)}
	v3, err := MRConfigIDV3(full)
	require.NoError(t, err)
	assert.Equal(t, padded("0350fc88d0a462b6a0b06ba25859abc02e98c2a8d9bd000b7dc0d8bae65e71ecbb"), hex.EncodeToString(v3[:]))
	v3none, err := MRConfigIDV3(MRConfig{AppID: rep(0x11, 20), ComposeHash: [32]byte(rep(0x22, 32)), KeyProvider: KeyProviderNone})
	require.NoError(t, err)
	assert.Equal(t, padded("0301d4d7e6ca2922bb80683c27fe1f4da318cf14d1c38db97563c2b6209af7dba5"), hex.EncodeToString(v3none[:]))

	for _, id := range [][48]byte{v1, v2, v3} {
		c := full
		if id[0] == 1 || id[0] == 2 {
			c = MRConfig{ComposeHash: compose, AppID: seq(20, 0), KeyProvider: KeyProviderKMS, KeyProviderID: []byte{0xaa, 0xbb, 0xcc, 0xdd}}
		}
		assert.NoError(t, VerifyMRConfigID(id, c))
		c.ComposeHash[5] ^= 1
		assert.ErrorIs(t, VerifyMRConfigID(id, c), ErrMRConfigID)
	}
	assert.ErrorIs(t, VerifyMRConfigID([48]byte{}, full), ErrMRConfigID)
	assert.ErrorIs(t, VerifyMRConfigID([48]byte{9}, full), ErrMRConfigID)
}

func TestMRConfigV3DocumentShape(t *testing.T) {
	c := MRConfig{ComposeHash: [32]byte{1}, KeyProvider: KeyProviderLocal, InitScriptHashes: [][32]byte{}}
	doc, err := MRConfigV3Document(c)
	require.NoError(t, err)
	assert.Equal(t, `{"compose_hash":"01`+strings.Repeat("00", 31)+`","init_script_hashes":[],"key_provider":"local","version":3}`, string(doc))
	c.InitScriptHashes = nil
	doc2, err := MRConfigV3Document(c)
	require.NoError(t, err)
	assert.NotContains(t, string(doc2), "init_script_hashes", "nil leaves the field out; empty writes []")

	_, err = MRConfigV3Document(MRConfig{KeyProvider: "sgx"})
	assert.ErrorIs(t, err, ErrInput)
	_, err = MRConfigV3Document(MRConfig{KeyProvider: KeyProviderNone, AppID: []byte{1}})
	assert.ErrorIs(t, err, ErrInput)
	_, err = MRConfigV3Document(MRConfig{KeyProvider: KeyProviderNone, InitScriptHashes: make([][32]byte, 6)})
	assert.ErrorIs(t, err, ErrInput)
	_, err = MRConfigIDV2(MRConfig{KeyProvider: KeyProviderNone})
	assert.ErrorIs(t, err, ErrInput)
}
