package attest

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// realBase is a recorded quote with its collateral and a time both hold.
type realBase struct {
	q   []byte
	col *Collateral
	at  time.Time
}

func realBases(t testing.TB) []realBase {
	return []realBase{
		{readTestdata(t, nearmpc.quote), loadCollateral(t, nearmpc.collateral), nearmpc.at},
		{readTestdata(t, prod7.quote), loadCollateral(t, prod7.collateral), prod7.at},
		{readTestdata(t, "tdx-v5-dcapqvl.quote.bin"), loadCollateral(t, "tdx-v5-dcapqvl.collateral.json"), time.Unix(1771416000, 0)},
	}
}

// quoteMutations corrupts the real quotes (one byte set, a bit flipped, a
// truncation or an extension) and verifies them with their own collateral
// at a time it is valid. Half the mutations hit the first 1300 bytes,
// where every structure but the PEM chain lives.
func quoteMutations(t testing.TB, rng *rand.Rand, n int) []diffCase {
	bases := realBases(t)
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
	bases := realBases(t)[:2] // the v5 sample fails TCB matching whatever its collateral
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
	str := func(name string, p func(*Collateral) *string) collField {
		return collField{name, func(c *Collateral) { *p(c) = mutStr(*p(c)) }}
	}
	bin := func(name string, p func(*Collateral) *hexBytes) collField {
		return collField{name, func(c *Collateral) { *p(c) = mutBytes(*p(c)) }}
	}
	fields := []collField{
		str("tcb_info", func(c *Collateral) *string { return &c.TCBInfo }),
		str("qe_identity", func(c *Collateral) *string { return &c.QEIdentity }),
		bin("tcb_info_signature", func(c *Collateral) *hexBytes { return &c.TCBInfoSignature }),
		bin("qe_identity_signature", func(c *Collateral) *hexBytes { return &c.QEIdentitySignature }),
		str("tcb_info_issuer_chain", func(c *Collateral) *string { return &c.TCBInfoIssuerChain }),
		str("qe_identity_issuer_chain", func(c *Collateral) *string { return &c.QEIdentityIssuerChain }),
		bin("pck_crl", func(c *Collateral) *hexBytes { return &c.PCKCRL }),
		bin("root_ca_crl", func(c *Collateral) *hexBytes { return &c.RootCACRL }),
		str("pck_crl_issuer_chain", func(c *Collateral) *string { return &c.PCKCRLIssuerChain }),
		str("pck_certificate_chain", func(c *Collateral) *string { return &c.PCKCertificateChain }),
	}
	out := make([]diffCase, 0, n)
	for i := range n {
		b := bases[i%len(bases)]
		c := *b.col
		f := fields[rng.IntN(len(fields))]
		if f.name == "pck_certificate_chain" && c.PCKCertificateChain == "" {
			f = fields[0]
		}
		f.mutate(&c)
		cat := "collateral: " + f.name
		out = append(out, diffCase{category: cat, quote: b.q, col: &c, at: b.at})
	}
	return out
}

// collField names a collateral field and corrupts it.
type collField struct {
	name   string
	mutate func(*Collateral)
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
