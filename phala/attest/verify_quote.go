package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"time"
)

// QuoteResult is a quote verified down to Intel's root.
type QuoteResult struct {
	Quote *Quote
	// Status is the converged TCB status of platform, TDX module and QE;
	// empty when the quote was verified without collateral.
	Status      TCBStatus
	AdvisoryIDs []string // Intel advisory ids of the matched levels (never nil)
	FMSPC       string   // lowercase hex, from the PCK certificate
	TCBDate     string   // the matched platform TCB level's tcbDate (RFC 3339)
	// CollateralExpiry is the earliest nextUpdate / notAfter among the
	// collateral used: re-verify with fresh collateral after it.
	CollateralExpiry time.Time
}

// quoteVerifier holds the trust anchor; production code uses Intel's root,
// the package's own tests a generated one.
type quoteVerifier struct{ root *x509.Certificate }

var intelVerifier = quoteVerifier{root: intelRoot}

// VerifyQuote verifies a TDX quote (v4 or v5) with Intel collateral at the
// explicit time at (a zero time is rejected: it is never "now" by
// accident): the PCK chain to Intel's SGX Root CA, the CRLs, the TCB info
// and QE identity signatures and dates, the QE report signature and its
// binding of the attestation key, the QE identity, the quote signature,
// the platform TCB level and TDX module identity, the TD attributes (a
// debug TD fails with ErrDebug) and finally the caller's policy on the
// resulting status. Errors are *Error values naming the failed check;
// when only the policy rejects the status (ErrTCBStatus), the result is
// returned too, so the caller sees the status and advisories it rejected.
func VerifyQuote(raw []byte, col *Collateral, at time.Time, policy Policy) (*QuoteResult, error) {
	return intelVerifier.verify(raw, col, at, policy)
}

// VerifyQuoteSignature checks what can be checked without collateral: the
// PCK chain to Intel's root at time at (no CRLs), the QE report signature
// and its binding of the attestation key, the quote signature and the TD
// attributes. The result has no TCB status; use it only for evidence
// whose collateral is lost, and never as a substitute for VerifyQuote.
func VerifyQuoteSignature(raw []byte, at time.Time) (*QuoteResult, error) {
	return intelVerifier.verifySignatureOnly(raw, at)
}

func (v quoteVerifier) verifySignatureOnly(raw []byte, at time.Time) (*QuoteResult, error) {
	q, pck, _, err := v.verifySignatures(raw, "", at)
	if err != nil {
		return nil, err
	}
	if err := checkTDAttributes(&q.Report); err != nil {
		return nil, err
	}
	return &QuoteResult{Quote: q, AdvisoryIDs: []string{}, FMSPC: hex.EncodeToString(pck.FMSPC[:])}, nil
}

func (v quoteVerifier) verify(raw []byte, col *Collateral, at time.Time, policy Policy) (*QuoteResult, error) {
	if col == nil {
		return nil, fail(CheckInput, "no collateral: pass Intel collateral, or use VerifyQuoteSignature")
	}
	if at.IsZero() {
		return nil, fail(CheckInput, "the verification time is zero: pass an explicit time")
	}
	cc, err := checkCollateral(col, v.root, at)
	if err != nil {
		return nil, err
	}
	q, pck, chain, err := v.verifySignatures(raw, col.PCKCertificateChain, at)
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	for _, cert := range chain { // each CRL speaks only for its issuer's certificates
		for _, crl := range []*x509.RevocationList{cc.pckCRL, cc.rootCRL} {
			if err := notRevoked(crl, cert); err != nil {
				return nil, err
			}
		}
	}
	if string(cc.pckCRL.RawIssuer) != string(leaf.RawIssuer) {
		return nil, fail(CheckCRL, "the PCK CRL is issued by another CA than the PCK certificate's %q", leaf.Issuer.CommonName)
	}
	qeStatus, qeAdv, err := matchQEIdentity(parseEnclaveReport(q.QEReport), cc.qe)
	if err != nil {
		return nil, err
	}
	fmspc := hex.EncodeToString(pck.FMSPC[:])
	if !strings.EqualFold(cc.tcb.FMSPC, fmspc) { // Intel writes upper case, the PCK extension is raw bytes
		return nil, fail(CheckCollateral, "TCB info is for FMSPC %s, the PCK certificate says %s", cc.tcb.FMSPC, fmspc)
	}
	if !strings.EqualFold(cc.tcb.PCEID, hex.EncodeToString(pck.PCEID[:])) {
		return nil, fail(CheckCollateral, "TCB info is for PCE-ID %s, the PCK certificate says %x", cc.tcb.PCEID, pck.PCEID)
	}
	level, err := matchPlatform(cc.tcb, pck, q.Report.TEETCBSVN)
	if err != nil {
		return nil, err
	}
	modStatus, modAdv, err := matchTDXModule(cc.tcb, &q.Report)
	if err != nil {
		return nil, err
	}
	if err := checkTDAttributes(&q.Report); err != nil {
		return nil, err
	}
	res := &QuoteResult{
		Quote:            q,
		Status:           level.TCBStatus.merge(modStatus).merge(qeStatus),
		AdvisoryIDs:      unionAdvisories(level.AdvisoryIDs, modAdv, qeAdv),
		FMSPC:            fmspc,
		TCBDate:          level.TCBDate.UTC().Format(time.RFC3339),
		CollateralExpiry: minTime(cc.expiry, leaf.NotAfter),
	}
	return res, policy.check(res.Status, res.AdvisoryIDs)
}

// verifySignatures parses the quote and checks PCK chain, QE report and
// quote signatures. chainPEM, when non-empty, replaces the quote's chain,
// which is returned leaf first.
func (v quoteVerifier) verifySignatures(raw []byte, chainPEM string, at time.Time) (*Quote, *pckInfo, []*x509.Certificate, error) {
	if at.IsZero() {
		return nil, nil, nil, fail(CheckInput, "the verification time is zero: pass an explicit time")
	}
	q, err := ParseQuote(raw)
	if err != nil {
		return nil, nil, nil, err
	}
	if hex.EncodeToString(q.QEVendorID[:]) != intelQEVendorIDHex {
		return nil, nil, nil, fail(CheckQuoteFormat, "QE vendor id %x is not Intel's", q.QEVendorID)
	}
	pem := q.PCKChainPEM
	if chainPEM != "" {
		pem = []byte(chainPEM)
	}
	chain, err := parseChainPEM(CheckPCKChain, "PCK certificate chain", pem)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := verifyChain(CheckPCKChain, "PCK certificate chain", chain, v.root, at, false); err != nil {
		return nil, nil, nil, err
	}
	leaf := chain[0]
	pck, err := parsePCK(leaf)
	if err != nil {
		return nil, nil, nil, err
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || !verifyRawP256(pub, q.QEReport[:], q.QEReportSig[:]) {
		return nil, nil, nil, fail(CheckQEReport, "the QE report is not signed by the PCK certificate")
	}
	binding := sha256.Sum256(append(q.AttestationKey[:len(q.AttestationKey):len(q.AttestationKey)], q.QEAuthData...))
	qe := parseEnclaveReport(q.QEReport)
	if !bytes.Equal(qe.reportData[:32], binding[:]) || !allZero(qe.reportData[32:]) {
		return nil, nil, nil, fail(CheckQEReport, "the QE report does not bind the attestation key")
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append([]byte{4}, q.AttestationKey[:]...))
	if err != nil || !verifyRawP256(key, q.SignedData, q.Signature[:]) {
		return nil, nil, nil, fail(CheckQuoteSignature, "the quote signature does not verify with the attestation key")
	}
	return q, pck, chain, nil
}
