package phalatest

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// The recorded attestation the fake serves: a Phala Cloud production CVM
// (dstack-0.5.3, KMS dstack-pha-prod7), its dstack tcb_info and one of its
// TDX quotes, verbatim. Source and licence: testdata/attestation/README.md.
var (
	//go:embed testdata/attestation/dstack-0.5.3-phala-prod7.tcb_info.json
	sampleTCBInfo []byte
	//go:embed testdata/attestation/dstack-0.5.3-phala-prod7.quote-alice.bin
	sampleQuote []byte
)

// SampleAttestationAppID is the app id (40 hex) of the recorded attestation
// the server answers by default: the app-id event of its event log. It is
// not the app id of the fake's CVMs, whose compose hash the recorded quote
// cannot attest (no fake can sign a TDX quote).
const SampleAttestationAppID = "d35e277ab5ec51f71f5e395ab2e332ed8db5853a"

// SetAttestation makes GET /cvms/{cvmId}/attestation of the CVM that cvmID
// names answer body (200, application/json) as given, e.g. an event log
// as a JSON-encoded string, an offline CVM or a tampered sample; nil
// restores the default answer. The body is checked against the OpenAPI
// document like every answer (see WithResponseValidation). It reports
// whether the CVM exists.
func (s *Server) SetAttestation(cvmID string, body []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return false
	}
	c.attestation = bytes.Clone(body) // nil stays nil: the default again
	return true
}

// getAttestation answers SetAttestation's body, or the recorded sample:
// a running CVM is online with the sample's certificate quote and
// tcb_info (verbatim, its app_compose as compose_file); any other status
// is the API's offline answer, 200 with is_online false and an error.
// Only the certificate's descriptive fields are made up (the sample has
// none); the quote and tcb_info are real.
func (cl *call) getAttestation() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	c := cl.cvm
	if c.attestation != nil {
		return response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: c.attestation}
	}
	if c.status != "running" {
		return jsonResponse(http.StatusOK, map[string]any{"name": c.seed.Name, "is_online": false,
			"is_public": c.seed.PublicTcbinfo, "error": "CVM is " + c.status + ", no attestation available",
			"app_certificates": nil, "tcb_info": nil, "compose_file": nil})
	}
	var tcb struct {
		AppCompose string `json:"app_compose"`
	}
	if err := json.Unmarshal(sampleTCBInfo, &tcb); err != nil {
		panic(err) // embedded at build time
	}
	cert := map[string]any{
		// Every name field is present, null when unknown, as the official
		// schema has them (@phala/cloud's zod schema requires the keys).
		"subject": map[string]any{"common_name": SampleAttestationAppID + ".dstack", "organization": "Dstack",
			"country": nil, "state": nil, "locality": nil},
		"issuer":              map[string]any{"common_name": "Dstack App CA", "organization": "Dstack", "country": nil},
		"serial_number":       "01",
		"not_before":          "2025-09-01T00:00:00Z",
		"not_after":           "2026-09-01T00:00:00Z",
		"version":             "v3",
		"fingerprint":         "",
		"signature_algorithm": "ecdsa-with-SHA256",
		"sans":                []string{},
		"is_ca":               false,
		"position_in_chain":   0,
		"quote":               hex.EncodeToString(sampleQuote),
		"app_id":              SampleAttestationAppID,
		"cert_usage":          "app",
	}
	return jsonResponse(http.StatusOK, map[string]any{"name": c.seed.Name, "is_online": true,
		"is_public": c.seed.PublicTcbinfo, "error": nil, "app_certificates": []any{cert},
		"tcb_info": json.RawMessage(sampleTCBInfo), "compose_file": tcb.AppCompose})
}
