package phala

import (
	"context"

	"github.com/phalacloud/go-sdk/gen"
)

// ProvisionComposeUpdateRequest describes a new app-compose. The SDK starts
// from the CVM's current app-compose (GET /cvms/{cvmId}/compose_file) and
// overlays what is set here, since the API wants the complete document.
type ProvisionComposeUpdateRequest struct {
	// DockerComposeFile is the new Docker Compose YAML; "" keeps the current one.
	DockerComposeFile string
	// PreLaunchScript replaces the pre-launch script; nil keeps it.
	PreLaunchScript *string
	// AllowedEnvs replaces the allowed env keys; nil keeps them.
	AllowedEnvs []string
	// Name renames the app-compose; nil keeps it.
	Name           *string
	PublicLogs     *bool
	PublicSysinfo  *bool
	PublicTcbinfo  *bool
	GatewayEnabled *bool
	KMSEnabled     *bool
	SecureTime     *bool
	// UpdateEnvVars also replaces the allowed env keys on commit.
	UpdateEnvVars *bool
}

// ProvisionCVMResponse is a provisioned, not yet applied, compose update.
type ProvisionCVMResponse struct {
	// ComposeHash is the server's hash of the new app-compose: pass it to
	// CommitCVMComposeFileUpdate, and on an on-chain KMS register it only
	// when ComposeHashMatchesSent (it is the API's word).
	ComposeHash string
	AppID       string
	DeviceID    string
	KMSInfo     *KMSInfo
	// ComposeHashRegistered reports that the hash is already allowed on-chain
	// (false when the answer omits it, as in @phala/cloud 0.2.9's
	// ProvisionCvmComposeFileUpdateResultSchema).
	ComposeHashRegistered bool
	// ComposeUnchanged reports that the provisioned app-compose is the one
	// the CVM already runs: committing it would change nothing, so the
	// commit can be skipped (false when the answer omits it; official
	// Python SDK, action_responses.py ProvisionCvmComposeFileUpdateResult).
	ComposeUnchanged bool

	// The fields below are those the official Go SDK's ProvisionCVMResponse
	// (types_cvms.go, which it also decodes this answer into) exposes; each
	// is zero when the answer omits it.

	// AppEnvEncryptPublicKey is the app's env-encryption public key (hex).
	AppEnvEncryptPublicKey string
	// FMSPC is the FMSPC of the node's TDX platform.
	FMSPC string
	// OSImageHash is the hash of the OS image.
	OSImageHash string
	// InstanceType is the instance type, e.g. "tdx.medium".
	InstanceType string
	// NodeID is the id of the node; 0 when absent.
	NodeID int
	// KMSID is the id of the KMS node.
	KMSID string

	// SentComposeHash is the SDK's hash (dump form) of the whole
	// app-compose it sent; ComposeHashMatchesSent reports whether
	// ComposeHash is the hash of that document (dump or dstack form). The
	// document sent is the current app-compose, which the API served, with
	// the request applied: the current one's hash should be allowed on the
	// app contract too (see the README's trust model).
	SentComposeHash        string
	ComposeHashMatchesSent bool
}

// ProvisionCVMComposeFileUpdate stages a compose file update without
// applying it (step 1 of 2); commit it with CommitCVMComposeFileUpdate
// within 14 days. It makes two requests: a read of the current app-compose
// and the provision itself. Errors: an ErrInvalidArgument error for a nil
// request, one that changes nothing, a compose over 200 KiB or malformed
// env keys; an ErrUnexpectedResponse error for a success answer that is
// not the provision JSON or lacks a valid compose hash; an *APIError for
// any other answer.
func (c *Client) ProvisionCVMComposeFileUpdate(ctx context.Context, cvmID string, req *ProvisionComposeUpdateRequest) (out *ProvisionCVMResponse, err error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	cur, err := c.appCompose(ctx, id)
	if err != nil {
		return nil, err
	}
	body := req.overlay(cur)
	hreq, err := gen.NewProvisionCVMComposeFileUpdateRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opProvisionCVMComposeFileUpdate, hreq, err)
	if err != nil {
		return nil, err
	}
	var p gen.ProvisionComposeUpdateResponse
	if err := decodeJSON(r, &p); err != nil {
		return nil, err
	}
	out = &ProvisionCVMResponse{ComposeHash: p.ComposeHash, AppID: deref(p.AppID), DeviceID: deref(p.DeviceID),
		ComposeHashRegistered: deref(p.ComposeHashRegistered), ComposeUnchanged: deref(p.ComposeUnchanged),
		AppEnvEncryptPublicKey: deref(p.AppEnvEncryptPubkey), FMSPC: deref(p.Fmspc), OSImageHash: deref(p.OsImageHash),
		InstanceType: deref(p.InstanceType), NodeID: deref(p.NodeID), KMSID: deref(p.KMSID)}
	if p.KMSInfo != nil {
		out.KMSInfo = kmsInfoFromGen(p.KMSInfo)
	}
	if !composeHashRE.MatchString(out.ComposeHash) {
		return nil, unexpectedAnswer(r, "a provision answer without a valid compose_hash (64 hex characters)")
	}
	out.SentComposeHash, out.ComposeHashMatchesSent = sentComposeHash(body, out.ComposeHash)
	return out, nil
}

func (r *ProvisionComposeUpdateRequest) validate() error {
	if r == nil {
		return invalidArg("req", "is nil")
	}
	if r.DockerComposeFile == "" && r.PreLaunchScript == nil && r.AllowedEnvs == nil && r.Name == nil &&
		r.PublicLogs == nil && r.PublicSysinfo == nil && r.PublicTcbinfo == nil && r.GatewayEnabled == nil &&
		r.KMSEnabled == nil && r.SecureTime == nil && r.UpdateEnvVars == nil {
		return invalidArg("req", "changes nothing")
	}
	if r.Name != nil && *r.Name == "" {
		return invalidArg("req.Name", "is empty")
	}
	if err := checkOptionalContent("req.Name", r.Name); err != nil {
		return err
	}
	// "" keeps the current compose file.
	if r.DockerComposeFile != "" {
		if err := checkContent("req.DockerComposeFile", r.DockerComposeFile); err != nil {
			return err
		}
	}
	// "" empties the pre-launch script; blank text is a mistake.
	if r.PreLaunchScript != nil && *r.PreLaunchScript != "" {
		if err := checkContent("req.PreLaunchScript", *r.PreLaunchScript); err != nil {
			return err
		}
	}
	if err := checkComposeSize("req.DockerComposeFile", &r.DockerComposeFile, r.PreLaunchScript); err != nil {
		return err
	}
	return checkEnvKeys("req.AllowedEnvs", r.AllowedEnvs)
}

// overlay copies the current app-compose (unknown fields included) and
// applies the fields the caller set.
func (r *ProvisionComposeUpdateRequest) overlay(cur *gen.AppCompose) gen.ProvisionComposeUpdateRequest {
	b := gen.ProvisionComposeUpdateRequest{
		AllowedEnvs: cur.AllowedEnvs, BashScript: cur.BashScript, DefaultGatewayDomain: cur.DefaultGatewayDomain,
		DockerComposeFile: cur.DockerComposeFile, Features: cur.Features, GatewayEnabled: cur.GatewayEnabled,
		InitScript: cur.InitScript, KeyProvider: cur.KeyProvider, KeyProviderID: cur.KeyProviderID,
		KMSEnabled: cur.KMSEnabled, LocalKeyProviderEnabled: cur.LocalKeyProviderEnabled,
		ManifestVersion: cur.ManifestVersion, Name: cur.Name, NoInstanceID: cur.NoInstanceID,
		PreLaunchScript: cur.PreLaunchScript, PublicLogs: cur.PublicLogs, PublicSysinfo: cur.PublicSysinfo,
		PublicTcbinfo: cur.PublicTcbinfo, Runner: cur.Runner, Salt: cur.Salt, SecureTime: cur.SecureTime,
		StorageFs: cur.StorageFs, TproxyEnabled: cur.TproxyEnabled, AdditionalProperties: cur.AdditionalProperties,
		UpdateEnvVars: r.UpdateEnvVars,
	}
	if r.DockerComposeFile != "" {
		b.DockerComposeFile = &r.DockerComposeFile
	}
	if r.PreLaunchScript != nil {
		b.PreLaunchScript = r.PreLaunchScript
	}
	if r.AllowedEnvs != nil {
		b.AllowedEnvs = &r.AllowedEnvs
	}
	if r.Name != nil {
		b.Name = *r.Name
	}
	overlayBool(&b.PublicLogs, r.PublicLogs)
	overlayBool(&b.PublicSysinfo, r.PublicSysinfo)
	overlayBool(&b.PublicTcbinfo, r.PublicTcbinfo)
	overlayBool(&b.GatewayEnabled, r.GatewayEnabled)
	overlayBool(&b.KMSEnabled, r.KMSEnabled)
	overlayBool(&b.SecureTime, r.SecureTime)
	return b
}

func overlayBool(dst **bool, v *bool) {
	if v != nil {
		*dst = v
	}
}

// GetCVMComposeFile reads the CVM's current app-compose (GET
// /cvms/{cvmId}/compose_file). Fields the AppCompose type does not know are
// kept, so DumpAppComposeHash of its JSON is the hash of the compose file
// as fetched. Errors: an ErrInvalidArgument error for a malformed id; an
// *APIError for any answer other than 200.
func (c *Client) GetCVMComposeFile(ctx context.Context, cvmID string) (*AppCompose, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewGetCVMComposeFileRequest(c.server, id, nil)
	return decodeAs[AppCompose](c.do(ctx, opGetCVMComposeFile, req, err))
}

// appCompose reads the CVM's current app-compose.
func (c *Client) appCompose(ctx context.Context, id string) (*gen.AppCompose, error) {
	req, err := gen.NewGetCVMComposeFileRequest(c.server, id, nil)
	return decodeAs[gen.AppCompose](c.do(ctx, opGetCVMComposeFile, req, err))
}

// CommitComposeUpdateRequest applies a provisioned compose update.
type CommitComposeUpdateRequest struct {
	// ComposeHash is ProvisionCVMResponse.ComposeHash (required).
	ComposeHash string
	// EncryptedEnv optionally replaces the environment variables (hex).
	EncryptedEnv string
	// EnvKeys lists the keys of EncryptedEnv.
	EnvKeys []string
	// UpdateEnvVars also replaces the allowed env keys.
	UpdateEnvVars *bool
	// TransactionHash optionally names the transaction that registered
	// ComposeHash on the app contract (on-chain KMS), 0x + 64 hex; sent as
	// transaction_hash, as the Python SDK 0.4.6b4 does on this commit. ""
	// sends nothing.
	TransactionHash string
}

// CommitCVMComposeFileUpdate applies a provisioned compose update (step 2
// of 2) and restarts the CVM; it returns nil once the API accepted it. To
// wait for the restart, pass a context from WithUpdateResult and give the
// result it fills to WaitForUpdate. Errors: an ErrInvalidArgument error
// for a nil request, a malformed hash or TransactionHash, non-hex
// EncryptedEnv or malformed keys; an ErrUnexpectedResponse error for a success answer whose body is
// not a JSON object; an *APIError otherwise (465 on an on-chain KMS whose
// contract does not allow the hash yet, 466 for an expired provision).
func (c *Client) CommitCVMComposeFileUpdate(ctx context.Context, cvmID string, req *CommitComposeUpdateRequest) error {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return err
	}
	if req == nil {
		return invalidArg("req", "is nil")
	}
	if err := checkComposeHash("req.ComposeHash", req.ComposeHash); err != nil {
		return err
	}
	body := gen.CommitComposeUpdateRequest{ComposeHash: req.ComposeHash, UpdateEnvVars: req.UpdateEnvVars}
	if req.TransactionHash != "" {
		if err := checkTxHash("req.TransactionHash", req.TransactionHash); err != nil {
			return err
		}
		body.TransactionHash = &req.TransactionHash
	}
	if req.EncryptedEnv != "" {
		if err := checkEncryptedEnv("req.EncryptedEnv", req.EncryptedEnv); err != nil {
			return err
		}
		body.EncryptedEnv = &req.EncryptedEnv
	}
	if err := checkEnvKeys("req.EnvKeys", req.EnvKeys); err != nil {
		return err
	}
	if req.EnvKeys != nil {
		body.EnvKeys = &req.EnvKeys
	}
	hreq, err := gen.NewCommitCVMComposeFileUpdateRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opCommitCVMComposeFileUpdate, hreq, err)
	if err != nil {
		return err
	}
	return acceptLenient(ctx, r)
}
