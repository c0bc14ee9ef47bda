package attest

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rest of expected.json: collateral facts and windows, PCK leaves,
// headers, tcb_info claims, event counts and the system event payloads.

type expectedCollateral struct {
	FMSPC       string            `json:"fmspc"`
	EvalNumber  int               `json:"tcbEvaluationDataNumber"`
	CRLIssuerCN string            `json:"pck_crl_issuer_cn"`
	CRLRevoked  int               `json:"pck_crl_revoked_count"`
	HasPCKChain bool              `json:"has_pck_certificate_chain_field"`
	NotBefore   map[string]string `json:"not_before_fields"`
	NotAfter    map[string]string `json:"not_after_fields"`
	Window      [2]time.Time      `json:"window"`
}

var sampleCollaterals = map[string]struct{ file, quote string }{
	"dstack-0.5.8-nearmpc":     {nearmpc.collateral, nearmpc.quote},
	"dstack-0.5.3-phala-prod7": {prod7.collateral, prod7.quote},
	"tdx-v5-dcapqvl":           {"tdx-v5-dcapqvl.collateral.json", "tdx-v5-dcapqvl.quote.bin"},
}

func TestSampleCollateralFactsAndWindows(t *testing.T) {
	e := loadExpected(t)
	for s, f := range sampleCollaterals {
		want := field[expectedCollateral](t, e.Samples[s], "collateral")
		col := loadCollateral(t, f.file)
		var ti tcbInfo
		var qe qeIdentity
		require.NoError(t, json.Unmarshal([]byte(col.TCBInfo), &ti))
		require.NoError(t, json.Unmarshal([]byte(col.QEIdentity), &qe))
		assert.Equal(t, want.FMSPC, ti.FMSPC, s)
		assert.Equal(t, want.EvalNumber, ti.TCBEvaluationDataNumber, s)
		assert.Equal(t, want.HasPCKChain, col.PCKCertificateChain != "", s)
		pckCRL, rootCRL := parseCRL(t, col.PCKCRL), parseCRL(t, col.RootCACRL)
		assert.Equal(t, want.CRLIssuerCN, pckCRL.Issuer.CommonName, s)
		assert.Len(t, pckCRL.RevokedCertificateEntries, want.CRLRevoked, s)
		got := map[string]time.Time{
			"tcb_info.issueDate": ti.IssueDate, "qe_identity.issueDate": qe.IssueDate,
			"pck_crl.thisUpdate": pckCRL.ThisUpdate, "root_ca_crl.thisUpdate": rootCRL.ThisUpdate,
			"tcb_info.nextUpdate": ti.NextUpdate, "qe_identity.nextUpdate": qe.NextUpdate,
			"pck_crl.nextUpdate": pckCRL.NextUpdate, "root_ca_crl.nextUpdate": rootCRL.NextUpdate,
		}
		for k, v := range want.NotBefore {
			assert.Equal(t, v, got[k].UTC().Format(time.RFC3339), "%s %s", s, k)
		}
		for k, v := range want.NotAfter {
			assert.Equal(t, v, got[k].UTC().Format(time.RFC3339), "%s %s", s, k)
		}
		// The window is where the collateral holds: it opens at the last
		// issue date and closes at the first next update, to the second.
		open, shut := want.Window[0], want.Window[1]
		cc, err := checkCollateral(col, intelRoot, open)
		require.NoError(t, err, s)
		assert.Equal(t, shut, cc.expiry, s)
		_, err = checkCollateral(col, intelRoot, shut)
		assert.NoError(t, err, s)
		_, err = checkCollateral(col, intelRoot, open.Add(-time.Second))
		assert.ErrorIs(t, err, ErrNotYetValid, s)
		_, err = checkCollateral(col, intelRoot, shut.Add(time.Second))
		assert.ErrorIs(t, err, ErrExpired, s)
	}
}

func TestSampleHeadersLeavesAndClaims(t *testing.T) {
	e := loadExpected(t)
	for sample, quotes := range sampleQuotes {
		for key, file := range quotes {
			var want struct {
				Header struct {
					QESVN  uint16 `json:"qe_svn"`
					PCESVN uint16 `json:"pce_svn"`
				} `json:"header"`
				SigLen     int `json:"signature_data_len"`
				CertType   int `json:"certification_data_type"`
				QECertType int `json:"qe_certification_data_type"`
				PCKLeaf    struct {
					IssuerCN  string    `json:"issuer_cn"`
					NotBefore time.Time `json:"not_before"`
					NotAfter  time.Time `json:"not_after"`
				} `json:"pck_leaf"`
			}
			require.NoError(t, json.Unmarshal(e.Samples[sample][key], &want))
			raw := readTestdata(t, file)
			q, err := ParseQuote(raw)
			require.NoError(t, err)
			assert.Equal(t, want.Header.QESVN, q.QESVN)
			assert.Equal(t, want.Header.PCESVN, q.PCESVN)
			n := len(q.SignedData)
			assert.Equal(t, want.SigLen, int(binary.LittleEndian.Uint32(raw[n:])), file)
			assert.Equal(t, want.CertType, int(binary.LittleEndian.Uint16(raw[n+4+128:])), file)
			assert.Equal(t, 6, want.CertType)
			assert.Equal(t, 5, want.QECertType, "ParseQuote accepts type 5 inside type 6 only")
			chain, err := parseChainPEM(CheckPCKChain, file, q.PCKChainPEM)
			require.NoError(t, err)
			assert.Equal(t, want.PCKLeaf.IssuerCN, chain[0].Issuer.CommonName, file)
			assert.True(t, want.PCKLeaf.NotBefore.Equal(chain[0].NotBefore), file)
			assert.True(t, want.PCKLeaf.NotAfter.Equal(chain[0].NotAfter), file)
		}
	}
	alice, _ := ParseQuote(readTestdata(t, prod7.quote))
	bob, _ := ParseQuote(readTestdata(t, "dstack-0.5.3-phala-prod7.quote-bob.bin"))
	assert.NotEqual(t, alice.Report.ReportData, bob.Report.ReportData)
	bob.Report.ReportData = alice.Report.ReportData
	assert.Equal(t, alice.Report, bob.Report, "the prod7 quotes differ only in report_data")
}

func TestSampleClaimsEventsAndPayloads(t *testing.T) {
	e := loadExpected(t)
	for s, c := range map[string]sampleCase{"dstack-0.5.8-nearmpc": nearmpc, "dstack-0.5.3-phala-prod7": prod7} {
		ev := c.evidence(t)
		q, err := ParseQuote(ev.Quote)
		require.NoError(t, err)
		equal := field[map[string]bool](t, e.Samples[s], "tcb_info_fields_equal_quote")
		ti := ev.TCBInfo
		got := map[string]bool{"mrtd": ti.MRTD == hex.EncodeToString(q.Report.MRTD[:])}
		for i, v := range []string{ti.RTMR0, ti.RTMR1, ti.RTMR2, ti.RTMR3} {
			got["rtmr"+strconv.Itoa(i)] = v == hex.EncodeToString(q.Report.RTMR[i][:])
		}
		assert.Equal(t, equal, got, s)
		claims := map[string]string{"tcb_info_compose_hash_field": ti.ComposeHash, "tcb_info_os_image_hash_field": ti.OSImageHash,
			"tcb_info_device_id_field": ti.DeviceID, "tcb_info_mr_aggregated_field": ti.MRAggregated}
		for k, v := range claims {
			if _, ok := e.Samples[s][k]; ok {
				assert.Equal(t, field[string](t, e.Samples[s], k), v, "%s %s", s, k)
			}
		}
	}
	logs := map[string]EventLog{"dstack-0.5.8-nearmpc": nearmpc.evidence(t).EventLog, "dstack-0.5.3-phala-prod7": prod7.evidence(t).EventLog}
	var rep struct {
		EventLog EventLog `json:"event_log"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "dstack-2025-01-example.report.json"), &rep))
	logs["dstack-2025-01-example"] = rep.EventLog
	for s, log := range logs {
		var want struct {
			Count int            `json:"count"`
			ByIMR map[string]int `json:"by_imr"`
			IMR3  []struct {
				Event string `json:"event"`
				UTF8  string `json:"event_payload_utf8"`
			} `json:"imr3_events"`
		}
		require.NoError(t, json.Unmarshal(e.Samples[s]["event_log"], &want))
		assert.Len(t, log, want.Count, s)
		by := map[string]int{}
		for _, ev := range log {
			by[strconv.Itoa(ev.IMR)]++
		}
		assert.Equal(t, want.ByIMR, by, s)
		r, err := ReplayEventLog(log)
		require.NoError(t, err)
		for i, w := range want.IMR3 {
			if w.UTF8 != "" {
				assert.Equal(t, w.UTF8, string(r.Runtime[i].Payload), "%s %s", s, w.Event)
			}
			if w.Event == "key-provider" {
				kp, err := parseKeyProvider(r.Runtime[i].Payload)
				require.NoError(t, err)
				assert.Contains(t, []string{"kms", "local-sgx"}, kp.Name)
			}
		}
		compose := e.Samples[s]["compose"]
		var payloads map[string]any
		require.NoError(t, json.Unmarshal(compose, &payloads))
		for k, v := range payloads {
			name, ok := map[string]string{"app_id_event_payload": "app-id", "instance_id_event_payload": "instance-id",
				"os_image_hash_event_payload": "os-image-hash", "mr_kms_event_payload": "mr-kms", "rootfs_hash_event_payload": "rootfs-hash"}[k]
			if !ok {
				continue
			}
			p, found := r.Lookup(name)
			assert.True(t, found, "%s %s", s, name)
			assert.Equal(t, v, hex.EncodeToString(p), "%s %s", s, name)
		}
	}
}
