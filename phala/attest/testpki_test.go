package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testPKI is an Intel-shaped PKI with a generated root: it signs quotes
// and collateral so tests can reach the checks after the signatures
// (TCB levels, TDX module, debug TD, policy), which real quotes cannot
// be mutated into.
type testPKI struct {
	t0                     time.Time
	root, platCA, pck, tcb *x509.Certificate
	rootKey, platKey       *ecdsa.PrivateKey
	pckKey, tcbKey, attKey *ecdsa.PrivateKey
	rootCRL, pckCRL        []byte
	fmspc                  [6]byte
	cpusvn                 [16]byte
	pcesvn                 int
}

var testT0 = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func mkCert(t testing.TB, tmpl *x509.Certificate, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

func caTemplate(cn string, serial int64, t0 time.Time) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Intel Corporation"}},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

func sgxExtension(fmspc [6]byte, cpusvn [16]byte, pcesvn int) []byte {
	tcbOID := func(k int) asn1.ObjectIdentifier { return append(append(asn1.ObjectIdentifier{}, oidSGXTCB...), k) }
	type item struct {
		ID    asn1.ObjectIdentifier
		Value any
	}
	var tcb []item
	for i, v := range cpusvn {
		tcb = append(tcb, item{tcbOID(i + 1), int(v)})
	}
	tcb = append(tcb, item{tcbOID(17), pcesvn}, item{tcbOID(18), cpusvn[:]})
	ext := []item{
		{asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 1}, make([]byte, 16)},
		{oidSGXTCB, tcb},
		{oidSGXPCEID, []byte{0, 0}},
		{oidSGXFMSPC, fmspc[:]},
		{asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 5}, asn1.Enumerated(0)},
	}
	b, err := asn1.Marshal(ext)
	if err != nil {
		panic(err)
	}
	return b
}

func newTestPKI(t testing.TB) *testPKI {
	p := &testPKI{t0: testT0, fmspc: [6]byte{0xb0, 0xc0, 0x6f}, cpusvn: [16]byte{3, 3, 2, 2, 4, 1, 0, 5}, pcesvn: 13}
	p.rootKey, p.platKey, p.pckKey, p.tcbKey, p.attKey = newKey(t), newKey(t), newKey(t), newKey(t), newKey(t)
	p.root = mkCert(t, caTemplate("Intel SGX Root CA", 1, p.t0), nil, &p.rootKey.PublicKey, p.rootKey)
	p.platCA = mkCert(t, caTemplate("Intel SGX PCK Platform CA", 2, p.t0), p.root, &p.platKey.PublicKey, p.rootKey)
	p.tcb = mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Intel SGX TCB Signing"},
		NotBefore: p.t0.AddDate(-1, 0, 0), NotAfter: p.t0.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true},
		p.root, &p.tcbKey.PublicKey, p.rootKey)
	p.pck = mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(4), Subject: pkix.Name{CommonName: "Intel SGX PCK Certificate"},
		NotBefore: p.t0.AddDate(0, -1, 0), NotAfter: p.t0.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
		ExtraExtensions: []pkix.Extension{{Id: oidSGXExtension, Value: sgxExtension(p.fmspc, p.cpusvn, p.pcesvn)}}},
		p.platCA, &p.pckKey.PublicKey, p.platKey)
	p.rootCRL = p.crl(t, p.root, p.rootKey, nil)
	p.pckCRL = p.crl(t, p.platCA, p.platKey, []int64{99})
	return p
}

func (p *testPKI) crl(t testing.TB, issuer *x509.Certificate, key *ecdsa.PrivateKey, revoked []int64) []byte {
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: p.t0.AddDate(0, -2, 0)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: p.t0.AddDate(0, 0, -1),
		NextUpdate: p.t0.AddDate(0, 0, 29), RevokedCertificateEntries: entries}, issuer, key)
	require.NoError(t, err)
	return der
}

func pemOf(certs ...*x509.Certificate) string {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.String()
}

func rawSign(t testing.TB, k *ecdsa.PrivateKey, msg []byte) []byte {
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	require.NoError(t, err)
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// testTCB is the TCB info and QE identity a test signs.
type testTCB struct {
	Levels     []map[string]any // tcbLevels; defaults to one UpToDate level the platform meets
	Modules    []map[string]any // tdxModuleIdentities
	QELevels   []map[string]any
	IssueDate  time.Time
	NextUpdate time.Time
}

func svnList(svns ...int) []map[string]int {
	out := make([]map[string]int, 16)
	for i := range out {
		out[i] = map[string]int{"svn": 0}
		if i < len(svns) {
			out[i]["svn"] = svns[i]
		}
	}
	return out
}

func mkLevel(status string, sgx, tdx []int, pcesvn int, advisories ...string) map[string]any {
	return map[string]any{"tcb": map[string]any{"sgxtcbcomponents": svnList(sgx...), "pcesvn": pcesvn, "tdxtcbcomponents": svnList(tdx...)},
		"tcbDate": "2025-01-01T00:00:00Z", "tcbStatus": status, "advisoryIDs": advisories}
}

func moduleIdentity(id string, levels ...map[string]any) map[string]any {
	return map[string]any{"id": id, "mrsigner": hex.EncodeToString(make([]byte, 48)), "attributes": "0000000000000000",
		"attributesMask": "FFFFFFFFFFFFFFFF", "tcbLevels": levels}
}

func isvLevel(isvsvn int, status string, advisories ...string) map[string]any {
	return map[string]any{"tcb": map[string]int{"isvsvn": isvsvn}, "tcbDate": "2025-01-01T00:00:00Z", "tcbStatus": status, "advisoryIDs": advisories}
}

func (p *testPKI) collateral(t testing.TB, c testTCB) *Collateral {
	if c.Levels == nil {
		c.Levels = []map[string]any{mkLevel("UpToDate", []int{3, 3, 2, 2, 4, 1, 0, 5}, []int{0, 0, 3}, 13)}
	}
	if c.Modules == nil {
		c.Modules = []map[string]any{moduleIdentity("TDX_01", isvLevel(2, "UpToDate"))}
	}
	if c.QELevels == nil {
		c.QELevels = []map[string]any{isvLevel(4, "UpToDate")}
	}
	if c.IssueDate.IsZero() {
		c.IssueDate, c.NextUpdate = p.t0.AddDate(0, 0, -1), p.t0.AddDate(0, 0, 29)
	}
	tcb, err := json.Marshal(map[string]any{"id": "TDX", "version": 3, "issueDate": c.IssueDate, "nextUpdate": c.NextUpdate,
		"fmspc": hex.EncodeToString(p.fmspc[:]), "pceId": "0000", "tcbType": 0, "tcbEvaluationDataNumber": 17,
		"tdxModule":           map[string]string{"mrsigner": hex.EncodeToString(make([]byte, 48)), "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF"},
		"tdxModuleIdentities": c.Modules, "tcbLevels": c.Levels})
	require.NoError(t, err)
	qe, err := json.Marshal(map[string]any{"id": "TD_QE", "version": 2, "issueDate": c.IssueDate, "nextUpdate": c.NextUpdate,
		"tcbEvaluationDataNumber": 17, "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
		"attributes": "11000000000000000000000000000000", "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
		"mrsigner": hex.EncodeToString(bytes.Repeat([]byte{0xdc}, 32)), "isvprodid": 2, "tcbLevels": c.QELevels})
	require.NoError(t, err)
	return &Collateral{
		PCKCRLIssuerChain: pemOf(p.platCA, p.root), RootCACRL: p.rootCRL, PCKCRL: p.pckCRL,
		TCBInfoIssuerChain: pemOf(p.tcb, p.root), TCBInfo: string(tcb), TCBInfoSignature: rawSign(t, p.tcbKey, tcb),
		QEIdentityIssuerChain: pemOf(p.tcb, p.root), QEIdentity: string(qe), QEIdentitySignature: rawSign(t, p.tcbKey, qe),
	}
}

// defaultReport is a TDX 1.0 report the default collateral rates UpToDate.
func defaultReport() TDReport {
	var r TDReport
	r.TEETCBSVN = [16]byte{3, 1, 3}
	r.TDAttributes = [8]byte{0, 0, 0, 0x10}
	r.MRTD[0], r.RTMR[3][0], r.ReportData[0] = 1, 2, 3
	return r
}

// quote builds and signs a quote (version 4, or 5 with bodyType 2 or 3).
func (p *testPKI) quote(t testing.TB, r TDReport, version, bodyType uint16) []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(version)
	w(uint16(attKeyECDSAP256))
	w(uint32(teeTypeTDX))
	w(uint32(0))
	vendor, _ := hex.DecodeString(intelQEVendorIDHex)
	b.Write(vendor)
	b.Write(make([]byte, 20))
	if version == 5 {
		w(bodyType)
		w(uint32(map[uint16]int{2: td10BodyLen, 3: td15BodyLen}[bodyType]))
	}
	for _, f := range [][]byte{r.TEETCBSVN[:], r.MRSEAM[:], r.MRSignerSEAM[:], r.SEAMAttributes[:], r.TDAttributes[:], r.XFAM[:], r.MRTD[:],
		r.MRConfigID[:], r.MROwner[:], r.MROwnerConfig[:], r.RTMR[0][:], r.RTMR[1][:], r.RTMR[2][:], r.RTMR[3][:], r.ReportData[:]} {
		b.Write(f)
	}
	if version == 5 && bodyType == 3 {
		b.Write(r.TEETCBSVN2[:])
		b.Write(r.MRServiceTD[:])
	}
	signed := bytes.Clone(b.Bytes())
	attPub, err := p.attKey.PublicKey.Bytes()
	require.NoError(t, err)
	authData := bytes.Repeat([]byte{0xa5}, 32) // Intel's QE writes 32 bytes; dcap-qvl assumes that length
	qe := make([]byte, enclaveReportLen)
	qe[48], qe[49] = 0x11, 0 // attributes: INIT|MODE64, not debug
	copy(qe[128:160], bytes.Repeat([]byte{0xdc}, 32))
	qe[256], qe[258] = 2, 4 // ISVPRODID 2, ISVSVN 4
	bind := sha256.Sum256(append(bytes.Clone(attPub[1:]), authData...))
	copy(qe[320:], bind[:])
	chain := []byte(pemOf(p.pck, p.platCA, p.root))
	var cert bytes.Buffer
	cw := func(v any) { _ = binary.Write(&cert, binary.LittleEndian, v) }
	cert.Write(qe)
	cert.Write(rawSign(t, p.pckKey, qe))
	cw(uint16(len(authData)))
	cert.Write(authData)
	cw(uint16(certTypePCKChain))
	cw(uint32(len(chain)))
	cert.Write(chain)
	var sig bytes.Buffer
	sig.Write(rawSign(t, p.attKey, signed))
	sig.Write(attPub[1:])
	_ = binary.Write(&sig, binary.LittleEndian, uint16(certTypeQEReport))
	_ = binary.Write(&sig, binary.LittleEndian, uint32(cert.Len()))
	sig.Write(cert.Bytes())
	w(uint32(sig.Len()))
	b.Write(sig.Bytes())
	return b.Bytes()
}

func (p *testPKI) verifier() quoteVerifier { return quoteVerifier{root: p.root} }
