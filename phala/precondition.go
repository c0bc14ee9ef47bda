package phala

import (
	"bytes"
	"encoding/json"
)

// preconditionBody is one level of a 465 body: the structured form (values
// in details), the legacy flat form (values at top level) and the legacy
// wrapped form (the same object under "detail").
type preconditionBody struct {
	Message       string          `json:"message"`
	RequestID     string          `json:"request_id"`
	Details       []ErrorDetail   `json:"details"`
	ComposeHash   json.RawMessage `json:"compose_hash"`
	AppID         json.RawMessage `json:"app_id"`
	DeviceID      json.RawMessage `json:"device_id"`
	KMSInfo       json.RawMessage `json:"kms_info"`
	CommitToken   json.RawMessage `json:"commit_token"`
	CommitURL     json.RawMessage `json:"commit_url"`
	APICommitURL  json.RawMessage `json:"api_commit_url"`
	OnChainStatus json.RawMessage `json:"onchain_status"`
	Detail        json.RawMessage `json:"detail"`
}

// flat returns the legacy top-level values by their wire names. The eight
// names are those @phala/cloud 0.2.9 (dist/index.js, patchCvm:
// extractDetailsMap) reads from the details list; its update actions
// (updateDockerCompose, updatePreLaunchScript, updateCvmEnvs) read
// compose_hash, app_id, device_id and kms_info from it.
func (b *preconditionBody) flat() map[string]json.RawMessage {
	return map[string]json.RawMessage{"compose_hash": b.ComposeHash, "app_id": b.AppID, "device_id": b.DeviceID,
		"kms_info": b.KMSInfo, "commit_token": b.CommitToken, "commit_url": b.CommitURL,
		"api_commit_url": b.APICommitURL, "onchain_status": b.OnChainStatus}
}

// parsePrecondition reads a 465 body into the PatchCVMResponse that
// PatchCVM returns (the other update methods copy the fields they have).
// Every value is read from the details list first (where the API and the
// official SDKs put it), then from the legacy top-level fields, then from a
// wrapped detail object. A 465 that is not JSON, or whose compose hash is
// missing or not 64 hex characters (optionally after 0x), cannot be acted
// on: it is an *UnexpectedResponseError (ErrUnexpectedResponse), never a
// result asking the user to register a hash.
func parsePrecondition(r *response) (*PatchCVMResponse, error) {
	var levels []preconditionBody
	raw := r.body
	for depth := 0; depth < 3; depth++ {
		var b preconditionBody
		if json.Unmarshal(raw, &b) != nil {
			break
		}
		levels = append(levels, b)
		d := bytes.TrimSpace(b.Detail)
		if len(d) == 0 || d[0] != '{' {
			break
		}
		raw = d
	}
	if len(levels) == 0 {
		return nil, unexpectedAnswer(r, "a 465 answer that is not a JSON object")
	}
	values := map[string]json.RawMessage{}
	set := func(field string, v json.RawMessage) {
		if _, ok := values[field]; !ok && len(v) > 0 && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			values[field] = v
		}
	}
	for _, b := range levels { // details first, at every level
		for _, d := range b.Details {
			set(d.Field, d.Value)
		}
	}
	for _, b := range levels { // then the legacy fields, outer level first
		for f, v := range b.flat() {
			set(f, v)
		}
	}
	p := &PatchCVMResponse{RequiresOnChainHash: true}
	for _, b := range levels {
		setIfEmpty(&p.Message, b.Message)
		setIfEmpty(&p.RequestID, b.RequestID)
	}
	str := func(field string) string {
		var s string
		if json.Unmarshal(values[field], &s) != nil && field == "app_id" {
			var n json.Number // @phala/cloud applies String() to app_id
			if json.Unmarshal(values[field], &n) == nil {
				return n.String()
			}
		}
		return s
	}
	p.ComposeHash, p.AppID, p.DeviceID = str("compose_hash"), str("app_id"), str("device_id")
	p.CommitToken, p.CommitURL, p.APICommitURL = str("commit_token"), str("commit_url"), str("api_commit_url")
	if v, ok := values["kms_info"]; ok {
		var k KMSInfo
		if json.Unmarshal(v, &k) == nil {
			p.KMSInfo = &k
		}
	}
	if v, ok := values["onchain_status"]; ok {
		var o OnChainStatus
		if json.Unmarshal(v, &o) == nil {
			p.OnChainStatus = &o
		}
	}
	if !composeHashRE.MatchString(p.ComposeHash) {
		why := "a 465 answer without a compose hash"
		if p.ComposeHash != "" {
			why = "a 465 answer whose compose hash is not 64 hex characters"
		}
		return nil, unexpectedAnswer(r, why)
	}
	if p.RequestID == "" {
		p.RequestID = r.header.Get(headerRequestID)
	}
	return p, nil
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
