package attest

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"time"
)

// OIDs of Intel's SGX PCK certificate extension ("SGX PCK Certificate and
// CRL Profile", section 1.3.5): the extension holds a sequence of
// (OID, value) pairs; TCB is itself such a sequence with 16 component
// SVNs, PCESVN and CPUSVN.
var (
	oidSGXExtension = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1}
	oidSGXTCB       = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 2}
	oidSGXPCEID     = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 3}
	oidSGXFMSPC     = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 4}
	oidSGXPCESVN    = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 2, 17}
)

// pckInfo is what the PCK leaf certificate says about the platform.
type pckInfo struct {
	FMSPC  [6]byte
	PCEID  [2]byte
	CPUSVN [16]byte // the 16 SGX TCB component SVNs
	PCESVN uint16
	Issuer string // common name of the issuing CA (Platform or Processor)
}

type oidValue struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue
}

// parseChainPEM decodes every CERTIFICATE block of a PEM chain, leaf
// first. Text outside blocks is ignored; other block types are rejected.
func parseChainPEM(c Check, what string, p []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bytes.TrimRight(p, "\x00")
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fail(c, "%s holds a %q PEM block", what, b.Type)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, failErr(c, err, "%s: certificate %d", what, len(out))
		}
		out = append(out, cert)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fail(c, "%s has bytes outside its PEM blocks", what)
	}
	if len(out) < 2 {
		return nil, fail(c, "%s holds %d certificates, want a leaf and its CA", what, len(out))
	}
	return out, nil
}

// verifyChain checks that chain[0] leads to root through chain[1:] at time
// at: every certificate valid at that time, signatures, basic constraints,
// and the leaf a CA exactly when leafIsCA (the PCK CRL issuer is one). A root copy at the end of chain must be
// byte-identical to root.
func verifyChain(c Check, what string, chain []*x509.Certificate, root *x509.Certificate, at time.Time, leafIsCA bool) error {
	if last := chain[len(chain)-1]; last.Subject.String() == root.Subject.String() || last.IsCA && bytes.Equal(last.RawSubject, last.RawIssuer) {
		if !bytes.Equal(last.Raw, root.Raw) {
			return fail(c, "%s ends in a root that is not Intel's SGX Root CA", what)
		}
		chain = chain[:len(chain)-1]
	}
	if len(chain) == 0 {
		return fail(c, "%s has no leaf below the root", what)
	}
	for _, cert := range append(chain[:len(chain):len(chain)], root) {
		if err := checkValidity(what, cert.Subject.CommonName, cert.NotBefore, cert.NotAfter, at); err != nil {
			return err
		}
	}
	if chain[0].IsCA != leafIsCA {
		return fail(c, "%s: leaf %q has CA=%t, want %t", what, chain[0].Subject.CommonName, chain[0].IsCA, leafIsCA)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return failErr(c, err, "%s does not lead to Intel's SGX Root CA", what)
	}
	// Every certificate given must be signed by the next one, the last by
	// the root: x509.Verify alone would ignore a stray certificate.
	for i := range chain {
		parent := root
		if i+1 < len(chain) {
			parent = chain[i+1]
		}
		if err := chain[i].CheckSignatureFrom(parent); err != nil {
			return failErr(c, err, "%s: certificate %d is not signed by the next", what, i)
		}
	}
	return nil
}

// checkValidity returns a typed error when at lies outside [from, until].
func checkValidity(what, name string, from, until, at time.Time) error {
	if at.Before(from) {
		return fail(CheckNotYetValid, "%s: %s is valid from %s, after the verification time %s", what, name, from.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if at.After(until) {
		return fail(CheckExpired, "%s: %s expired at %s, before the verification time %s", what, name, until.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	return nil
}

// parsePCK reads FMSPC, PCE-ID and the TCB from a PCK leaf certificate.
func parsePCK(cert *x509.Certificate) (*pckInfo, error) {
	var ext []byte
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSGXExtension) {
			ext = e.Value
		}
	}
	if ext == nil {
		return nil, fail(CheckPCKChain, "PCK certificate has no SGX extension")
	}
	var items []oidValue
	if rest, err := asn1.Unmarshal(ext, &items); err != nil || len(rest) != 0 {
		return nil, failErr(CheckPCKChain, err, "PCK certificate SGX extension is malformed")
	}
	info := &pckInfo{Issuer: cert.Issuer.CommonName}
	var haveFMSPC, havePCEID, haveTCB bool
	for _, it := range items {
		switch {
		case it.ID.Equal(oidSGXFMSPC):
			haveFMSPC = copyOctets(info.FMSPC[:], it.Value)
		case it.ID.Equal(oidSGXPCEID):
			havePCEID = copyOctets(info.PCEID[:], it.Value)
		case it.ID.Equal(oidSGXTCB):
			haveTCB = parseTCBExtension(info, it.Value)
		}
	}
	if !haveFMSPC || !havePCEID || !haveTCB {
		return nil, fail(CheckPCKChain, "PCK certificate SGX extension lacks FMSPC, PCE-ID or a complete TCB")
	}
	if !strings.Contains(info.Issuer, "Platform CA") && !strings.Contains(info.Issuer, "Processor CA") {
		return nil, fail(CheckPCKChain, "PCK certificate issued by %q, not an Intel SGX PCK Platform/Processor CA", info.Issuer)
	}
	return info, nil
}

func copyOctets(dst []byte, v asn1.RawValue) bool {
	var b []byte
	if _, err := asn1.Unmarshal(v.FullBytes, &b); err != nil || len(b) != len(dst) {
		return false
	}
	copy(dst, b)
	return true
}

// parseTCBExtension fills CPUSVN from components 1..16 and PCESVN from 17.
func parseTCBExtension(info *pckInfo, v asn1.RawValue) bool {
	var items []oidValue
	if _, err := asn1.Unmarshal(v.FullBytes, &items); err != nil {
		return false
	}
	seen := 0
	for _, it := range items {
		n := len(it.ID)
		if n != len(oidSGXTCB)+1 || !it.ID[:n-1].Equal(oidSGXTCB) {
			continue
		}
		var svn int
		if _, err := asn1.Unmarshal(it.Value.FullBytes, &svn); err != nil {
			continue // CPUSVN (component 18) is an OCTET STRING
		}
		switch k := it.ID[n-1]; {
		case k >= 1 && k <= 16 && svn >= 0 && svn <= 255:
			info.CPUSVN[k-1] = byte(svn)
			seen |= 1 << k
		case it.ID.Equal(oidSGXPCESVN) && svn >= 0 && svn <= 0xffff:
			info.PCESVN = uint16(svn)
			seen |= 1 << 17
		}
	}
	return seen == (1<<18)-2
}
