package phala

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/phalacloud/go-sdk/gen"
)

// CVMAttestation is a CVM's attestation as GET /cvms/{cvmId}/attestation
// reports it (official CvmAttestation; Go SDK v0.2.0 CVMAttestation). It is
// the API's word: nothing here has been verified. A verifier checks the
// quote (Quote) against Intel's root and replays TCBInfo.EventLog into the
// quote's RTMRs before trusting any of it.
type CVMAttestation struct {
	// Name is the CVM's name ("" when the answer has none).
	Name string
	// IsOnline reports whether the CVM answered; when false, Error says why
	// and the certificates and TCBInfo are usually absent.
	IsOnline bool
	// IsPublic reports whether the CVM's TCB info is public (true when the
	// answer omits it, the official default).
	IsPublic bool
	// Error is the API's reason for a missing attestation, "" when none.
	Error string
	// AppCertificates is the app's certificate chain as reported, leaf
	// first; one of them usually carries the TDX quote.
	AppCertificates []AttestationCertificate
	// TCBInfo holds the reported measurements; nil when the answer has none.
	TCBInfo *TCBInfo
	// ComposeFile is the app-compose as the API stores it; the attested
	// bytes are TCBInfo.AppCompose.
	ComposeFile string
	// Raw is the answer's body exactly as received, for audit or for a
	// verifier that wants fields this type does not carry.
	Raw []byte
}

// AttestationCertificate is one certificate of the app's chain (official
// Certificate). Only Quote matters to a verifier; the rest is descriptive.
type AttestationCertificate struct {
	// Subject and Issuer name the certificate's holder and issuer.
	Subject CertificateName
	Issuer  CertificateName
	// SerialNumber is hex, as the API gives it.
	SerialNumber string
	// NotBefore and NotAfter bound its validity (RFC 3339, as given).
	NotBefore string
	NotAfter  string
	// Version is the X.509 version, e.g. "v3".
	Version string
	// Fingerprint is the SHA-256 fingerprint, hex, as the API gives it.
	Fingerprint string
	// SignatureAlgorithm is e.g. "ecdsa-with-SHA256".
	SignatureAlgorithm string
	// SANs are the subject alternative names.
	SANs []string
	// IsCA reports a CA certificate.
	IsCA bool
	// PositionInChain is the index in the chain (0 = leaf), nil when absent.
	PositionInChain *int
	// Quote is the TDX quote bound to this certificate, hex as the API
	// gives it ("" when none); QuoteBytes decodes it.
	Quote string
	// AppID is the app the certificate was issued to (40 hex), as given.
	AppID string
	// CertUsage says what the certificate is for, e.g. "app".
	CertUsage string
}

// CertificateName is a certificate's subject or issuer; State and
// Locality are a subject's only. A field the answer lacks is "".
type CertificateName struct {
	CommonName   string
	Organization string
	Country      string
	State        string
	Locality     string
}

// TCBInfo is the measurement report of a CVM (official TcbInfo; dstack's
// Info() shape). Registers are hex as given (96 characters for 48 bytes).
type TCBInfo struct {
	// MRTD measures the TD's initial image (hex).
	MRTD string
	// RootfsHash is the root filesystem hash of older dstack OS images
	// ("" when absent).
	RootfsHash string
	// RTMR0-RTMR3 are the runtime measurement registers (hex); RTMR3
	// holds the dstack runtime events (compose hash, app id, ...).
	RTMR0 string
	RTMR1 string
	RTMR2 string
	RTMR3 string
	// EventLog is the event log, decoded from either wire form (an array,
	// or the array as a JSON-encoded string).
	EventLog []EventLogEntry
	// AppCompose is the app-compose document, the exact bytes whose
	// SHA-256 is the compose hash: hash it as is, never re-serialised.
	AppCompose string
	// ComposeHash, OSImageHash, DeviceID and MRAggregated are the
	// reporter's own claims (newer dstack versions), "" when absent.
	ComposeHash  string
	OSImageHash  string
	DeviceID     string
	MRAggregated string
}

// EventLogEntry is one TDX event-log entry in dstack's format. Digest and
// EventPayload are hex as given; a verifier recomputes a runtime event's
// digest from Event and EventPayload instead of trusting Digest.
type EventLogEntry struct {
	// IMR is the register the event extends: 0-3 for RTMR0-3.
	IMR int
	// EventType is the TCG event type; dstack runtime events are
	// 0x08000001 (EventTypeDstackRuntime).
	EventType uint32
	Digest    string
	// Event is the runtime event's name (e.g. "compose-hash"); "" for boot events.
	Event        string
	EventPayload string
	// Version is the entry's "version" (0 when absent): newer dstack
	// runtime events carry 2, whose digest is SHA-384 of the JCS JSON
	// {"name","payload","type"} rather than of type:event:payload.
	Version int
}

// EventTypeDstackRuntime is the event type of dstack runtime events (IMR 3):
// compose-hash, app-id, key-provider, ... (dstack cc-eventlog).
const EventTypeDstackRuntime uint32 = 0x08000001

// ErrNoQuote is returned by CVMAttestation.Quote when no certificate of the
// answer carries a quote (an offline CVM, or a private one).
const ErrNoQuote = sentinel("phala: the attestation carries no quote")

// Quote returns the raw bytes of the first quote the certificates carry
// (hex-decoded; a 0x prefix is accepted). Errors: ErrNoQuote when none
// carries one; an error naming the certificate when the hex is malformed.
func (a *CVMAttestation) Quote() ([]byte, error) {
	for i := range a.AppCertificates {
		if a.AppCertificates[i].Quote != "" {
			b, err := a.AppCertificates[i].QuoteBytes()
			if err != nil {
				return nil, fmt.Errorf("phala: app_certificates[%d].quote: %w", i, err)
			}
			return b, nil
		}
	}
	return nil, ErrNoQuote
}

// QuoteBytes hex-decodes Quote (a 0x prefix is accepted); nil for no quote.
func (c *AttestationCertificate) QuoteBytes() ([]byte, error) { return decodeHexField(c.Quote) }

// DigestBytes hex-decodes Digest (a 0x prefix is accepted).
func (e *EventLogEntry) DigestBytes() ([]byte, error) { return decodeHexField(e.Digest) }

// PayloadBytes hex-decodes EventPayload (a 0x prefix is accepted); an empty
// payload gives an empty slice.
func (e *EventLogEntry) PayloadBytes() ([]byte, error) { return decodeHexField(e.EventPayload) }

func decodeHexField(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	return b, nil
}

// GetCVMAttestation reads the CVM's attestation (GET
// /cvms/{cvmId}/attestation): certificates with the TDX quote, and the
// TCB info with MRTD, RTMR0-3, the event log and the app-compose bytes.
// The result is unverified (see CVMAttestation). An offline CVM is not an
// error: IsOnline is false and Error says why. Errors: an
// ErrInvalidArgument error for a malformed id; an *APIError for any answer
// other than 200; an ErrUnexpectedResponse error for a body that is not
// the attestation JSON (including an event log that is neither an array
// nor a string holding one).
func (c *Client) GetCVMAttestation(ctx context.Context, cvmID string) (*CVMAttestation, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewGetCVMAttestationRequest(c.server, id, nil)
	r, err := c.do(ctx, opGetCVMAttestation, req, err)
	if err != nil {
		return nil, err
	}
	var g gen.CVMAttestation
	if err := decodeJSON(r, &g); err != nil {
		return nil, err
	}
	a := &CVMAttestation{Name: deref(g.Name), IsOnline: g.IsOnline, IsPublic: g.IsPublic == nil || *g.IsPublic,
		Error: deref(g.Error), ComposeFile: deref(g.ComposeFile), Raw: r.body}
	if g.AppCertificates != nil {
		for _, gc := range *g.AppCertificates {
			a.AppCertificates = append(a.AppCertificates, certificateFromGen(&gc))
		}
	}
	if g.TcbInfo != nil {
		if a.TCBInfo, err = tcbInfoFromGen(g.TcbInfo); err != nil {
			return nil, unexpectedAnswer(r, "tcb_info.event_log: "+err.Error())
		}
	}
	return a, nil
}

func certificateFromGen(g *gen.AttestationCertificate) AttestationCertificate {
	c := AttestationCertificate{SerialNumber: deref(g.SerialNumber), NotBefore: deref(g.NotBefore),
		NotAfter: deref(g.NotAfter), Version: deref(g.Version), Fingerprint: deref(g.Fingerprint),
		SignatureAlgorithm: deref(g.SignatureAlgorithm), IsCA: deref(g.IsCa), PositionInChain: g.PositionInChain,
		Quote: deref(g.Quote), AppID: deref(g.AppID), CertUsage: deref(g.CertUsage),
		Subject: certName(g.Subject), Issuer: certName(g.Issuer)}
	if g.Sans != nil {
		c.SANs = *g.Sans
	}
	return c
}

func certName(g *gen.CertificateName) CertificateName {
	if g == nil {
		return CertificateName{}
	}
	return CertificateName{CommonName: deref(g.CommonName), Organization: deref(g.Organization),
		Country: deref(g.Country), State: deref(g.State), Locality: deref(g.Locality)}
}

func tcbInfoFromGen(g *gen.TCBInfo) (*TCBInfo, error) {
	t := &TCBInfo{MRTD: g.Mrtd, RootfsHash: deref(g.RootfsHash), RTMR0: g.Rtmr0, RTMR1: g.Rtmr1,
		RTMR2: g.Rtmr2, RTMR3: g.Rtmr3, AppCompose: g.AppCompose}
	t.ComposeHash, t.OSImageHash = extraString(g, "compose_hash"), extraString(g, "os_image_hash")
	t.DeviceID, t.MRAggregated = extraString(g, "device_id"), extraString(g, "mr_aggregated")
	entries, err := eventLogEntries(g.EventLog)
	if err != nil {
		return nil, err
	}
	t.EventLog = make([]EventLogEntry, 0, len(entries))
	for _, e := range entries {
		if e.EventType < 0 || e.EventType > 0xFFFFFFFF {
			return nil, fmt.Errorf("event_type %d is not a 32-bit TCG event type", e.EventType)
		}
		t.EventLog = append(t.EventLog, EventLogEntry{IMR: e.Imr, EventType: uint32(e.EventType),
			Digest: e.Digest, Event: e.Event, EventPayload: e.EventPayload, Version: deref(e.Version)})
	}
	return t, nil
}

// eventLogEntries reads the event log in either form: an array, or (as
// dstack's GetQuote returns it, and the 2025-01 dstack example report has
// it) a string holding the JSON array. An empty string, null or no
// event_log at all is an empty log.
func eventLogEntries(u gen.TCBInfo_EventLog) ([]gen.EventLogEntry, error) {
	if raw, err := u.MarshalJSON(); err != nil || len(raw) == 0 || string(raw) == "null" {
		return nil, nil // absent or null: no log (the spec requires one; nothing to replay)
	}
	if entries, err := u.AsTCBInfoEventLog0(); err == nil {
		return entries, nil
	}
	s, err := u.AsTCBInfoEventLog1()
	if err != nil {
		return nil, fmt.Errorf("neither an array nor a string")
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var entries []gen.EventLogEntry
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		return nil, fmt.Errorf("a string that is not a JSON array of entries (%s)", jsonProblem(err))
	}
	return entries, nil
}

// extraString is a string field of tcb_info that the spec does not name
// (kept in its additional properties); "" when absent or not a string.
func extraString(g *gen.TCBInfo, name string) string {
	s, _ := g.AdditionalProperties[name].(string)
	return s
}
