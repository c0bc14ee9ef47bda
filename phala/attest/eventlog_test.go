package attest

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventLogDecodesArrayAndString(t *testing.T) {
	arr := `[{"imr":3,"event_type":134217729,"digest":"` + zeros(48) + `","event":"x","event_payload":"00"}]`
	str, err := json.Marshal(arr)
	require.NoError(t, err)
	for _, in := range []string{arr, string(str)} {
		var l EventLog
		require.NoError(t, json.Unmarshal([]byte(in), &l))
		require.Len(t, l, 1)
		assert.Equal(t, "x", l[0].Event)
	}
	var l EventLog
	assert.Error(t, json.Unmarshal([]byte(`"not an array"`), &l))
	assert.Error(t, json.Unmarshal([]byte(`{}`), &l))
}

func zeros(n int) string { return hex.EncodeToString(make([]byte, n)) }

func TestRuntimeEventDigestForms(t *testing.T) {
	// Version 1: SHA-384(le32(0x08000001) ":" name ":" payload).
	d := RuntimeEventDigest("app-id", []byte{1, 2}, 0)
	want := sha512.Sum384(append([]byte("\x01\x00\x00\x08:app-id:"), 1, 2))
	assert.Equal(t, want, d)
	// Version 2: SHA-384 of the JCS document (keys name, payload, type).
	d2 := RuntimeEventDigest("app-id", []byte{1, 2}, 2)
	assert.Equal(t, sha512.Sum384([]byte(`{"name":"app-id","payload":"0102","type":134217729}`)), d2)
	// JCS escaping of the name follows JSON.stringify.
	d3 := RuntimeEventDigest("a\"\u2028", nil, 2)
	assert.Equal(t, sha512.Sum384([]byte("{\"name\":\"a\\\"\u2028\",\"payload\":\"\",\"type\":134217729}")), d3)
}

func TestReplayRejectsMalformedEvents(t *testing.T) {
	good := RuntimeEventDigest("e", nil, 0)
	for name, ev := range map[string]Event{
		"imr out of range":        {IMR: 4, EventType: 1, Digest: zeros(48)},
		"short digest":            {IMR: 0, EventType: 1, Digest: zeros(32)},
		"payload not hex":         {IMR: 3, EventType: RuntimeEventType, Digest: hex.EncodeToString(good[:]), Event: "e", EventPayload: "zz"},
		"unknown version":         {IMR: 3, EventType: RuntimeEventType, Digest: hex.EncodeToString(good[:]), Event: "e", Version: 7},
		"digest field wrong":      {IMR: 3, EventType: RuntimeEventType, Digest: zeros(48), Event: "e"},
		"firmware event in RTMR3": {IMR: 3, EventType: 0x80000001, Digest: zeros(48)},
	} {
		_, err := ReplayEventLog(EventLog{ev})
		assert.ErrorIs(t, err, ErrEventLog, name)
	}
	r, err := ReplayEventLog(EventLog{{IMR: 3, EventType: RuntimeEventType, Digest: hex.EncodeToString(good[:]), Event: "e", Version: 1}})
	require.NoError(t, err)
	assert.Equal(t, sha512.Sum384(append(make([]byte, 48), good[:]...)), r.RTMR[3])
}
