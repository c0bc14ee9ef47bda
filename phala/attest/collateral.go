package attest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Collateral is Intel's verification collateral for one platform (FMSPC)
// in the "QuoteCollateralV3" JSON shape of dcap-qvl, the shape of the
// samples in this repository: PEM issuer chains (intermediate first, then
// root), CRLs as hex DER, TCB info and QE identity as the exact JSON text
// Intel signed, and their signatures as hex of the raw 64-byte r||s.
type Collateral struct {
	PCKCRLIssuerChain     string   `json:"pck_crl_issuer_chain"`
	RootCACRL             hexBytes `json:"root_ca_crl"`
	PCKCRL                hexBytes `json:"pck_crl"`
	TCBInfoIssuerChain    string   `json:"tcb_info_issuer_chain"`
	TCBInfo               string   `json:"tcb_info"`
	TCBInfoSignature      hexBytes `json:"tcb_info_signature"`
	QEIdentityIssuerChain string   `json:"qe_identity_issuer_chain"`
	QEIdentity            string   `json:"qe_identity"`
	QEIdentitySignature   hexBytes `json:"qe_identity_signature"`
	// PCKCertificateChain, when set, is used instead of the chain inside
	// the quote (dcap-qvl does the same); it must still lead to Intel's root.
	PCKCertificateChain string `json:"pck_certificate_chain,omitempty"`
}

// ParseCollateral decodes collateral in the JSON shape above. Errors match
// ErrCollateral.
func ParseCollateral(data []byte) (*Collateral, error) {
	var c Collateral
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, failErr(CheckCollateral, err, "collateral JSON")
	}
	return &c, nil
}

// hexBytes is bytes written as a hex string in JSON (dcap-qvl also writes
// arrays of numbers; both are read).
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var nums []int
		if json.Unmarshal(b, &nums) != nil {
			return err
		}
		out := make([]byte, len(nums))
		for i, n := range nums {
			if n < 0 || n > 255 {
				return fmt.Errorf("byte %d is %d, not 0-255", i, n)
			}
			out[i] = byte(n)
		}
		*h = out
		return nil
	}
	d, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	*h = d
	return err
}

// tcbInfo is Intel's TDX TCB info, version 3.
type tcbInfo struct {
	ID                      string      `json:"id"`
	Version                 int         `json:"version"`
	IssueDate               time.Time   `json:"issueDate"`
	NextUpdate              time.Time   `json:"nextUpdate"`
	FMSPC                   string      `json:"fmspc"`
	PCEID                   string      `json:"pceId"`
	TCBEvaluationDataNumber int         `json:"tcbEvaluationDataNumber"`
	TDXModule               *tdxModule  `json:"tdxModule"`
	TDXModuleIdentities     []tdxModule `json:"tdxModuleIdentities"`
	TCBLevels               []tcbLevel  `json:"tcbLevels"`
}

type tdxModule struct {
	ID             string       `json:"id"`
	MRSigner       hexBytes     `json:"mrsigner"`
	Attributes     hexBytes     `json:"attributes"`
	AttributesMask hexBytes     `json:"attributesMask"`
	TCBLevels      []qeTCBLevel `json:"tcbLevels"`
}

type tcbLevel struct {
	TCB struct {
		SGX    []svnComponent `json:"sgxtcbcomponents"`
		PCESVN int            `json:"pcesvn"`
		TDX    []svnComponent `json:"tdxtcbcomponents"`
	} `json:"tcb"`
	TCBDate     time.Time `json:"tcbDate"`
	TCBStatus   TCBStatus `json:"tcbStatus"`
	AdvisoryIDs []string  `json:"advisoryIDs"`
}

type svnComponent struct {
	SVN int `json:"svn"`
}

// qeIdentity is Intel's enclave identity of the TD quoting enclave.
type qeIdentity struct {
	ID             string       `json:"id"`
	Version        int          `json:"version"`
	IssueDate      time.Time    `json:"issueDate"`
	NextUpdate     time.Time    `json:"nextUpdate"`
	MiscSelect     hexBytes     `json:"miscselect"`
	MiscSelectMask hexBytes     `json:"miscselectMask"`
	Attributes     hexBytes     `json:"attributes"`
	AttributesMask hexBytes     `json:"attributesMask"`
	MRSigner       hexBytes     `json:"mrsigner"`
	ISVProdID      int          `json:"isvprodid"`
	TCBLevels      []qeTCBLevel `json:"tcbLevels"`
}

type qeTCBLevel struct {
	TCB struct {
		ISVSVN int `json:"isvsvn"`
	} `json:"tcb"`
	TCBDate     time.Time `json:"tcbDate"`
	TCBStatus   TCBStatus `json:"tcbStatus"`
	AdvisoryIDs []string  `json:"advisoryIDs"`
}

// checkedCollateral is collateral whose signatures, chains, CRLs and dates
// hold at the verification time.
type checkedCollateral struct {
	tcb     *tcbInfo
	qe      *qeIdentity
	rootCRL *x509.RevocationList
	pckCRL  *x509.RevocationList
	expiry  time.Time // the earliest nextUpdate / notAfter of everything used
}

// checkCollateral verifies the collateral's own signatures, chains and
// dates at time at, against root.
func checkCollateral(c *Collateral, root *x509.Certificate, at time.Time) (*checkedCollateral, error) {
	out := &checkedCollateral{}
	var err error
	if out.rootCRL, err = checkCRL("root CA CRL", c.RootCACRL, root, at); err != nil {
		return nil, err
	}
	if err := notRevoked(out.rootCRL, root); err != nil {
		return nil, err
	}
	crlChain, err := checkedChain(CheckCRL, "PCK CRL issuer chain", c.PCKCRLIssuerChain, root, at, out.rootCRL, true)
	if err != nil {
		return nil, err
	}
	if out.pckCRL, err = checkCRL("PCK CRL", c.PCKCRL, crlChain[0], at); err != nil {
		return nil, err
	}
	out.expiry = minTime(out.rootCRL.NextUpdate, out.pckCRL.NextUpdate, crlChain[0].NotAfter)
	out.tcb, out.qe = new(tcbInfo), new(qeIdentity)
	tcbSigner, err := checkSignedDoc("TCB info", c.TCBInfoIssuerChain, c.TCBInfo, c.TCBInfoSignature, root, at, out.rootCRL, out.tcb)
	if err != nil {
		return nil, err
	}
	qeSigner, err := checkSignedDoc("QE identity", c.QEIdentityIssuerChain, c.QEIdentity, c.QEIdentitySignature, root, at, out.rootCRL, out.qe)
	if err != nil {
		return nil, err
	}
	if out.qe.ID != "TD_QE" || (out.qe.Version != 2 && out.qe.Version != 3) {
		return nil, fail(CheckCollateral, "QE identity %q version %d is not a TD_QE identity (version 2 or 3)", out.qe.ID, out.qe.Version)
	}
	if out.tcb.ID != "TDX" || out.tcb.Version < 3 {
		return nil, fail(CheckCollateral, "TCB info %q version %d is not TDX TCB info (version 3)", out.tcb.ID, out.tcb.Version)
	}
	out.expiry = minTime(out.expiry, out.tcb.NextUpdate, out.qe.NextUpdate, tcbSigner.NotAfter, qeSigner.NotAfter)
	return out, nil
}

// dated is a signed collateral document with a validity window.
type dated interface {
	window() (issued, next time.Time)
}

func (t *tcbInfo) window() (time.Time, time.Time)    { return t.IssueDate, t.NextUpdate }
func (q *qeIdentity) window() (time.Time, time.Time) { return q.IssueDate, q.NextUpdate }

// checkSignedDoc verifies a signed JSON document of Intel (TCB info, QE
// identity): its issuer chain, its signature over the exact bytes, then
// decodes it into dst and checks its issue and next-update dates.
func checkSignedDoc(what, chainPEM, doc string, sig []byte, root *x509.Certificate, at time.Time, rootCRL *x509.RevocationList, dst dated) (*x509.Certificate, error) {
	chain, err := checkedChain(CheckCollateral, what+" issuer chain", chainPEM, root, at, rootCRL, false)
	if err != nil {
		return nil, err
	}
	if err := checkRawSig(what, chain[0], []byte(doc), sig); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(doc), dst); err != nil {
		return nil, failErr(CheckCollateral, err, "%s JSON", what)
	}
	issued, next := dst.window()
	if err := checkValidity(what, what, issued, next, at); err != nil {
		return nil, err
	}
	return chain[0], nil
}

// checkedChain parses and verifies an issuer chain and checks that none
// of its CAs is on the root CA's CRL.
func checkedChain(c Check, what, chainPEM string, root *x509.Certificate, at time.Time, rootCRL *x509.RevocationList, leafIsCA bool) ([]*x509.Certificate, error) {
	chain, err := parseChainPEM(c, what, []byte(chainPEM))
	if err != nil {
		return nil, err
	}
	if err := verifyChain(c, what, chain, root, at, leafIsCA); err != nil {
		return nil, err
	}
	for _, cert := range chain {
		if err := notRevoked(rootCRL, cert); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// checkCRL parses a DER CRL and checks its issuer signature and that it is
// current at time at.
func checkCRL(what string, der []byte, issuer *x509.Certificate, at time.Time) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, failErr(CheckCRL, err, "%s", what)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, failErr(CheckCRL, err, "%s is not signed by %q", what, issuer.Subject.CommonName)
	}
	if crl.NextUpdate.IsZero() {
		return nil, fail(CheckCRL, "%s has no nextUpdate", what)
	}
	if err := checkValidity(what, "CRL", crl.ThisUpdate, crl.NextUpdate, at); err != nil {
		return nil, err
	}
	return crl, nil
}

// notRevoked fails when crl, issued by cert's issuer, lists cert.
func notRevoked(crl *x509.RevocationList, cert *x509.Certificate) error {
	if string(crl.RawIssuer) != string(cert.RawIssuer) {
		return nil // this CRL does not speak for cert's issuer
	}
	for _, r := range crl.RevokedCertificateEntries {
		if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return fail(CheckCRL, "certificate %q serial %x is revoked", cert.Subject.CommonName, cert.SerialNumber)
		}
	}
	return nil
}

// checkRawSig verifies a raw r||s ECDSA-P256 signature over SHA-256(msg).
func checkRawSig(what string, signer *x509.Certificate, msg, sig []byte) error {
	pub, ok := signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fail(CheckCollateral, "%s signer has no ECDSA key", what)
	}
	if !verifyRawP256(pub, msg, sig) {
		return fail(CheckCollateral, "%s signature is invalid", what)
	}
	return nil
}

func verifyRawP256(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(msg)
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(pub, h[:], r, s)
}

func minTime(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.Before(m) {
			m = t
		}
	}
	return m
}
