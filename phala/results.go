package phala

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// UpdateStatus says where an update stands after the call returned.
type UpdateStatus string

const (
	// StatusInProgress: the API accepted the update; it runs in the
	// background and restarts the CVM. CorrelationID identifies it.
	StatusInProgress UpdateStatus = "in_progress"
	// StatusNoChange: the content sent is what the CVM already runs (a 200
	// {"status": "no_change"}); nothing was changed, nothing restarts and
	// there is no correlation id. WaitForUpdate returns at once on it.
	// Wire value from the official Go SDK (types_common.go,
	// UpdateStatusNoChange = "no_change").
	StatusNoChange UpdateStatus = "no_change"
)

// UpdateResult is what UpdateDockerCompose, UpdatePreLaunchScript and
// UpdateCVMEnvs return: either an accepted update or, for a CVM on an
// on-chain KMS, the compose hash to register first.
type UpdateResult struct {
	// Status is StatusInProgress or StatusNoChange for an accepted update,
	// empty when RequiresOnChainHash.
	Status UpdateStatus
	// Message is the server's summary.
	Message string
	// CorrelationID identifies an accepted update; the CVM's progress
	// carries it until the update has finished. Empty with StatusNoChange.
	CorrelationID string
	// AllowedEnvsChanged (UpdateCVMEnvs) reports that the allowed env keys changed.
	AllowedEnvsChanged bool

	// RequiresOnChainHash is true for phase 1 of the on-chain KMS flow (the
	// API's 465): register ComposeHash on the app contract, then repeat the
	// call with the compose hash and the transaction hash.
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
	// EnvKey (EncryptAndUpdateEnvs only, nil otherwise) is the key the env values
	// were encrypted to, with the signer it was verified against
	// (EnvKey.Signer, EnvKey.SignerVerified) and the anchor used
	// (EnvKey.Anchor), for logging.
	EnvKey *EnvEncryptPublicKey
}

// KMSInfo describes a key management service, as a 465 answer's kms_info
// and a CVM detail's kms_info give it (each fills the fields it carries).
// ChainID is set for an on-chain KMS (1 Ethereum, 8453 Base) and nil for
// the central one.
type KMSInfo struct {
	// ID and Slug name the KMS (for GET /kms/{kmsId}/pubkey/{appId}).
	ID      string `json:"id"`
	Slug    string `json:"slug"`
	URL     string `json:"url"`
	Version string `json:"version"`
	ChainID *int64 `json:"chain_id"`
	// KMSContractAddress is the KMS contract (the detail's
	// dstack_kms_address).
	KMSContractAddress string `json:"kms_contract_address"`
	GatewayAppID       string `json:"gateway_app_id"`
	// EncryptedEnvPublicKey is the X25519 env encryption key (central KMS,
	// the detail's kms_info.encrypted_env_pubkey), hex.
	EncryptedEnvPublicKey string `json:"encrypted_env_pubkey"`
	// DstackAppAddress is the app's DstackApp contract (CVM detail).
	DstackAppAddress string `json:"dstack_app_address"`
	// DeployerAddress deployed the app contract (CVM detail).
	DeployerAddress string `json:"deployer_address"`
	// RPCEndpoint is the chain's RPC endpoint the API names (CVM detail);
	// the SDK never uses it as a root of trust.
	RPCEndpoint string `json:"rpc_endpoint"`
	// K256PublicKey is kms_info.k256_pubkey, the KMS root secp256k1 key as
	// the API reports it (newer answers; "" when absent). Shown, never
	// trusted: the API's word is no anchor. Compare it with a KeyAnchor's
	// signer (a pinned key, or the KMS contract read through your RPC);
	// GetEnvEncryptPublicKey never uses it.
	K256PublicKey string `json:"k256_pubkey"`
}

// OnChain reports whether the KMS is a contract, so that changes to the
// compose hash take the two-phase flow.
func (k *KMSInfo) OnChain() bool { return k != nil && k.ChainID != nil }

// OnChainStatus is what the app contract allows now (multisig flow).
type OnChainStatus struct {
	ComposeHashAllowed bool `json:"compose_hash_allowed"`
	DeviceIDAllowed    bool `json:"device_id_allowed"`
	IsAllowed          bool `json:"is_allowed"`
}

// PatchCVMResponse is what PatchCVM returns. When RequiresOnChainHash is
// false the update was accepted (CorrelationID), or changed nothing
// (Status StatusNoChange). When true, register ComposeHash on-chain, then
// call ConfirmCVMPatch (or, with PrepareOnly, hand CommitToken to the
// signers). The 465 values are read from the answer's details list, where
// @phala/cloud 0.2.9's patchCvm reads them.
type PatchCVMResponse struct {
	// RequiresOnChainHash is true for a 465 (phase 1 of the on-chain flow).
	RequiresOnChainHash bool
	// Status is StatusInProgress or StatusNoChange; empty when
	// RequiresOnChainHash.
	Status UpdateStatus
	// CorrelationID identifies the accepted update (see WaitForUpdate).
	CorrelationID string
	// Message is the server's summary.
	Message string

	// ComposeHash is the hash to register on-chain (64 hex characters).
	ComposeHash string
	// AppID is the app id (40 hex); the app contract is at 0x + AppID.
	AppID string
	// DeviceID is the node's device id.
	DeviceID string
	// KMSInfo describes the on-chain KMS.
	KMSInfo *KMSInfo
	// CommitToken is the one-time token of the multisig flow (PrepareOnly):
	// whoever holds it can commit the update without an API key, so treat
	// it as a credential.
	CommitToken string
	// CommitURL is the dashboard page that commits with CommitToken.
	CommitURL string
	// APICommitURL is the API address that commits with CommitToken
	// (POST /cvms/{cvmId}/commit-update).
	APICommitURL string
	// OnChainStatus is what the app contract allows now.
	OnChainStatus *OnChainStatus
	// RequestID is the server's id for the request, when it gave one.
	RequestID string
}

// CVMActionResponse is the answer to ConfirmCVMPatch.
type CVMActionResponse struct {
	// CorrelationID identifies the update now running.
	CorrelationID string
	Status        string
	Message       string
}

// acceptedBody is the 200/202 body of the update endpoints: an accepted
// update {status: "in_progress", message, correlation_id} (official
// document: "Update initiated, track via correlation_id"), or
// {status: "no_change", message} when the content is what already runs
// (official Go SDK types_common.go: UpdateStatusNoChange = "no_change").
type acceptedBody struct {
	Status             string `json:"status"`
	Message            string `json:"message"`
	CorrelationID      string `json:"correlation_id"`
	AllowedEnvsChanged bool   `json:"allowed_envs_changed"`
}

// status is the accepted update's UpdateStatus: StatusNoChange when the
// server said "no_change", else StatusInProgress.
func (a acceptedBody) status() UpdateStatus {
	if a.Status == string(StatusNoChange) {
		return StatusNoChange
	}
	return StatusInProgress
}

// decodeAccepted reads an accepted-update body. The body must be a JSON
// object; unless its status is "no_change" it must carry a correlation id
// (the official SDKs' schemas require one). Anything else (a captive
// proxy's page, malformed JSON) is an *UnexpectedResponseError.
func decodeAccepted(r *response) (acceptedBody, error) {
	a, err := decodeAcceptedLenient(r)
	if err != nil {
		return a, err
	}
	if a.Status != string(StatusNoChange) && a.CorrelationID == "" {
		return a, unexpectedAnswer(r, "an accepted update without a correlation_id")
	}
	return a, nil
}

// decodeAcceptedLenient is decodeAccepted for the endpoints whose answer
// the official SDKs ignore (resources, os-image, compose_file commit): an
// empty body or 204 yields zero values, a JSON object without a
// correlation id is accepted, but a body that is not a JSON object is an
// *UnexpectedResponseError.
func decodeAcceptedLenient(r *response) (acceptedBody, error) {
	var a acceptedBody
	b := bytes.TrimSpace(r.body)
	if r.status == http.StatusNoContent || len(b) == 0 {
		return a, nil
	}
	if b[0] != '{' {
		return a, unexpectedAnswer(r, "the body is not a JSON object")
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, unexpectedAnswer(r, "the body is not the JSON the call expects ("+jsonProblem(err)+")")
	}
	switch a.Status {
	case "", string(StatusInProgress), string(StatusNoChange):
	default:
		return a, unexpectedAnswer(r, "an update answer with an unknown status")
	}
	return a, nil
}

// jsonProblem describes a decoding error without quoting the body.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: a JSON %s where %s was expected", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("a JSON %s where %s was expected", te.Value, te.Type)
	}
	return "malformed JSON"
}

// toUpdateResult decides an update call's outcome on the status code.
func toUpdateResult(r *response) (*UpdateResult, error) {
	switch r.status {
	case http.StatusOK, http.StatusAccepted:
		a, err := decodeAccepted(r)
		if err != nil {
			return nil, err
		}
		return &UpdateResult{Status: a.status(), Message: a.Message, CorrelationID: a.CorrelationID,
			AllowedEnvsChanged: a.AllowedEnvsChanged, RequestID: r.header.Get(headerRequestID)}, nil
	case statusComposeHashRequired:
		p, err := parsePrecondition(r)
		if err != nil {
			return nil, err
		}
		return &UpdateResult{Message: p.Message, RequiresOnChainHash: true,
			ComposeHash: p.ComposeHash, AppID: p.AppID, DeviceID: p.DeviceID, KMSInfo: p.KMSInfo, RequestID: p.RequestID}, nil
	}
	return nil, unexpectedAnswer(r, "a status the call does not expect")
}

type updateResultKey struct{}

// WithUpdateResult returns a copy of ctx that makes UpdateCVMResources,
// UpdateOSImage and CommitCVMComposeFileUpdate, which return only an
// error, also report the update they started: when the call returns nil,
// *res holds the answer's status (StatusInProgress or StatusNoChange),
// message, correlation id and request id, ready for WaitForUpdate:
//
//	var res phala.UpdateResult
//	err := client.UpdateCVMResources(phala.WithUpdateResult(ctx, &res), id, req)
//	...
//	state, err := client.WaitForUpdate(ctx, id, &res, nil)
//
// *res is written only by a call that succeeds, and only by the call the
// context is passed to (use one UpdateResult per call). An answer without
// a body leaves CorrelationID empty, and WaitForUpdate then refuses it.
// A nil res returns ctx unchanged.
func WithUpdateResult(ctx context.Context, res *UpdateResult) context.Context {
	if res == nil {
		return ctx
	}
	return context.WithValue(ctx, updateResultKey{}, res)
}

// reportUpdate fills the caller's WithUpdateResult target, if any, from
// the accepted answer a.
func reportUpdate(ctx context.Context, r *response, a acceptedBody) {
	res, _ := ctx.Value(updateResultKey{}).(*UpdateResult)
	if res == nil {
		return
	}
	*res = UpdateResult{Status: a.status(), Message: a.Message, CorrelationID: a.CorrelationID, RequestID: r.header.Get(headerRequestID)}
}

// acceptLenient decodes the success answer of an error-only update method
// (resources, os-image, compose_file commit) and reports it to a
// WithUpdateResult target.
func acceptLenient(ctx context.Context, r *response) error {
	a, err := decodeAcceptedLenient(r)
	if err != nil {
		return err
	}
	reportUpdate(ctx, r, a)
	return nil
}
