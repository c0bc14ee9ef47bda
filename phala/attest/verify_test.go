package attest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sampleCase struct {
	name, quote, tcbInfo, collateral string
	at                               time.Time
	composeHash, appID               string
	kms                              KeyProvider
}

var nearmpc = sampleCase{
	name: "nearmpc", quote: "dstack-0.5.8-nearmpc.quote.bin", tcbInfo: "dstack-0.5.8-nearmpc.tcb_info.json",
	collateral: "dstack-0.5.8-nearmpc.collateral.json", at: time.Unix(1786622400, 0),
	composeHash: "2911e1f733466216dedb862d6d669e11256ee7a34ce4dbc66c4b807ba7a9c895",
	appID:       "2911e1f733466216dedb862d6d669e11256ee7a3",
	kms:         KeyProvider{Name: "local-sgx", ID: "6b5ed02e549a1c30aaa8e3171a045f1f449b0017353ef595e78e39c348c98d01"},
}

var prod7 = sampleCase{
	name: "prod7", quote: "dstack-0.5.3-phala-prod7.quote-alice.bin", tcbInfo: "dstack-0.5.3-phala-prod7.tcb_info.json",
	collateral: "dstack-0.5.3-phala-prod7.collateral.json", at: time.Unix(1756803600, 0),
	composeHash: "12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7",
	appID:       "d35e277ab5ec51f71f5e395ab2e332ed8db5853a",
}

func (c sampleCase) evidence(t testing.TB) *Evidence {
	t.Helper()
	ev, err := ParseEvidence(readTestdata(t, c.quote), readTestdata(t, c.tcbInfo))
	require.NoError(t, err)
	return ev
}

func (c sampleCase) expected(t testing.TB) Expected {
	t.Helper()
	exp := Expected{Time: c.at, Collateral: loadCollateral(t, c.collateral), ComposeHash: unhex(t, c.composeHash), AppID: unhex(t, c.appID)}
	if c.kms.Name != "" {
		exp.KMS = &c.kms
	}
	return exp
}

func TestVerifySamplesEndToEnd(t *testing.T) {
	for _, c := range []sampleCase{nearmpc, prod7} {
		t.Run(c.name, func(t *testing.T) {
			ev := c.evidence(t)
			exp := c.expected(t)
			rd := ev.quoteReportData(t)
			exp.ReportData = &rd
			r, err := Verify(context.Background(), ev, exp)
			require.NoError(t, err)
			assert.Equal(t, StatusUpToDate, r.Quote.Status)
			assert.Equal(t, c.composeHash, hex.EncodeToString(r.ComposeHash[:]))
			assert.Equal(t, ev.AppCompose, r.AppCompose, "the attested baseline")
			byCheck := map[Check]CheckResult{}
			for _, cr := range r.Checks {
				byCheck[cr.Check] = cr
			}
			for _, ch := range []Check{CheckTCBStatus, CheckDebug, CheckEventLog, CheckRTMR, CheckComposeHash, CheckAppID, CheckMRConfigID, CheckReportData} {
				assert.True(t, byCheck[ch].Passed, "%s: %s", ch, byCheck[ch].Detail)
			}
			assert.False(t, byCheck[CheckOSImage].Passed, "no pins given: reported as skipped")
			assert.Contains(t, byCheck[CheckOSImage].Detail, "skipped")
		})
	}
}

// quoteReportData reads the report data of the quote (for tests that
// pin it as a caller would after asking for it).
func (ev *Evidence) quoteReportData(t testing.TB) [64]byte {
	q, err := ParseQuote(ev.Quote)
	require.NoError(t, err)
	return q.Report.ReportData
}

func TestVerifyComposeHashAllowedPredicate(t *testing.T) {
	ev, exp := prod7.evidence(t), prod7.expected(t)
	want := [32]byte(exp.ComposeHash)
	var asked [32]byte
	exp.ComposeHash = nil
	exp.ComposeHashAllowed = func(_ context.Context, h [32]byte) (bool, error) { asked = h; return h == want, nil }
	_, err := Verify(context.Background(), ev, exp)
	require.NoError(t, err)
	assert.Equal(t, want, asked)
}

func TestVerifyOSImagePinsFromProd7(t *testing.T) {
	ev := prod7.evidence(t)
	exp := prod7.expected(t)
	exp.OS = &OSImage{
		MRTD:        unhex(t, "f06dfda6dce1cf904d4e2bab1dc370634cf95cefa2ceb2de2eee127c9382698090d7a4a13e14c536ec6c9c3c8fa87077"),
		OSImageHash: unhex(t, "2d24d302cc8686d6a0ece71a6afef55c506bc8591e3bcc1ec3eb5323d77582c4"),
	}
	r, err := Verify(context.Background(), ev, exp)
	require.NoError(t, err)
	assert.Equal(t, "2d24d302cc8686d6a0ece71a6afef55c506bc8591e3bcc1ec3eb5323d77582c4", hex.EncodeToString(r.OSImageHash))
	exp.OS.OSImageHash[0] ^= 1
	_, err = Verify(context.Background(), ev, exp)
	assert.ErrorIs(t, err, ErrOSImage)
}

func TestVerifyKMSKeyProvider(t *testing.T) {
	ev := prod7.evidence(t)
	exp := prod7.expected(t)
	r, err := Verify(context.Background(), ev, exp)
	require.NoError(t, err)
	require.Equal(t, "kms", r.KeyProvider.Name)
	anchor, err := KMSKeyProvider(unhex(t, r.KeyProvider.ID)) // the KMS root CA key, as an on-chain anchor gives it
	require.NoError(t, err)
	exp.KMS = &anchor
	_, err = Verify(context.Background(), ev, exp)
	require.NoError(t, err)
	_, err = KMSKeyProvider([]byte{1, 2})
	assert.ErrorIs(t, err, ErrInput)
	exp.KMS = &KeyProvider{Name: "kms", ID: "3059" + r.KeyProvider.ID[4:len(r.KeyProvider.ID)-2] + "00"}
	_, err = Verify(context.Background(), ev, exp)
	assert.ErrorIs(t, err, ErrKeyProvider)
}

// Each failure the issue names fails with its own typed error.
func TestVerifyNegativeCasesFailDistinctly(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		mutate func(*Evidence, *Expected)
		want   *Error
	}{
		"wrong compose hash": {func(_ *Evidence, e *Expected) { e.ComposeHash[0] ^= 1 }, ErrComposeHash},
		"approved compose bytes differ": {func(_ *Evidence, e *Expected) {
			e.ComposeHash = nil
			e.AppCompose = append(readTestdata(t, "dstack-0.5.8-nearmpc.app_compose.json"), ' ')
		}, ErrComposeHash},
		"other app id":              {func(_ *Evidence, e *Expected) { e.AppID[19] ^= 1 }, ErrAppID},
		"untrusted KMS":             {func(_ *Evidence, e *Expected) { e.KMS = &KeyProvider{Name: "kms", ID: "00"} }, ErrKeyProvider},
		"report data":               {func(_ *Evidence, e *Expected) { e.ReportData = &[64]byte{1} }, ErrReportData},
		"expired collateral":        {func(_ *Evidence, e *Expected) { e.Time = time.Unix(1789200000, 0) }, ErrExpired},
		"collateral not yet issued": {func(_ *Evidence, e *Expected) { e.Time = time.Unix(1786600000, 0) }, ErrNotYetValid},
		"no time":                   {func(_ *Evidence, e *Expected) { e.Time = time.Time{} }, ErrInput},
		"tampered event payload": {func(ev *Evidence, _ *Expected) {
			for i := range ev.EventLog {
				if ev.EventLog[i].Event == "compose-hash" {
					ev.EventLog[i].EventPayload = "3911" + ev.EventLog[i].EventPayload[4:]
				}
			}
		}, ErrEventLog},
		"tampered event with its digest recomputed": {func(ev *Evidence, _ *Expected) {
			for i := range ev.EventLog {
				if e := &ev.EventLog[i]; e.Event == "instance-id" {
					e.EventPayload = "00"
					d := RuntimeEventDigest(e.Event, []byte{0}, 0)
					e.Digest = hex.EncodeToString(d[:])
				}
			}
		}, ErrRTMR},
		"app-compose in evidence differs": {func(ev *Evidence, _ *Expected) { ev.AppCompose = append(ev.AppCompose, '\n') }, ErrComposeHash},
		"tcb_info rtmr3 claim differs":    {func(ev *Evidence, _ *Expected) { ev.TCBInfo.RTMR3 = "00" + ev.TCBInfo.RTMR3[2:] }, ErrRTMR},
		"non-runtime event in RTMR3": {func(ev *Evidence, _ *Expected) {
			ev.EventLog = append(ev.EventLog, Event{IMR: 3, EventType: 1, Digest: ev.EventLog[0].Digest})
		}, ErrEventLog},
		"duplicate compose-hash event": {func(ev *Evidence, _ *Expected) {
			for _, e := range ev.EventLog {
				if e.Event == "compose-hash" {
					ev.EventLog = append(ev.EventLog, e)
					break
				}
			}
		}, ErrEventLog}, // ambiguous before the replay is compared
		"compose hash not allowed by the caller's predicate": {func(_ *Evidence, e *Expected) {
			e.ComposeHash = nil
			e.ComposeHashAllowed = func(context.Context, [32]byte) (bool, error) { return false, nil }
		}, ErrComposeHash},
		"caller's predicate fails": {func(_ *Evidence, e *Expected) {
			e.ComposeHash = nil
			e.ComposeHashAllowed = func(context.Context, [32]byte) (bool, error) { return false, errors.New("rpc down") }
		}, ErrComposeHash},
		"two compose expectations":  {func(_ *Evidence, e *Expected) { e.AppCompose = []byte("{}") }, ErrInput},
		"V3 extras against a V1 id": {func(_ *Evidence, e *Expected) { e.InitScriptHashes = [][32]byte{} }, ErrMRConfigID},
		"status not accepted":       {func(_ *Evidence, e *Expected) { e.Policy = Policy{Accept: []TCBStatus{StatusSWHardeningNeeded}} }, ErrTCBStatus},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ev := nearmpc.evidence(t)
			exp := nearmpc.expected(t)
			c.mutate(ev, &exp)
			r, err := Verify(ctx, ev, exp)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want, "%v", err)
			assert.Equal(t, c.want.Check, CheckOf(err))
			require.NotEmpty(t, r.Checks)
			last := r.Checks[len(r.Checks)-1]
			assert.False(t, last.Passed)
			assert.Equal(t, c.want.Check, last.Check)
		})
	}
}

func TestVerifyFlippedQuoteBitsFailSignature(t *testing.T) {
	raw := readTestdata(t, nearmpc.quote)
	col := loadCollateral(t, nearmpc.collateral)
	for name, off := range map[string]int{"report_data": 48 + 520, "rtmr3": 48 + 472} {
		q := append([]byte(nil), raw...)
		q[off+3] ^= 0x10
		_, err := VerifyQuote(q, col, nearmpc.at, StrictPolicy)
		assert.ErrorIs(t, err, ErrQuoteSignature, name)
	}
}

func TestVerifyOldExampleWithoutCollateral(t *testing.T) {
	var rep struct {
		Quote    string   `json:"quote"`
		EventLog EventLog `json:"event_log"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "dstack-2025-01-example.report.json"), &rep))
	ev := &Evidence{Quote: unhex(t, rep.Quote), EventLog: rep.EventLog, AppCompose: readTestdata(t, "dstack-2025-01-example.app-compose.json")}
	exp := Expected{Time: time.Unix(1737590400, 0), SignatureOnly: true, AppCompose: ev.AppCompose,
		AppID: unhex(t, "06768e6df639ce3be65e9e5321f8b2d82dbffb01")}
	_, err := Verify(context.Background(), ev, exp)
	assert.ErrorIs(t, err, ErrMRConfigID, "all-zero mr_config_id binds nothing")
	exp.AllowUnboundMRConfigID = true
	r, err := Verify(context.Background(), ev, exp)
	require.NoError(t, err)
	assert.Empty(t, r.Quote.Status, "no collateral: no TCB status")
	assert.Equal(t, "0d51f07efbbdc35b9f97b65655171e5679df26daa7e247280a91b439f1104035", func() string { p, _ := r.Replay.Lookup("rootfs-hash"); return hex.EncodeToString(p) }())
}

func TestVerifyRejectsMissingInputsBeforeWork(t *testing.T) {
	ev := nearmpc.evidence(t)
	for name, exp := range map[string]Expected{
		"no compose":    {Time: nearmpc.at, AppID: make([]byte, 20), SignatureOnly: true},
		"short app id":  {Time: nearmpc.at, AppID: []byte{1}, ComposeHash: make([]byte, 32), SignatureOnly: true},
		"no collateral": {Time: nearmpc.at, AppID: make([]byte, 20), ComposeHash: make([]byte, 32)},
		"signature only with a policy": {Time: nearmpc.at, AppID: make([]byte, 20), ComposeHash: make([]byte, 32), SignatureOnly: true,
			Policy: Policy{Accept: []TCBStatus{StatusOutOfDate}}},
	} {
		_, err := Verify(context.Background(), ev, exp)
		assert.ErrorIs(t, err, ErrInput, name)
	}
	_, err := Verify(context.Background(), nil, Expected{})
	assert.ErrorIs(t, err, ErrInput)
}
