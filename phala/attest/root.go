package attest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
)

// intelRootPEM is Intel's "Intel SGX Root CA" (ECDSA P-256, valid
// 2018-05-21 to 2049-12-31), the trust anchor of every PCK, TCB-signing and
// QE-identity chain. Its bytes are public: they are the last certificate of
// the issuer chains Intel's PCS serves (the collateral samples in
// shared/reference/attestation) and equal TRUSTED_ROOT_CA_DER of
// @phala/dcap-qvl 0.3.9; its CRL distribution point is
// https://certificates.trustedservices.intel.com/IntelSGXRootCA.der.
const intelRootPEM = `-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
`

// IntelRootFingerprint is the SHA-256 of the DER of Intel's SGX Root CA,
// the only trust anchor this package accepts (lowercase hex).
const IntelRootFingerprint = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

// intelRoot is parsed once; a mismatch with the pinned fingerprint is a
// build defect, so it panics at start-up rather than trusting other bytes.
var intelRoot = mustRoot(intelRootPEM, IntelRootFingerprint)

func mustRoot(p, fingerprint string) *x509.Certificate {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		panic("attest: pinned Intel root is not PEM")
	}
	sum := sha256.Sum256(b.Bytes)
	want, _ := hex.DecodeString(fingerprint)
	if !bytes.Equal(sum[:], want) {
		panic("attest: pinned Intel root does not match its fingerprint")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		panic("attest: pinned Intel root: " + err.Error())
	}
	return c
}
