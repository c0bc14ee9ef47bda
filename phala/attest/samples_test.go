package attest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The samples of shared/reference/attestation (see testdata/README.md),
// copied byte for byte, and expected.json's independently computed values.

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func loadCollateral(t testing.TB, name string) *Collateral {
	t.Helper()
	c, err := ParseCollateral(readTestdata(t, name))
	require.NoError(t, err)
	return c
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

type expectedFile struct {
	Samples map[string]map[string]json.RawMessage `json:"samples"`
}

type expectedQuote struct {
	SizeBytes int `json:"size_bytes"`
	Header    struct {
		Version  uint16 `json:"version"`
		TEEType  string `json:"tee_type"`
		BodyType uint16 `json:"body_type"`
	} `json:"header"`
	TDReport map[string]string `json:"td_report"`
	Trailing int               `json:"trailing_bytes_after_signature_data"`
	PCKLeaf  struct {
		FMSPC string `json:"fmspc"`
	} `json:"pck_leaf"`
}

type expectedVerification struct {
	TimeUnix   int64   `json:"time_unix"`
	Collateral *string `json:"collateral"`
	Note       string  `json:"note"`
	QVL        *struct {
		OK          bool     `json:"ok"`
		Status      string   `json:"status"`
		AdvisoryIDs []string `json:"advisory_ids"`
		Error       string   `json:"error"`
	} `json:"phala_dcap_qvl_0.3.9"`
}

type expectedEventLog struct {
	Replay map[string]struct {
		Replayed string `json:"replayed"`
		Quote    string `json:"quote"`
	} `json:"replay"`
	IMR3 []struct {
		Event      string `json:"event"`
		PayloadHex string `json:"event_payload_hex"`
		Digest     string `json:"digest"`
		Recomputed string `json:"recomputed_digest"`
	} `json:"imr3_events"`
}

type expectedCompose struct {
	EventPayload string `json:"compose_hash_event_payload"`
	SHA256       string `json:"sha256_app_compose_exact_bytes"`
	MRConfigID   struct {
		Hex string `json:"hex"`
	} `json:"mr_config_id"`
	AppID string `json:"app_id_event_payload"`
}

func loadExpected(t testing.TB) expectedFile {
	t.Helper()
	var e expectedFile
	require.NoError(t, json.Unmarshal(readTestdata(t, "expected.json"), &e))
	require.Len(t, e.Samples, 4)
	return e
}

func field[T any](t testing.TB, m map[string]json.RawMessage, key string) T {
	t.Helper()
	var v T
	require.Contains(t, m, key)
	require.NoError(t, json.Unmarshal(m[key], &v), key)
	return v
}

// sampleQuotes maps expected.json quote keys to files.
var sampleQuotes = map[string]map[string]string{
	"dstack-0.5.8-nearmpc":     {"quote": "dstack-0.5.8-nearmpc.quote.bin"},
	"dstack-0.5.3-phala-prod7": {"quote_alice": "dstack-0.5.3-phala-prod7.quote-alice.bin", "quote_bob": "dstack-0.5.3-phala-prod7.quote-bob.bin"},
	"dstack-2025-01-example":   {"quote": "dstack-2025-01-example.quote.bin"},
	"tdx-v5-dcapqvl":           {"quote": "tdx-v5-dcapqvl.quote.bin"},
}

func TestSampleQuotesParseAsExpected(t *testing.T) {
	e := loadExpected(t)
	n := 0
	for sample, quotes := range sampleQuotes {
		for key, file := range quotes {
			want := field[expectedQuote](t, e.Samples[sample], key)
			raw := readTestdata(t, file)
			require.Len(t, raw, want.SizeBytes)
			q, err := ParseQuote(raw)
			require.NoError(t, err, file)
			assert.Equal(t, want.Header.Version, q.Version, file)
			assert.Equal(t, want.Header.TEEType, "0x"+hex.EncodeToString([]byte{byte(q.TEEType)}), file)
			assert.Equal(t, want.Header.BodyType, q.BodyType, file)
			r := q.Report
			got := map[string][]byte{
				"tee_tcb_svn": r.TEETCBSVN[:], "mr_seam": r.MRSEAM[:], "mr_signer_seam": r.MRSignerSEAM[:],
				"seam_attributes": r.SEAMAttributes[:], "td_attributes": r.TDAttributes[:], "xfam": r.XFAM[:],
				"mr_td": r.MRTD[:], "mr_config_id": r.MRConfigID[:], "mr_owner": r.MROwner[:], "mr_owner_config": r.MROwnerConfig[:],
				"rt_mr0": r.RTMR[0][:], "rt_mr1": r.RTMR[1][:], "rt_mr2": r.RTMR[2][:], "rt_mr3": r.RTMR[3][:],
				"report_data": r.ReportData[:], "tee_tcb_svn2": r.TEETCBSVN2[:], "mr_servicetd": r.MRServiceTD[:],
			}
			for k, v := range want.TDReport {
				assert.Equal(t, v, hex.EncodeToString(got[k]), "%s %s", file, k)
				n++
			}
			end := len(q.SignedData) + 4 + 4300
			assert.Equal(t, want.Trailing, len(raw)-end, file)
			chain, err := parseChainPEM(CheckPCKChain, "chain", q.PCKChainPEM)
			require.NoError(t, err)
			pck, err := parsePCK(chain[0])
			require.NoError(t, err)
			assert.Equal(t, want.PCKLeaf.FMSPC, hex.EncodeToString(pck.FMSPC[:]), file)
		}
	}
	assert.Equal(t, 15*4+17, n, "every td_report field of every quote compared")
}

// qvlErrorChecks maps dcap-qvl's verdicts in expected.json to our checks.
var qvlErrorChecks = map[string]*Error{
	"TCBInfo issue date is in the future":     ErrNotYetValid,
	"QE Identity expired":                     ErrExpired,
	"TCBInfo expired":                         ErrExpired,
	"Certificate is expired or not yet valid": ErrNotYetValid,
	"No matching TCB level found":             ErrTCBLevel,
}

func TestSampleVerdictsAtGivenTimes(t *testing.T) {
	e := loadExpected(t)
	cases := 0
	for sample, m := range e.Samples {
		for i, v := range field[[]expectedVerification](t, m, "verification") {
			file := sampleQuotes[sample]["quote"]
			switch {
			case strings.Contains(v.Note, "quote of dstack-0.5.8-nearmpc"):
				file = sampleQuotes["dstack-0.5.8-nearmpc"]["quote"]
			case sample == "dstack-0.5.3-phala-prod7" && i == 1:
				file = sampleQuotes[sample]["quote_bob"]
			case sample == "dstack-0.5.3-phala-prod7":
				file = sampleQuotes[sample]["quote_alice"]
			}
			at := time.Unix(v.TimeUnix, 0)
			raw := readTestdata(t, file)
			if v.Collateral == nil {
				res, err := VerifyQuoteSignature(raw, at)
				require.NoError(t, err, "%s at %s without collateral", file, at)
				assert.Empty(t, res.Status)
				cases++
				continue
			}
			require.NotNil(t, v.QVL)
			res, err := VerifyQuote(raw, loadCollateral(t, *v.Collateral), at, StrictPolicy)
			if v.QVL.OK {
				require.NoError(t, err, "%s at %s", file, at)
				assert.Equal(t, TCBStatus(v.QVL.Status), res.Status)
				assert.Equal(t, v.QVL.AdvisoryIDs, res.AdvisoryIDs)
			} else {
				want := qvlErrorChecks[v.QVL.Error]
				require.NotNil(t, want, "unmapped verdict %q", v.QVL.Error)
				assert.ErrorIs(t, err, want, "%s at %s: dcap-qvl says %q", file, at, v.QVL.Error)
			}
			cases++
		}
	}
	assert.Equal(t, 12, cases)
}

func TestSampleEventLogsReplayAsExpected(t *testing.T) {
	e := loadExpected(t)
	logs := map[string]EventLog{}
	for _, s := range []string{"dstack-0.5.8-nearmpc", "dstack-0.5.3-phala-prod7"} {
		var ti TCBInfo
		require.NoError(t, json.Unmarshal(readTestdata(t, s+".tcb_info.json"), &ti))
		logs[s] = ti.EventLog
	}
	var rep struct {
		EventLog EventLog `json:"event_log"` // a JSON-encoded string in this file
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "dstack-2025-01-example.report.json"), &rep))
	logs["dstack-2025-01-example"] = rep.EventLog
	for s, log := range logs {
		want := field[expectedEventLog](t, e.Samples[s], "event_log")
		r, err := ReplayEventLog(log)
		require.NoError(t, err, s)
		for i := range 4 {
			w := want.Replay["rtmr"+string(rune('0'+i))]
			assert.Equal(t, w.Replayed, hex.EncodeToString(r.RTMR[i][:]), "%s rtmr%d", s, i)
			assert.Equal(t, w.Quote, w.Replayed)
		}
		require.Len(t, r.Runtime, len(want.IMR3), s)
		for i, ev := range want.IMR3 {
			assert.Equal(t, ev.Event, r.Runtime[i].Name)
			assert.Equal(t, ev.PayloadHex, hex.EncodeToString(r.Runtime[i].Payload))
			assert.Equal(t, ev.Recomputed, hex.EncodeToString(r.Runtime[i].Digest[:]))
		}
	}
}

func TestSampleComposeHashAndMRConfigID(t *testing.T) {
	e := loadExpected(t)
	for s, file := range map[string]string{
		"dstack-0.5.8-nearmpc":     "dstack-0.5.8-nearmpc.app_compose.json",
		"dstack-0.5.3-phala-prod7": "dstack-0.5.3-phala-prod7.app_compose.json",
		"dstack-2025-01-example":   "dstack-2025-01-example.app-compose.json",
	} {
		want := field[expectedCompose](t, e.Samples[s], "compose")
		sum := sha256.Sum256(readTestdata(t, file))
		assert.Equal(t, want.SHA256, hex.EncodeToString(sum[:]), s)
		assert.Equal(t, want.EventPayload, hex.EncodeToString(sum[:]), s)
		id := [48]byte(unhex(t, want.MRConfigID.Hex))
		if allZero(id[:]) {
			assert.ErrorIs(t, VerifyMRConfigID(id, MRConfig{ComposeHash: sum}), ErrMRConfigID, "all zero binds nothing")
			continue
		}
		v1 := MRConfigIDV1(sum)
		assert.Equal(t, want.MRConfigID.Hex, hex.EncodeToString(v1[:]), s)
		assert.NoError(t, VerifyMRConfigID(id, MRConfig{ComposeHash: sum}))
	}
}

func parseCRL(t testing.TB, der []byte) *x509.RevocationList {
	t.Helper()
	crl, err := x509.ParseRevocationList(der)
	require.NoError(t, err)
	return crl
}
