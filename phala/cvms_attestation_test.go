package phala_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// The values below are read from the recorded samples by independent tools
// (shared/reference/attestation/expected.json): the prod7 RTMR3 and compose
// hash, the 2025-01 example's compose hash and event count.
const (
	prod7RTMR3       = "287a9242edd8c8429913ec66f44af611b820cf9b574f303a6caeddeb4c9826311aef6e518aaf4a17f55a81154592b7b3"
	prod7ComposeHash = "12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7"
	exampleCompose   = "06768e6df639ce3be65e9e5321f8b2d82dbffb01c74323462d34c2feb9653aff"
)

func TestGetCVMAttestationRecordedSample(t *testing.T) {
	srv := phalatest.NewTestServer(t)
	a, err := audited(auditedFake(srv.Client()).GetCVMAttestation(context.Background(), phalatest.CentralCVMName))
	require.NoError(t, err)
	assert.True(t, a.IsOnline)
	assert.Empty(t, a.Error)
	require.NotNil(t, a.TCBInfo)
	assert.Equal(t, prod7RTMR3, a.TCBInfo.RTMR3)
	assert.Equal(t, prod7ComposeHash, a.TCBInfo.ComposeHash)
	require.Len(t, a.TCBInfo.EventLog, 29)
	// The exact app-compose bytes hash to the compose hash: nothing
	// re-serialised them on the way.
	sum := sha256.Sum256([]byte(a.TCBInfo.AppCompose))
	assert.Equal(t, prod7ComposeHash, hex.EncodeToString(sum[:]))

	quote, err := a.Quote()
	require.NoError(t, err)
	assert.Len(t, quote, 5006)
	assert.Equal(t, []byte{4, 0}, quote[:2], "a DCAP v4 quote")
	// The quote's RTMR3 (TD report body at 48 + 472) is the reported one.
	assert.Equal(t, prod7RTMR3, hex.EncodeToString(quote[48+472:48+520]))

	var app, compose *phala.EventLogEntry
	for i := range a.TCBInfo.EventLog {
		switch e := &a.TCBInfo.EventLog[i]; e.Event {
		case "app-id":
			app = e
		case "compose-hash":
			compose = e
		}
	}
	require.NotNil(t, app)
	require.NotNil(t, compose)
	assert.Equal(t, 3, compose.IMR)
	assert.Equal(t, phala.EventTypeDstackRuntime, compose.EventType)
	p, err := compose.PayloadBytes()
	require.NoError(t, err)
	assert.Equal(t, prod7ComposeHash, hex.EncodeToString(p))
	p, err = app.PayloadBytes()
	require.NoError(t, err)
	assert.Equal(t, phalatest.SampleAttestationAppID, hex.EncodeToString(p))
	d, err := compose.DigestBytes()
	require.NoError(t, err)
	assert.Len(t, d, 48)
	assert.Equal(t, uint32(0x8000000b), a.TCBInfo.EventLog[0].EventType, "a boot event type above 2^31 (EV_EFI_HANDOFF_TABLES2)")
}

func TestGetCVMAttestationStringEventLog(t *testing.T) {
	report, err := os.ReadFile("testdata/attestation/dstack-2025-01-example.report.json")
	require.NoError(t, err)
	compose, err := os.ReadFile("testdata/attestation/dstack-2025-01-example.app-compose.json")
	require.NoError(t, err)
	var r struct {
		Quote    string `json:"quote"`
		EventLog string `json:"event_log"`
	}
	require.NoError(t, json.Unmarshal(report, &r))
	body, err := json.Marshal(map[string]any{"is_online": true, "name": "my-app",
		"app_certificates": []any{map[string]any{"quote": r.Quote}},
		"tcb_info": map[string]any{"mrtd": "00", "rtmr0": "00", "rtmr1": "00", "rtmr2": "00", "rtmr3": "00",
			"event_log": r.EventLog, "app_compose": string(compose)}})
	require.NoError(t, err)
	srv := phalatest.NewTestServer(t)
	require.True(t, srv.SetAttestation(phalatest.CentralCVMName, body))

	a, err := audited(auditedFake(srv.Client()).GetCVMAttestation(context.Background(), phalatest.CentralCVMName))
	require.NoError(t, err)
	require.Len(t, a.TCBInfo.EventLog, 28)
	var got string
	for _, e := range a.TCBInfo.EventLog {
		if e.Event == "compose-hash" {
			got = e.EventPayload
		}
	}
	assert.Equal(t, exampleCompose, got)
	sum := sha256.Sum256([]byte(a.TCBInfo.AppCompose))
	assert.Equal(t, exampleCompose, hex.EncodeToString(sum[:]))
	q, err := a.Quote()
	require.NoError(t, err)
	assert.Equal(t, r.Quote, hex.EncodeToString(q))
	assert.True(t, a.IsPublic, "is_public absent: the official default true")
	assert.Equal(t, body, a.Raw)
}

func TestGetCVMAttestationOfflineAndErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("offline", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}/attestation", http.StatusOK,
			`{"is_online": false, "is_public": false, "error": "CVM is not running", "app_certificates": null, "tcb_info": null}`)
		a, err := audited(h.client().GetCVMAttestation(ctx, "my-app"))
		require.NoError(t, err)
		assert.Equal(t, "/api/v1/cvms/my-app/attestation", h.only().EscapedPath)
		assert.False(t, a.IsOnline)
		assert.False(t, a.IsPublic)
		assert.Equal(t, "CVM is not running", a.Error)
		assert.Nil(t, a.TCBInfo)
		_, err = a.Quote()
		assert.ErrorIs(t, err, phala.ErrNoQuote)
	})
	t.Run("event log string that is no array", func(t *testing.T) {
		h := newHarness(t)
		h.reply("GET /cvms/{id}/attestation", http.StatusOK, `{"is_online": true, "tcb_info": {"mrtd": "", "rtmr0": "",
			"rtmr1": "", "rtmr2": "", "rtmr3": "", "event_log": "{\"imr\": 3}", "app_compose": ""}}`)
		_, err := audited(h.client().GetCVMAttestation(ctx, "my-app"))
		assert.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		assert.ErrorContains(t, err, "event_log")
	})
	t.Run("no event log, and a version 2 runtime event", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("tcb_info without the event_log the spec requires"))
		h.reply("GET /cvms/a/attestation", http.StatusOK, `{"is_online": true, "tcb_info": {"mrtd": "", "rtmr0": "",
			"rtmr1": "", "rtmr2": "", "rtmr3": "", "app_compose": ""}}`)
		h.reply("GET /cvms/b/attestation", http.StatusOK, `{"is_online": true, "tcb_info": {"mrtd": "", "rtmr0": "",
			"rtmr1": "", "rtmr2": "", "rtmr3": "", "app_compose": "", "event_log": [{"imr": 3, "event_type": 134217729,
			"digest": "00", "event": "app-id", "event_payload": "0xab", "version": 2}]}}`)
		a, err := audited(h.client().GetCVMAttestation(ctx, "a"))
		require.NoError(t, err)
		assert.Empty(t, a.TCBInfo.EventLog)
		b, err := audited(h.client().GetCVMAttestation(ctx, "b"))
		require.NoError(t, err)
		require.Len(t, b.TCBInfo.EventLog, 1)
		assert.Equal(t, 2, b.TCBInfo.EventLog[0].Version)
		p, err := b.TCBInfo.EventLog[0].PayloadBytes()
		require.NoError(t, err)
		assert.Equal(t, []byte{0xab}, p)
	})
	t.Run("malformed quote hex", func(t *testing.T) {
		a := &phala.CVMAttestation{AppCertificates: []phala.AttestationCertificate{{}, {Quote: "0xzz"}}}
		_, err := a.Quote()
		assert.ErrorContains(t, err, "app_certificates[1].quote")
	})
	t.Run("not found", func(t *testing.T) {
		_, err := audited(auditedFake(phalatest.NewTestServer(t).Client()).GetCVMAttestation(ctx, "no-such-cvm"))
		assert.ErrorIs(t, err, phala.ErrNotFound)
	})
	t.Run("bad id", func(t *testing.T) {
		_, err := audited(auditedFake(phalatest.NewTestServer(t).Client()).GetCVMAttestation(ctx, ""))
		assert.ErrorIs(t, err, phala.ErrInvalidArgument)
	})
}
