package attest

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// quoteMutations corrupts the real quotes (one byte set, a bit flipped, a
// truncation or an extension) and verifies them with their own collateral
// at a time it is valid. Half the mutations hit the first 1300 bytes,
// where every structure but the PEM chain lives.
func quoteMutations(t testing.TB, rng *rand.Rand, n int) []diffCase {
	bases := []struct {
		q   []byte
		col *Collateral
		at  time.Time
	}{
		{readTestdata(t, nearmpc.quote), loadCollateral(t, nearmpc.collateral), nearmpc.at},
		{readTestdata(t, prod7.quote), loadCollateral(t, prod7.collateral), prod7.at},
		{readTestdata(t, "tdx-v5-dcapqvl.quote.bin"), loadCollateral(t, "tdx-v5-dcapqvl.collateral.json"), time.Unix(1771416000, 0)},
	}
	out := make([]diffCase, 0, n)
	for i := range n {
		b := bases[i%len(bases)]
		q := bytes.Clone(b.q)
		limit := len(q)
		if rng.IntN(2) == 0 {
			limit = min(limit, 1300)
		}
		off := rng.IntN(limit)
		cat := "quote: byte set"
		switch k := rng.IntN(20); {
		case k == 0:
			q = q[:off]
			cat = "quote: truncated"
		case k == 1:
			q = append(q, byte(rng.IntN(256)))
			cat = "quote: extended"
		case k < 10:
			q[off] ^= 1 << rng.IntN(8)
			cat = "quote: bit flip"
		default:
			q[off] = byte(rng.IntN(256))
		}
		out = append(out, diffCase{category: cat, quote: q, col: b.col, at: b.at})
	}
	return out
}

// collateralMutations corrupts one field of the real collaterals by one
// ASCII character (strings stay valid UTF-8 so both sides see the same
// bytes), or one hex digit of a binary field.
func collateralMutations(t testing.TB, rng *rand.Rand, n int) []diffCase {
	bases := []struct {
		q   []byte
		col *Collateral
		at  time.Time
	}{
		{readTestdata(t, nearmpc.quote), loadCollateral(t, nearmpc.collateral), nearmpc.at},
		{readTestdata(t, prod7.quote), loadCollateral(t, prod7.collateral), prod7.at},
	}
	const printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n"
	mutStr := func(s string) string {
		if s == "" {
			return s
		}
		b := []byte(s)
		b[rng.IntN(len(b))] = printable[rng.IntN(len(printable))]
		return string(b)
	}
	mutBytes := func(b hexBytes) hexBytes {
		c := bytes.Clone(b)
		if len(c) > 0 {
			c[rng.IntN(len(c))] ^= byte(1 << rng.IntN(8))
		}
		return c
	}
	out := make([]diffCase, 0, n)
	for i := range n {
		b := bases[i%len(bases)]
		c := *b.col
		var cat string
		switch rng.IntN(10) {
		case 0:
			c.TCBInfo, cat = mutStr(c.TCBInfo), "collateral: tcb_info"
		case 1:
			c.QEIdentity, cat = mutStr(c.QEIdentity), "collateral: qe_identity"
		case 2:
			c.TCBInfoSignature, cat = mutBytes(c.TCBInfoSignature), "collateral: tcb_info_signature"
		case 3:
			c.QEIdentitySignature, cat = mutBytes(c.QEIdentitySignature), "collateral: qe_identity_signature"
		case 4:
			c.TCBInfoIssuerChain, cat = mutStr(c.TCBInfoIssuerChain), "collateral: tcb_info_issuer_chain"
		case 5:
			c.QEIdentityIssuerChain, cat = mutStr(c.QEIdentityIssuerChain), "collateral: qe_identity_issuer_chain"
		case 6:
			c.PCKCRL, cat = mutBytes(c.PCKCRL), "collateral: pck_crl"
		case 7:
			c.RootCACRL, cat = mutBytes(c.RootCACRL), "collateral: root_ca_crl"
		case 8:
			c.PCKCRLIssuerChain, cat = mutStr(c.PCKCRLIssuerChain), "collateral: pck_crl_issuer_chain"
		default:
			if c.PCKCertificateChain == "" {
				c.TCBInfo, cat = mutStr(c.TCBInfo), "collateral: tcb_info"
			} else {
				c.PCKCertificateChain, cat = mutStr(c.PCKCertificateChain), "collateral: pck_certificate_chain"
			}
		}
		out = append(out, diffCase{category: cat, quote: b.q, col: &c, at: b.at})
	}
	return out
}

// syntheticDiffCases signs random TCB infos, QE identities and quotes
// under generated roots (dcap-qvl takes the root as an argument), so the
// TCB level matching, status merge, QE identity and TD attribute rules
// are compared on signed data. TDX components 0 and 1 (module SVN and
// version) and the module identity stay neutral: dcap-qvl 0.3.9 compares
// them as platform components and has no module identity check, and the
// Intel semantics we implement are tested in tcb_test.go.
func syntheticDiffCases(t testing.TB, rng *rand.Rand, pkis, perPKI int) []diffCase {
	statuses := []string{"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
		"OutOfDate", "OutOfDateConfigurationNeeded", "Revoked", "Bogus"}
	advisories := []string{"INTEL-SA-00615", "INTEL-SA-00837", "INTEL-SA-01036"}
	pickAdv := func() []string {
		var a []string
		for _, x := range advisories {
			if rng.IntN(3) == 0 {
				a = append(a, x)
			}
		}
		return a
	}
	near := func(v int) int { return max(0, v+rng.IntN(3)-1) }
	var out []diffCase
	for range pkis {
		p := newTestPKI(t)
		for range perPKI {
			var levels []map[string]any
			for range 1 + rng.IntN(4) {
				sgx := make([]int, 16)
				for i := range sgx {
					sgx[i] = int(p.cpusvn[i])
					if rng.IntN(4) == 0 {
						sgx[i] = near(sgx[i])
					}
				}
				tdx := []int{0, 0, near(3), near(0)}
				status := statuses[rng.IntN(6)] // mostly statuses dcap-qvl accepts
				if rng.IntN(8) == 0 {
					status = statuses[6+rng.IntN(2)]
				}
				levels = append(levels, mkLevel(status, sgx, tdx, near(p.pcesvn), pickAdv()...))
			}
			var qe []map[string]any
			for i := range 1 + rng.IntN(3) {
				qe = append(qe, isvLevel(max(0, 5-i-rng.IntN(2)), statuses[rng.IntN(6)], pickAdv()...))
			}
			tcb := testTCB{Levels: levels, QELevels: qe, Modules: []map[string]any{moduleIdentity("TDX_01", isvLevel(0, "UpToDate"))}}
			r := defaultReport()
			switch rng.IntN(12) {
			case 0:
				r.TDAttributes[0] = 1 // debug
			case 1:
				r.TDAttributes[3] = 0 // SEPT_VE_DISABLE off
			case 2:
				r.TDAttributes[6] = 4 // reserved
			}
			r.TEETCBSVN[3] = byte(rng.IntN(2))
			version, body := uint16(4), uint16(2)
			if rng.IntN(3) == 0 {
				version, body = 5, uint16(2+rng.IntN(2))
			}
			at := p.t0.Add(time.Duration(rng.IntN(34*24)-2*24) * time.Hour)
			out = append(out, diffCase{category: "synthetic signed", quote: p.quote(t, r, version, body), col: p.collateral(t, tcb), at: at, root: p.root})
		}
	}
	return out
}
