package attest

import (
	"bytes"
	"encoding/binary"
)

// Layout facts from Intel's "TDX DCAP Quoting Library API" (appendix A.3 and
// A.4, quote formats v4 and v5).
const (
	headerLen          = 48
	td10BodyLen        = 584
	td15BodyLen        = 648
	enclaveReportLen   = 384
	teeTypeTDX         = 0x81
	attKeyECDSAP256    = 2
	bodyTypeTD10       = 2
	bodyTypeTD15       = 3
	certTypePCKChain   = 5
	certTypeQEReport   = 6
	bodyDescriptorLen  = 6 // v5: u16 body type + u32 body size
	ecdsaSigLen        = 64
	ecdsaKeyLen        = 64
	maxQuoteLen        = 1 << 20
	intelQEVendorIDHex = "939a7233f79c4ca9940a0db3957f0607"
)

// TDReport is the TD report body of a TDX quote: TDX 1.0 (quote v4, or v5
// body type 2) or TDX 1.5 (quote v5 body type 3, with TEETCBSVN2 and
// MRServiceTD set).
type TDReport struct {
	TEETCBSVN      [16]byte
	MRSEAM         [48]byte
	MRSignerSEAM   [48]byte
	SEAMAttributes [8]byte
	TDAttributes   [8]byte
	XFAM           [8]byte
	MRTD           [48]byte
	MRConfigID     [48]byte
	MROwner        [48]byte
	MROwnerConfig  [48]byte
	RTMR           [4][48]byte
	ReportData     [64]byte
	TEETCBSVN2     [16]byte // TDX 1.5 only
	MRServiceTD    [48]byte // TDX 1.5 only
}

// Quote is a parsed DCAP TDX quote (version 4 or 5) with ECDSA-P256
// attestation key and certification data type 6 (QE report) holding a
// type 5 PEM PCK certificate chain.
type Quote struct {
	Version        uint16
	TEEType        uint32
	QESVN          uint16 // header QE SVN (zero in TDX quotes seen)
	PCESVN         uint16 // header PCE SVN
	QEVendorID     [16]byte
	UserData       [20]byte
	BodyType       uint16 // 2 (TDX 1.0) or 3 (TDX 1.5)
	Report         TDReport
	Signature      [ecdsaSigLen]byte // raw r||s over SignedData
	AttestationKey [ecdsaKeyLen]byte // raw X||Y of the P-256 key
	QEReport       [enclaveReportLen]byte
	QEReportSig    [ecdsaSigLen]byte
	QEAuthData     []byte
	PCKChainPEM    []byte // leaf first
	SignedData     []byte // header and body: what Signature covers
}

type reader struct {
	b   []byte
	off int
	err bool
}

func (r *reader) take(n int) []byte {
	if r.err || n < 0 || len(r.b)-r.off < n {
		r.err = true
		return make([]byte, n&0xffff)
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }

// ParseQuote parses a raw TDX quote (version 4 or 5). Zero bytes after the
// signature data are accepted (dstack's quotes carry them); any other
// trailing byte is rejected, as is anything but an ECDSA-P256 TDX quote
// from Intel's quoting enclave with a PEM PCK chain. Errors match
// ErrQuoteFormat.
func ParseQuote(raw []byte) (*Quote, error) {
	if len(raw) > maxQuoteLen {
		return nil, fail(CheckQuoteFormat, "quote is %d bytes, more than %d", len(raw), maxQuoteLen)
	}
	r := &reader{b: raw}
	q := &Quote{}
	q.Version = r.u16()
	keyType := r.u16()
	q.TEEType = r.u32()
	q.QESVN, q.PCESVN = r.u16(), r.u16()
	copy(q.QEVendorID[:], r.take(16))
	copy(q.UserData[:], r.take(20))
	if r.err {
		return nil, fail(CheckQuoteFormat, "quote shorter than its header")
	}
	if q.Version != 4 && q.Version != 5 {
		return nil, fail(CheckQuoteFormat, "quote version %d, want 4 or 5", q.Version)
	}
	if q.TEEType != teeTypeTDX {
		return nil, fail(CheckQuoteFormat, "TEE type %#x is not TDX (0x81)", q.TEEType)
	}
	if keyType != attKeyECDSAP256 {
		return nil, fail(CheckQuoteFormat, "attestation key type %d is not ECDSA-P256 (2)", keyType)
	}
	q.BodyType = bodyTypeTD10
	if q.Version == 5 {
		q.BodyType = r.u16()
		size := r.u32()
		want := map[uint16]uint32{bodyTypeTD10: td10BodyLen, bodyTypeTD15: td15BodyLen}[q.BodyType]
		if r.err || want == 0 || size != want {
			return nil, fail(CheckQuoteFormat, "v5 body type %d with size %d is not a TD report", q.BodyType, size)
		}
	}
	parseTDReport(r, &q.Report, q.BodyType == bodyTypeTD15)
	if r.err {
		return nil, fail(CheckQuoteFormat, "quote shorter than its TD report")
	}
	q.SignedData = raw[:r.off]
	sigLen := int(r.u32())
	sig := &reader{b: r.take(sigLen)}
	if r.err {
		return nil, fail(CheckQuoteFormat, "signature data length %d exceeds the quote", sigLen)
	}
	if !allZero(raw[r.off:]) {
		return nil, fail(CheckQuoteFormat, "non-zero bytes after the signature data")
	}
	return q, parseSignatureData(sig, q)
}

func parseTDReport(r *reader, t *TDReport, td15 bool) {
	copy(t.TEETCBSVN[:], r.take(16))
	copy(t.MRSEAM[:], r.take(48))
	copy(t.MRSignerSEAM[:], r.take(48))
	copy(t.SEAMAttributes[:], r.take(8))
	copy(t.TDAttributes[:], r.take(8))
	copy(t.XFAM[:], r.take(8))
	copy(t.MRTD[:], r.take(48))
	copy(t.MRConfigID[:], r.take(48))
	copy(t.MROwner[:], r.take(48))
	copy(t.MROwnerConfig[:], r.take(48))
	for i := range t.RTMR {
		copy(t.RTMR[i][:], r.take(48))
	}
	copy(t.ReportData[:], r.take(64))
	if td15 {
		copy(t.TEETCBSVN2[:], r.take(16))
		copy(t.MRServiceTD[:], r.take(48))
	}
}

func parseSignatureData(r *reader, q *Quote) error {
	copy(q.Signature[:], r.take(ecdsaSigLen))
	copy(q.AttestationKey[:], r.take(ecdsaKeyLen))
	certType := r.u16()
	certData := &reader{b: r.take(int(r.u32()))}
	if r.err {
		return fail(CheckQuoteFormat, "signature data truncated")
	}
	if certType != certTypeQEReport {
		return fail(CheckQuoteFormat, "certification data type %d, want 6 (QE report)", certType)
	}
	if r.off != len(r.b) {
		return fail(CheckQuoteFormat, "%d unexplained bytes in the signature data", len(r.b)-r.off)
	}
	copy(q.QEReport[:], certData.take(enclaveReportLen))
	copy(q.QEReportSig[:], certData.take(ecdsaSigLen))
	q.QEAuthData = bytes.Clone(certData.take(int(certData.u16())))
	innerType := certData.u16()
	q.PCKChainPEM = bytes.Clone(certData.take(int(certData.u32())))
	if certData.err {
		return fail(CheckQuoteFormat, "QE certification data truncated")
	}
	if innerType != certTypePCKChain {
		return fail(CheckQuoteFormat, "QE certification data type %d, want 5 (PCK chain)", innerType)
	}
	if certData.off != len(certData.b) {
		return fail(CheckQuoteFormat, "%d unexplained bytes in the QE certification data", len(certData.b)-certData.off)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
