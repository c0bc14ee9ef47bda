package phala

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// UpdateStatus says where an update stands after the call returned.
type UpdateStatus string

const (
	// StatusInProgress: the API accepted the update; it runs in the
	// background and restarts the CVM. CorrelationID identifies it.
	StatusInProgress UpdateStatus = "in_progress"
	// StatusPreconditionRequired: phase 1 of the on-chain KMS flow. Register
	// ComposeHash on the app contract, then repeat the call with the compose
	// hash and the transaction hash.
	StatusPreconditionRequired UpdateStatus = "precondition_required"
)

// UpdateResult is what UpdateDockerCompose, UpdatePreLaunchScript and
// UpdateCVMEnvs return: either an accepted update or, for a CVM on an
// on-chain KMS, the compose hash to register first.
type UpdateResult struct {
	// Status is StatusInProgress or StatusPreconditionRequired.
	Status UpdateStatus
	// Message is the server's summary.
	Message string
	// CorrelationID identifies an accepted update; the CVM's progress
	// carries it until the update has finished.
	CorrelationID string
	// AllowedEnvsChanged (UpdateCVMEnvs) reports that the allowed env keys changed.
	AllowedEnvsChanged bool

	// RequiresOnChainHash is true with StatusPreconditionRequired.
	RequiresOnChainHash bool
	// ComposeHash is the hash to register on-chain (64 hex characters).
	ComposeHash string
	// AppID is the app id (40 hex); the app contract is at 0x + AppID.
	AppID string
	// DeviceID is the node's device id.
	DeviceID string
	// KMSInfo describes the on-chain KMS.
	KMSInfo *KMSInfo
	// RequestID is the server's id for the request, when it gave one.
	RequestID string
	// EnvKey (UpdateEnvs only, nil otherwise) is the key the env values
	// were encrypted to, with the signer it was verified against
	// (EnvKey.Signer, EnvKey.SignerVerified) and the anchor used
	// (EnvKey.Anchor), for logging.
	EnvKey *EnvEncryptPublicKey
}

// KMSInfo describes a key management service. ChainID is set for an
// on-chain KMS (1 Ethereum, 8453 Base) and nil for the central one.
type KMSInfo struct {
	ID                 string `json:"id"`
	Slug               string `json:"slug"`
	URL                string `json:"url"`
	Version            string `json:"version"`
	ChainID            *int64 `json:"chain_id"`
	KMSContractAddress string `json:"kms_contract_address"`
	GatewayAppID       string `json:"gateway_app_id"`
}

// OnchainStatus is what the app contract allows now (multisig flow).
type OnchainStatus struct {
	ComposeHashAllowed bool `json:"compose_hash_allowed"`
	DeviceIDAllowed    bool `json:"device_id_allowed"`
	IsAllowed          bool `json:"is_allowed"`
}

// PatchCVMResponse is what PatchCVM returns. When RequiresOnChainHash is
// false the update was accepted (CorrelationID). When true, register
// ComposeHash on-chain, then call ConfirmCVMPatch (or, with PrepareOnly,
// hand CommitToken to the signers).
type PatchCVMResponse struct {
	RequiresOnChainHash bool
	CorrelationID       string
	Message             string

	ComposeHash   string
	AppID         string
	DeviceID      string
	KMSInfo       *KMSInfo
	CommitToken   string
	CommitURL     string
	APICommitURL  string
	OnchainStatus *OnchainStatus
	RequestID     string
}

// CVMActionResponse is the answer to ConfirmCVMPatch.
type CVMActionResponse struct {
	// CorrelationID identifies the update now running.
	CorrelationID string
	Status        string
	Message       string
}

// preconditionBody is the union of the 465 shapes: structured (details),
// legacy flat, and legacy wrapped in "detail".
type preconditionBody struct {
	Message       string          `json:"message"`
	RequestID     string          `json:"request_id"`
	Details       []ErrorDetail   `json:"details"`
	ComposeHash   string          `json:"compose_hash"`
	AppID         string          `json:"app_id"`
	DeviceID      string          `json:"device_id"`
	KMSInfo       *KMSInfo        `json:"kms_info"`
	CommitToken   string          `json:"commit_token"`
	CommitURL     string          `json:"commit_url"`
	APICommitURL  string          `json:"api_commit_url"`
	OnchainStatus *OnchainStatus  `json:"onchain_status"`
	Detail        json.RawMessage `json:"detail"`
}

// parsePrecondition reads a 465 body, in any of its shapes, into the
// PatchCVMResponse that PatchCVM returns (the other update methods copy
// the fields they have). It fails (with the 465 as an *APIError) when no
// compose hash can be found, since the caller could not act on it.
func parsePrecondition(r *response) (*PatchCVMResponse, error) {
	p := &PatchCVMResponse{RequiresOnChainHash: true}
	if !p.merge(r.body, 0) || p.ComposeHash == "" {
		return nil, newAPIError(r.status, r.header, r.body)
	}
	if p.RequestID == "" {
		p.RequestID = r.header.Get("X-Request-ID")
	}
	return p, nil
}

// merge fills what is still empty in p from one JSON object, then from its
// details list, then from a wrapped detail object (depth-bounded).
func (p *PatchCVMResponse) merge(raw []byte, depth int) bool {
	var b preconditionBody
	if depth > 2 || json.Unmarshal(raw, &b) != nil {
		return false
	}
	for _, d := range b.Details {
		var s string
		switch d.Field {
		case "kms_info":
			if b.KMSInfo == nil {
				_ = json.Unmarshal(d.Value, &b.KMSInfo)
			}
		case "compose_hash", "app_id", "device_id":
			if json.Unmarshal(d.Value, &s) == nil {
				setIfEmpty(map[string]*string{"compose_hash": &b.ComposeHash, "app_id": &b.AppID, "device_id": &b.DeviceID}[d.Field], s)
			}
		}
	}
	setIfEmpty(&p.Message, b.Message)
	setIfEmpty(&p.RequestID, b.RequestID)
	setIfEmpty(&p.ComposeHash, b.ComposeHash)
	setIfEmpty(&p.AppID, b.AppID)
	setIfEmpty(&p.DeviceID, b.DeviceID)
	setIfEmpty(&p.CommitToken, b.CommitToken)
	setIfEmpty(&p.CommitURL, b.CommitURL)
	setIfEmpty(&p.APICommitURL, b.APICommitURL)
	if p.KMSInfo == nil {
		p.KMSInfo = b.KMSInfo
	}
	if p.OnchainStatus == nil {
		p.OnchainStatus = b.OnchainStatus
	}
	if d := bytes.TrimSpace(b.Detail); len(d) > 0 && d[0] == '{' {
		p.merge(d, depth+1)
	}
	return true
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// acceptedBody is the 202 body of the update endpoints.
type acceptedBody struct {
	Status             string `json:"status"`
	Message            string `json:"message"`
	CorrelationID      string `json:"correlation_id"`
	AllowedEnvsChanged bool   `json:"allowed_envs_changed"`
}

// decodeAccepted reads an accepted-update body; an empty or non-JSON body
// (some endpoints send none) yields zero values rather than an error.
func decodeAccepted(r *response) acceptedBody {
	var a acceptedBody
	_ = json.Unmarshal(r.body, &a)
	return a
}

// toUpdateResult decides an update call's outcome on the status code.
func toUpdateResult(r *response) (*UpdateResult, error) {
	switch r.status {
	case http.StatusOK, http.StatusAccepted:
		a := decodeAccepted(r)
		return &UpdateResult{Status: StatusInProgress, Message: a.Message, CorrelationID: a.CorrelationID,
			AllowedEnvsChanged: a.AllowedEnvsChanged, RequestID: r.header.Get("X-Request-ID")}, nil
	case HTTPStatusComposeHashRequired:
		p, err := parsePrecondition(r)
		if err != nil {
			return nil, err
		}
		return &UpdateResult{Status: StatusPreconditionRequired, Message: p.Message, RequiresOnChainHash: true,
			ComposeHash: p.ComposeHash, AppID: p.AppID, DeviceID: p.DeviceID, KMSInfo: p.KMSInfo, RequestID: p.RequestID}, nil
	}
	return nil, newAPIError(r.status, r.header, r.body)
}
