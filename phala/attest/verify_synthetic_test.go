package attest

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syntheticEvidence builds a signed quote whose RTMRs are the replay of
// events and whose mr_config_id is id, as a dstack CVM would present it.
func syntheticEvidence(t *testing.T, p *testPKI, events EventLog, id [48]byte) *Evidence {
	rep, err := ReplayEventLog(events)
	require.NoError(t, err)
	r := defaultReport()
	r.RTMR, r.MRConfigID = rep.RTMR, id
	return &Evidence{Quote: p.quote(t, r, 4, 2), EventLog: events}
}

func runtimeEvent(name string, payload []byte) Event {
	d := RuntimeEventDigest(name, payload, 0)
	return Event{IMR: 3, EventType: RuntimeEventType, Digest: hex.EncodeToString(d[:]), Event: name, EventPayload: hex.EncodeToString(payload)}
}

// V2 and V3 mr_config_id, which no recorded sample uses, verified end to
// end from the events of a signed synthetic quote.
func TestVerifyMRConfigV2AndV3FromEvents(t *testing.T) {
	p := newTestPKI(t)
	compose := [32]byte(bytes.Repeat([]byte{0x22}, 32))
	app, instance := bytes.Repeat([]byte{0x11}, 20), bytes.Repeat([]byte{0x44}, 20)
	kmsKey := bytes.Repeat([]byte{0x33}, 32)
	events := EventLog{
		runtimeEvent("app-id", app), runtimeEvent("compose-hash", compose[:]), runtimeEvent("instance-id", instance),
		runtimeEvent("key-provider", []byte(`{"name":"kms","id":"`+hex.EncodeToString(kmsKey)+`"}`)), runtimeEvent("system-ready", nil),
	}
	c := MRConfig{ComposeHash: compose, AppID: app, KeyProvider: KeyProviderKMS, KeyProviderID: kmsKey, InstanceID: instance}
	v2, err := MRConfigIDV2(c)
	require.NoError(t, err)
	v3, err := MRConfigIDV3(c)
	require.NoError(t, err)
	gpu := bytes.Repeat([]byte{0x55}, 32)
	cg := c
	cg.GPUPolicyHash = gpu
	v3gpu, err := MRConfigIDV3(cg)
	require.NoError(t, err)
	exp := Expected{Time: p.t0, Collateral: p.collateral(t, testTCB{}), ComposeHash: compose[:], AppID: app,
		KMS: &KeyProvider{Name: "kms", ID: hex.EncodeToString(kmsKey)}}
	for name, id := range map[string][48]byte{"V1": MRConfigIDV1(compose), "V2": v2, "V3": v3} {
		r, err := p.verifier().verifyEvidence(context.Background(), syntheticEvidence(t, p, events, id), exp)
		require.NoError(t, err, name)
		assert.Equal(t, id, r.MRConfigID)
	}
	_, err = p.verifier().verifyEvidence(context.Background(), syntheticEvidence(t, p, events, v3gpu), exp)
	assert.ErrorIs(t, err, ErrMRConfigID, "a GPU policy the caller did not expect")
	withGPU := exp
	withGPU.GPUPolicyHash = gpu
	_, err = p.verifier().verifyEvidence(context.Background(), syntheticEvidence(t, p, events, v3gpu), withGPU)
	require.NoError(t, err)

	other := c
	other.AppID = bytes.Repeat([]byte{0x12}, 20)
	v3other, err := MRConfigIDV3(other)
	require.NoError(t, err)
	_, err = p.verifier().verifyEvidence(context.Background(), syntheticEvidence(t, p, events, v3other), exp)
	assert.ErrorIs(t, err, ErrMRConfigID, "an id for another app")

	dup := append(append(EventLog{}, events...), runtimeEvent("compose-hash", compose[:]))
	_, err = p.verifier().verifyEvidence(context.Background(), syntheticEvidence(t, p, dup, v3), exp)
	assert.ErrorIs(t, err, ErrEventLog, "a second compose-hash event, even one the quote covers")

	dbg := syntheticEvidence(t, p, events, v3)
	r := defaultReport()
	rep, _ := ReplayEventLog(events)
	r.RTMR, r.MRConfigID, r.TDAttributes[0] = rep.RTMR, v3, 1
	dbg.Quote = p.quote(t, r, 4, 2)
	_, err = p.verifier().verifyEvidence(context.Background(), dbg, exp)
	assert.ErrorIs(t, err, ErrDebug, "a debug TD")
}
