package phala

import (
	"context"
	"net/http"

	"github.com/phalacloud/go-sdk/gen"
)

// PatchCVMRequest lists the settings PatchCVM changes in one operation; nil
// fields are left alone.
type PatchCVMRequest struct {
	// DockerComposeFile is the new Docker Compose YAML (changes the compose hash).
	DockerComposeFile *string
	// PreLaunchScript is the new pre-launch script (changes the compose hash).
	PreLaunchScript *string
	// EncryptedEnv is the hex output of EncryptEnvVars.
	EncryptedEnv *string
	// AllowedEnvs are the env keys allowed inside the CVM (changes the compose hash).
	AllowedEnvs   []string
	PublicSysinfo *bool
	PublicLogs    *bool
	PublicTcbinfo *bool
	// SecureTime and Listed are sent as given; the official API reference
	// does not list them for this endpoint, so a server may ignore them.
	SecureTime *bool
	Listed     *bool
	// VCPU is the number of vCPUs.
	VCPU *int
	// Memory is in MB (8 GB is 8192), not GB.
	Memory *int
	// DiskSize is in GB, as for UpdateCVMResources (the official reference's
	// text says MB for this endpoint; every official SDK sends GB).
	DiskSize *int
	// InstanceType is an instance type such as "tdx.medium".
	InstanceType *string
	// OSImageName is sent both as "image" (the reference's name on this
	// endpoint) and "os_image_name" (the dedicated endpoint's name).
	OSImageName *string
	// AllowRestart lets the API restart the CVM when a change needs it.
	AllowRestart *bool

	// UserConfig is a free-form configuration string passed to the CVM.
	UserConfig *string
	// ShutdownTimeout is the graceful shutdown time in seconds (10 to 1200).
	ShutdownTimeout *int
	// AllowForceStop hard-stops the CVM when the graceful shutdown times out.
	AllowForceStop *bool

	// ComposeHash and TransactionHash repeat a refused change as phase 2 of
	// the on-chain flow (sent as headers). Both or neither.
	ComposeHash     *string
	TransactionHash *string
	// PrepareOnly asks for a commit token (multisig) instead of expecting the
	// hash to be registered right away (X-Prepare-Only: true).
	//
	// A newer prepare replaces a pending one: a prepare-only request for a
	// CVM whose previous prepared update was never committed supersedes the
	// old commit token, which then fails at commit with 466
	// (ErrComposeHashExpired), even when its hash was already registered on
	// chain (Phala's multisig-governance documentation). The API exposes no
	// pending prepared update to check first (no field or call for it is
	// known), so the SDK cannot warn: coordinate prepares of one CVM so that
	// signers are not left holding a superseded token. Re-preparing an
	// unchanged compose gives a fresh token for the same hash.
	PrepareOnly bool
}

func (r *PatchCVMRequest) validate() error {
	if err := checkOptionalContent("req.DockerComposeFile", r.DockerComposeFile); err != nil {
		return err
	}
	// "" restores the default pre-launch script; blank text is a mistake.
	if r.PreLaunchScript != nil && *r.PreLaunchScript != "" {
		if err := checkContent("req.PreLaunchScript", *r.PreLaunchScript); err != nil {
			return err
		}
	}
	if err := checkComposeSize("req.DockerComposeFile", r.DockerComposeFile, r.PreLaunchScript); err != nil {
		return err
	}
	if r.EncryptedEnv != nil {
		if err := checkEncryptedEnv("req.EncryptedEnv", *r.EncryptedEnv); err != nil {
			return err
		}
	}
	if err := checkEnvKeys("req.AllowedEnvs", r.AllowedEnvs); err != nil {
		return err
	}
	if err := checkPositiveFields(intField{"req.VCPU", r.VCPU}, intField{"req.Memory", r.Memory},
		intField{"req.DiskSize", r.DiskSize}); err != nil {
		return err
	}
	if err := checkOptionalContent("req.InstanceType", r.InstanceType); err != nil {
		return err
	}
	if r.ShutdownTimeout != nil && (*r.ShutdownTimeout < 10 || *r.ShutdownTimeout > 1200) {
		return invalidArg("req.ShutdownTimeout", "must be 10 to 1200 seconds, got %d", *r.ShutdownTimeout)
	}
	if err := checkOptionalContent("req.OSImageName", r.OSImageName); err != nil {
		return err
	}
	if r.UserConfig != nil {
		if err := checkText("req.UserConfig", *r.UserConfig); err != nil {
			return err
		}
	}
	if err := checkSetHash("req.ComposeHash", r.ComposeHash); err != nil {
		return err
	}
	if err := checkSetHash("req.TransactionHash", r.TransactionHash); err != nil {
		return err
	}
	return checkPhase2("req.", deref(r.ComposeHash), deref(r.TransactionHash))
}

func (r *PatchCVMRequest) body() gen.PatchCVMRequest {
	b := gen.PatchCVMRequest{
		DockerComposeFile: r.DockerComposeFile, PreLaunchScript: r.PreLaunchScript, EncryptedEnv: r.EncryptedEnv,
		PublicSysinfo: r.PublicSysinfo, PublicLogs: r.PublicLogs, PublicTcbinfo: r.PublicTcbinfo,
		SecureTime: r.SecureTime, Listed: r.Listed, VCPU: r.VCPU, Memory: r.Memory, DiskSize: r.DiskSize,
		InstanceType: r.InstanceType, Image: r.OSImageName, OsImageName: r.OSImageName, AllowRestart: r.AllowRestart,
		UserConfig: r.UserConfig, ShutdownTimeout: r.ShutdownTimeout, AllowForceStop: r.AllowForceStop,
	}
	if r.AllowedEnvs != nil {
		b.AllowedEnvs = &r.AllowedEnvs
	}
	return b
}

// PatchCVM applies several changes to the CVM in one request (PATCH
// /cvms/{cvmId}). On an on-chain KMS a change that alters the compose hash
// returns RequiresOnChainHash == true with the ComposeHash to register;
// then call ConfirmCVMPatch. Errors: an ErrInvalidArgument error for a nil
// or empty request or a malformed field; an ErrUnexpectedResponse error for
// a success (or 465) answer that is not the API's (no JSON object, no
// correlation id, no valid compose hash); an *APIError for any other answer.
func (c *Client) PatchCVM(ctx context.Context, cvmID string, req *PatchCVMRequest) (out *PatchCVMResponse, err error) {
	defer c.rememberToken(&out)
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidArg("req", "is nil")
	}
	body := req.body()
	if body == (gen.PatchCVMRequest{}) { // phase-2 values alone belong to ConfirmCVMPatch
		return nil, invalidArg("req", "sets nothing to change (use ConfirmCVMPatch to confirm)")
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	params := &gen.PatchCVMParams{XComposeHash: req.ComposeHash, XTransactionHash: req.TransactionHash}
	if req.PrepareOnly {
		v := gen.PatchCVMParamsXPrepareOnly("true")
		params.XPrepareOnly = &v
	}
	hreq, err := gen.NewPatchCVMRequest(c.server, id, params, body)
	r, err := c.do(ctx, opPatchCVM, hreq, err)
	if err != nil {
		return nil, err
	}
	return toPatchResponse(r)
}

func toPatchResponse(r *response) (*PatchCVMResponse, error) {
	switch r.status {
	case http.StatusOK, http.StatusAccepted:
		a, err := decodeAccepted(r)
		if err != nil {
			return nil, err
		}
		return &PatchCVMResponse{Status: a.status(), CorrelationID: a.CorrelationID, Message: a.Message, RequestID: r.header.Get(headerRequestID)}, nil
	case statusComposeHashRequired:
		return parsePrecondition(r)
	}
	return nil, unexpectedAnswer(r, "a status the call does not expect")
}

// ConfirmCVMPatchRequest carries phase 2 of a PatchCVM that returned
// RequiresOnChainHash.
type ConfirmCVMPatchRequest struct {
	// ComposeHash is PatchCVMResponse.ComposeHash.
	ComposeHash string
	// TransactionHash is the registration transaction, 0x + 64 hex.
	TransactionHash string
}

// ConfirmCVMPatch applies a patch whose compose hash is now registered
// on-chain. It sends the hashes as X-Compose-Hash / X-Transaction-Hash
// headers and repeats them as body fields (servers read one or the other).
// Errors: an ErrInvalidArgument error for a nil request or malformed
// hashes; an ErrUnexpectedResponse error for a success answer without a
// correlation id; an *APIError for any other answer (466, 467 and 468 match
// ErrComposeHashExpired, ErrTransactionVerificationFailed and
// ErrComposeHashNotAllowed).
func (c *Client) ConfirmCVMPatch(ctx context.Context, cvmID string, req *ConfirmCVMPatchRequest) (*CVMActionResponse, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidArg("req", "is nil")
	}
	if err := checkComposeHash("req.ComposeHash", req.ComposeHash); err != nil {
		return nil, err
	}
	if err := checkTxHash("req.TransactionHash", req.TransactionHash); err != nil {
		return nil, err
	}
	params := &gen.PatchCVMParams{XComposeHash: &req.ComposeHash, XTransactionHash: &req.TransactionHash}
	body := gen.PatchCVMRequest{ComposeHash: &req.ComposeHash, TransactionHash: &req.TransactionHash}
	hreq, err := gen.NewPatchCVMRequest(c.server, id, params, body)
	r, err := c.do(ctx, opPatchCVM, hreq, err)
	if err != nil {
		return nil, err
	}
	a, err := decodeAccepted(r)
	if err != nil {
		return nil, err
	}
	return &CVMActionResponse{CorrelationID: a.CorrelationID, Status: a.Status, Message: a.Message}, nil
}

// rememberToken adds the commit token a PatchCVM returned to the secrets
// scrubbed from every later text of the client: whoever holds it commits
// without the API key.
func (c *Client) rememberToken(out **PatchCVMResponse) {
	if *out != nil && (*out).CommitToken != "" {
		c.tokens.add((*out).CommitToken)
	}
}
