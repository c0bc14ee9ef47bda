package attest

import (
	"bytes"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Evidence is what a dstack CVM presents: its quote, its event log and
// the app-compose document it booted with. TCBInfo, when set, holds the
// values an API reported beside the quote; Verify compares them with the
// verified ones and never relies on them.
type Evidence struct {
	Quote      []byte   // the raw DCAP quote
	EventLog   EventLog // the dstack event log (RTMR0-3)
	AppCompose []byte   // the exact app-compose bytes, or nil
	TCBInfo    *TCBInfo // the API's claims, or nil
}

// TCBInfo is dstack's tcb_info object (dstack Info(), Phala Cloud's
// attestation tcb_info): hex measurements, the event log (array or
// JSON-encoded string) and the app-compose document as a string.
type TCBInfo struct {
	MRTD        string   `json:"mrtd"`
	RTMR0       string   `json:"rtmr0"`
	RTMR1       string   `json:"rtmr1"`
	RTMR2       string   `json:"rtmr2"`
	RTMR3       string   `json:"rtmr3"`
	EventLog    EventLog `json:"event_log"`
	AppCompose  string   `json:"app_compose"`
	ComposeHash string   `json:"compose_hash,omitempty"`
	OSImageHash string   `json:"os_image_hash,omitempty"`
	DeviceID    string   `json:"device_id,omitempty"`
	// MRAggregated is newer dstack's digest of the measurements, reported
	// as given (a claim; nothing is derived from it).
	MRAggregated string `json:"mr_aggregated,omitempty"`
}

// ParseEvidence builds Evidence from a raw quote and the JSON of a dstack
// tcb_info object; the event log and app-compose come from tcb_info.
// Errors match ErrInput.
func ParseEvidence(quote, tcbInfoJSON []byte) (*Evidence, error) {
	var ti TCBInfo
	if err := json.Unmarshal(tcbInfoJSON, &ti); err != nil {
		return nil, failErr(CheckInput, err, "tcb_info JSON")
	}
	ev := &Evidence{Quote: quote, EventLog: ti.EventLog, TCBInfo: &ti}
	if ti.AppCompose != "" {
		ev.AppCompose = []byte(ti.AppCompose)
	}
	return ev, nil
}

// KeyProvider is what a key-provider event names: dstack writes
// {"name":"kms","id":<hex of the KMS root CA public key DER>} for KMS,
// {"name":"local-sgx","id":<hex MRENCLAVE>} for a local SGX provider, and
// name "none" without id.
type KeyProvider struct {
	Name string `json:"name"`
	ID   string `json:"id"` // lowercase hex
}

func parseKeyProvider(payload []byte) (KeyProvider, error) {
	var kp KeyProvider
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&kp); err != nil || dec.More() || kp.Name == "" {
		return kp, fail(CheckKeyProvider, "key-provider event payload is not {\"name\",\"id\"} JSON")
	}
	if _, err := hex.DecodeString(kp.ID); err != nil {
		return kp, fail(CheckKeyProvider, "key-provider id is not hex")
	}
	kp.ID = strings.ToLower(kp.ID)
	return kp, nil
}

// kind maps an event's provider name to the mr_config_id kind.
func (k KeyProvider) kind() (KeyProviderKind, bool) {
	switch k.Name {
	case "none":
		return KeyProviderNone, true
	case "local-sgx", "local":
		return KeyProviderLocal, true
	case "kms":
		return KeyProviderKMS, true
	case "tpm":
		return KeyProviderTPM, true
	}
	return "", false
}

// ReportDataRaw returns data zero-padded to 64 bytes, the report data
// dstack's GetQuote puts in the quote for a caller nonce with
// hash_algorithm "raw". More than 64 bytes fails with ErrInput.
func ReportDataRaw(data []byte) ([64]byte, error) {
	var rd [64]byte
	if len(data) > 64 {
		return rd, fail(CheckInput, "raw report data is %d bytes, at most 64", len(data))
	}
	copy(rd[:], data)
	return rd, nil
}

// ReportDataTagged returns SHA-512(tag || ":" || content), dstack's
// default report data for a quote about content (dstack ra-tls
// QuoteContentType::to_report_data).
func ReportDataTagged(tag string, content []byte) [64]byte {
	return sha512.Sum512(append([]byte(tag+":"), content...))
}

// ReportDataForAppKey returns the report data of the quote dstack embeds
// in an app's RA-TLS certificate: ReportDataTagged("ratls-cert",
// publicKeyDER), publicKeyDER being the certificate's
// SubjectPublicKeyInfo DER.
func ReportDataForAppKey(publicKeyDER []byte) [64]byte {
	return ReportDataTagged("ratls-cert", publicKeyDER)
}

// KMSKeyProvider is the key-provider event a CVM writes when its keys
// come from the KMS whose root CA public key is caPublicKeyDER (PKIX
// SubjectPublicKeyInfo DER): pass the key of the caller's on-chain anchor
// (the KMS contract), never one an API returned. Errors (not a PKIX public
// key) match ErrInput.
func KMSKeyProvider(caPublicKeyDER []byte) (KeyProvider, error) {
	if _, err := x509.ParsePKIXPublicKey(caPublicKeyDER); err != nil {
		return KeyProvider{}, failErr(CheckInput, err, "the KMS root CA public key is not PKIX DER")
	}
	return KeyProvider{Name: "kms", ID: hex.EncodeToString(caPublicKeyDER)}, nil
}
