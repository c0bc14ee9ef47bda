package phalatest_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// attestationScript reads the attestation with @phala/cloud's
// getCvmAttestation, which parses the answer with its zod
// CvmAttestationSchema (strict about every certificate field) and throws
// when the shape is wrong.
const attestationScript = `
const cloud = require("@phala/cloud");
const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const client = cloud.createClient({ apiKey: cfg.api_key, baseURL: cfg.prefix });
  const a = await cloud.getCvmAttestation(client, { id: cfg.id });
  const ev = a.tcb_info.event_log;
  process.stdout.write(JSON.stringify({ is_online: a.is_online, rtmr3: a.tcb_info.rtmr3, events: ev.length,
    compose_event: ev.filter((e) => e.event === "compose-hash").map((e) => e.event_payload)[0],
    quote: a.app_certificates[0].quote, app_compose: a.tcb_info.app_compose }));
})().catch((e) => { console.error(e && e.issues ? JSON.stringify(e.issues) : e); process.exit(1); });
`

// TestJSSDKReadsTheAttestation: the recorded attestation phalatest serves
// is what @phala/cloud 0.2.9 accepts, and it reads the same measurements,
// event log, quote and exact app-compose bytes as GetCVMAttestation.
func TestJSSDKReadsTheAttestation(t *testing.T) {
	dir := nodejs.Install(t)
	s := phalatest.NewTestServer(t)
	cfg, err := json.Marshal(map[string]any{"prefix": s.URL(), "api_key": s.APIKey(), "id": phalatest.CentralCVMName})
	require.NoError(t, err)
	var js struct {
		IsOnline     bool   `json:"is_online"`
		RTMR3        string `json:"rtmr3"`
		Events       int    `json:"events"`
		ComposeEvent string `json:"compose_event"`
		Quote        string `json:"quote"`
		AppCompose   string `json:"app_compose"`
	}
	require.NoError(t, json.Unmarshal(nodejs.Run(t, dir, attestationScript, cfg), &js))
	a, err := s.Client().GetCVMAttestation(ctxT(t), phalatest.CentralCVMName)
	require.NoError(t, err)
	assert.True(t, js.IsOnline)
	assert.Equal(t, js.RTMR3, a.TCBInfo.RTMR3)
	assert.Equal(t, js.Events, len(a.TCBInfo.EventLog))
	assert.Equal(t, js.AppCompose, a.TCBInfo.AppCompose)
	q, err := a.Quote()
	require.NoError(t, err)
	assert.Equal(t, js.Quote, hex.EncodeToString(q))
	var goEvent string
	for _, e := range a.TCBInfo.EventLog {
		if e.Event == "compose-hash" {
			goEvent = e.EventPayload
		}
	}
	assert.Equal(t, js.ComposeEvent, goEvent)
	assert.NotEmpty(t, goEvent)
	assert.Empty(t, s.SpecViolations())
}
