package phala

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var acceptedSamples = []string{
	`{"status":"in_progress","message":"CVM update started","correlation_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff"}`,
	`{"status":"no_change","message":"same"}`, `{}`, ` { } `, "{\n\t\"Status\" : \"in_progress\" , \"CORRELATION_ID\":\"c\"\r}",
	`{"status":"a","status":"b"}`, `{"status":null,"allowed_envs_changed":true}`, `{"allowed_envs_changed":null}`,
	`{"extra":true,"other":null,"x":"y"}`, `{"status":true}`, `{"allowed_envs_changed":"yes"}`, `{"n":1}`,
	`{"o":{}}`, `{"a":[]}`, `{"s":"\u0041"}`, `{"s":"é"}`, `{"status":"x"} x`, `{"status":"x",}`, `{"status"}`,
	`{"":"x"}`, `{"status":truex}`, `[]`, `"x"`, ``, `{`, `{"status":"x"`, `{"st\"atus":"x"}`, "{\"s\":\"\x01\"}",
}

func TestParseAcceptedMatchesUnmarshal(t *testing.T) {
	fast := 0
	for _, body := range acceptedSamples {
		if checkParseAccepted(t, []byte(body)) {
			fast++
		}
	}
	assert.Greater(t, fast, 8, "ordinary answers take the hand-written path")
	a, ok := parseAccepted([]byte(acceptedSamples[0]))
	require.True(t, ok)
	assert.Equal(t, acceptedBody{Status: "in_progress", Message: "CVM update started", CorrelationID: "6f9619ff-8b86-4011-b42d-00c04fc964ff"}, a)
}

// checkParseAccepted: whenever parseAccepted takes a body, json.Unmarshal
// decodes it without error to the same value.
func checkParseAccepted(t *testing.T, body []byte) bool {
	t.Helper()
	got, ok := parseAccepted(body)
	if !ok {
		return false
	}
	var want acceptedBody
	require.NoError(t, json.Unmarshal(body, &want), "parseAccepted took %q", body)
	require.Equal(t, want, got, "%q", body)
	return true
}

func FuzzParseAccepted(f *testing.F) {
	for _, s := range acceptedSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkParseAccepted(t, body) })
}

func BenchmarkDecodeAccepted(b *testing.B) {
	body := []byte(acceptedSamples[0])
	b.Run("parseAccepted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parseAccepted(body)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a acceptedBody
			_ = json.Unmarshal(body, &a)
		}
	})
}
