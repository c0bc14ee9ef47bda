package phala

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/phalacloud/go-sdk/gen"
)

// ComposeUpdateOptions carries the phase-2 values of the on-chain KMS flow
// for UpdateDockerCompose and UpdatePreLaunchScript. Set both or neither.
type ComposeUpdateOptions struct {
	// ComposeHash is the hash the 465 phase returned (sent as X-Compose-Hash).
	ComposeHash string
	// TransactionHash is the registration transaction, 0x + 64 hex (sent as X-Transaction-Hash).
	TransactionHash string
}

func (o *ComposeUpdateOptions) params() (composeHash, txHash *string, err error) {
	if o == nil {
		return nil, nil, nil
	}
	if err := checkPhase2("opts.", o.ComposeHash, o.TransactionHash); err != nil {
		return nil, nil, err
	}
	return nonEmpty(o.ComposeHash), nonEmpty(o.TransactionHash), nil
}

// UpdateDockerCompose replaces the CVM's Docker Compose file (sent as
// text/yaml) and restarts the CVM. cvmID is any id form the API accepts:
// hashed id, UUID, app id (a bare 40-hex id gets its app_ prefix), instance
// id or name.
//
// On an on-chain KMS the first call returns a result with Status
// RequiresOnChainHash and the ComposeHash to register; call again
// with opts carrying that hash and the transaction hash. A compose that is
// what the CVM already runs gives a StatusNoChange result (nothing
// restarts). Errors: an ErrInvalidArgument error for an empty id or
// compose, a compose over 200 KiB or malformed hashes (nothing is sent);
// an ErrUnexpectedResponse error for a success answer that is not the
// API's (a proxy's HTML page, malformed JSON, no correlation id) or a 465
// without a valid compose hash; an *APIError for any other answer.
func (c *Client) UpdateDockerCompose(ctx context.Context, cvmID, compose string, opts *ComposeUpdateOptions) (*UpdateResult, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if err := checkContent("compose", compose); err != nil {
		return nil, err
	}
	if err := checkComposeSize("compose", &compose); err != nil {
		return nil, err
	}
	ch, tx, err := opts.params()
	if err != nil {
		return nil, err
	}
	params := &gen.UpdateDockerComposeParams{XComposeHash: ch, XTransactionHash: tx}
	req, err := gen.NewUpdateDockerComposeRequestWithBody(c.server, id, params, "text/yaml", strings.NewReader(compose))
	r, err := c.do(ctx, opUpdateDockerCompose, req, err)
	if err != nil {
		return nil, err
	}
	return toUpdateResult(r)
}

// UpdatePreLaunchScript replaces the shell script that runs before the
// CVM's containers start (sent as text/plain) and restarts the CVM. The
// on-chain flow and errors are those of UpdateDockerCompose.
func (c *Client) UpdatePreLaunchScript(ctx context.Context, cvmID, script string, opts *ComposeUpdateOptions) (*UpdateResult, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if script == "" {
		return nil, invalidArg("script", "is empty (to restore the default script, call "+
			"client.PatchCVM(ctx, cvmID, &phala.PatchCVMRequest{PreLaunchScript: phala.String(\"\")}))")
	}
	if err := checkContent("script", script); err != nil {
		return nil, err
	}
	if err := checkComposeSize("script", &script); err != nil {
		return nil, err
	}
	ch, tx, err := opts.params()
	if err != nil {
		return nil, err
	}
	params := &gen.UpdatePreLaunchScriptParams{XComposeHash: ch, XTransactionHash: tx}
	req, err := gen.NewUpdatePreLaunchScriptRequestWithTextBody(c.server, id, params, script)
	r, err := c.do(ctx, opUpdatePreLaunchScript, req, err)
	if err != nil {
		return nil, err
	}
	return toUpdateResult(r)
}

// UpdateResourcesRequest lists new resources; nil fields are kept.
type UpdateResourcesRequest struct {
	// VCPU is the number of vCPUs.
	VCPU *int
	// Memory is in MB (8 GB is 8192), not GB.
	Memory *int
	// DiskSize is in GB.
	DiskSize *int
	// InstanceType overrides the instance type, e.g. "tdx.large".
	InstanceType *string
	// AllowRestart lets the API restart the CVM when the change needs it.
	AllowRestart *bool
}

// UpdateCVMResources resizes the CVM. It returns nil once the API has
// accepted the change, which then runs in the background; to wait for it,
// pass a context from WithUpdateResult and give the result it fills to
// WaitForUpdate (the 202 answer carries a correlation_id). Errors: an
// ErrInvalidArgument error for a nil or empty request or a non-positive
// size; an ErrUnexpectedResponse error for a success answer whose body is
// not a JSON object (e.g. a proxy's page); an *APIError for any other
// answer. The official reference marks PATCH /resources deprecated and the
// official SDKs now resize through PATCH /cvms/{id}: PatchCVM with VCPU,
// Memory or DiskSize does the same and returns the correlation id.
func (c *Client) UpdateCVMResources(ctx context.Context, cvmID string, req *UpdateResourcesRequest) error {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return err
	}
	if req == nil {
		return invalidArg("req", "is nil")
	}
	if req.VCPU == nil && req.Memory == nil && req.DiskSize == nil && req.InstanceType == nil {
		return invalidArg("req", "sets no resource to change")
	}
	if err := checkPositiveFields(intField{"req.VCPU", req.VCPU}, intField{"req.Memory", req.Memory},
		intField{"req.DiskSize", req.DiskSize}); err != nil {
		return err
	}
	if err := checkOptionalContent("req.InstanceType", req.InstanceType); err != nil {
		return err
	}
	body := gen.UpdateResourcesRequest{VCPU: req.VCPU, Memory: req.Memory, DiskSize: req.DiskSize,
		InstanceType: req.InstanceType, AllowRestart: req.AllowRestart}
	hreq, err := gen.NewUpdateCVMResourcesRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opUpdateCVMResources, hreq, err)
	if err != nil {
		return err
	}
	return acceptLenient(ctx, r)
}

// UpdateVisibilityRequest lists visibility flags to set; nil fields keep
// their current value (the SDK reads it, since the API wants both
// PublicSysinfo and PublicLogs).
type UpdateVisibilityRequest struct {
	PublicSysinfo *bool
	PublicLogs    *bool
	PublicTcbinfo *bool
}

// CVMVisibility is a CVM's visibility after UpdateCVMVisibility. Each flag
// is the server's answer when it echoes the flag, else the value sent, else
// (PublicTcbinfo not given) the CVM detail's; never a guess.
type CVMVisibility struct {
	PublicSysinfo bool
	PublicLogs    bool
	PublicTcbinfo bool
}

// UpdateCVMVisibility sets which information about the CVM is public. When
// the request leaves PublicSysinfo or PublicLogs nil, the SDK first reads
// the CVM (GET /cvms/{cvmId}) and keeps the current value; of that detail
// only the three flags (and the id that tells its shape) are decoded, so
// the call does not depend on fields it does not use.
//
// The answer is the API's VM object; only its three flags are read, and
// any other field, of any type, is ignored, so a call whose change was
// applied does not fail on an unexpected field. The official VM schema has
// no public_* flags: a flag the answer lacks is the value that was sent;
// PublicTcbinfo, when not given and not answered, is the CVM detail's (read
// before the change when that read was needed anyway, else after it; the
// 2025-10-28 detail lacks the flag, which then reads false). Errors: an
// ErrInvalidArgument error for a nil request or one that sets nothing; an
// *APIError for any answer other than 200; a decoding error for a 200 body
// that is not a JSON object.
func (c *Client) UpdateCVMVisibility(ctx context.Context, cvmID string, req *UpdateVisibilityRequest) (*CVMVisibility, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidArg("req", "is nil")
	}
	if req.PublicSysinfo == nil && req.PublicLogs == nil && req.PublicTcbinfo == nil {
		return nil, invalidArg("req", "sets no visibility flag")
	}
	body := gen.UpdateVisibilityRequest{PublicTcbinfo: req.PublicTcbinfo}
	var cur *CVMVisibility
	if req.PublicSysinfo == nil || req.PublicLogs == nil {
		if cur, err = c.currentVisibility(ctx, id); err != nil {
			return nil, err
		}
		body.PublicSysinfo, body.PublicLogs = cur.PublicSysinfo, cur.PublicLogs
	}
	if req.PublicSysinfo != nil {
		body.PublicSysinfo = *req.PublicSysinfo
	}
	if req.PublicLogs != nil {
		body.PublicLogs = *req.PublicLogs
	}
	hreq, err := gen.NewUpdateCVMVisibilityRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opUpdateCVMVisibility, hreq, err)
	if err != nil {
		return nil, err
	}
	// Only the flags are decoded (official VM schema: integer id, no flags;
	// @phala/cloud 0.2.9 parses it leniently): the change is applied by now.
	var vm struct {
		PublicSysinfo json.RawMessage `json:"public_sysinfo"`
		PublicLogs    json.RawMessage `json:"public_logs"`
		PublicTcbinfo json.RawMessage `json:"public_tcbinfo"`
	}
	if err := decodeJSON(r, &vm); err != nil {
		return nil, err
	}
	sys, logs, tcb := flagOf(vm.PublicSysinfo), flagOf(vm.PublicLogs), flagOf(vm.PublicTcbinfo)
	v := &CVMVisibility{PublicSysinfo: answeredFlag(sys, body.PublicSysinfo), PublicLogs: answeredFlag(logs, body.PublicLogs)}
	switch {
	case tcb.isBool:
		v.PublicTcbinfo = tcb.val
	case req.PublicTcbinfo != nil:
		v.PublicTcbinfo = *req.PublicTcbinfo
	default:
		if cur == nil {
			if cur, err = c.currentVisibility(ctx, id); err != nil {
				return nil, fmt.Errorf("phala: visibility updated, reading public_tcbinfo back: %w", err)
			}
		}
		v.PublicTcbinfo = cur.PublicTcbinfo
	}
	return v, nil
}

// currentVisibility reads the CVM's flags as GetCVMInfo gives them.
func (c *Client) currentVisibility(ctx context.Context, id string) (*CVMVisibility, error) {
	req, err := gen.NewGetCVMInfoRequest(c.server, id, nil)
	r, err := c.do(ctx, opGetCVMInfo, req, err)
	if err != nil {
		return nil, err
	}
	info, err := c.decodeCVMInfo(r)
	if err != nil {
		return nil, err
	}
	return &CVMVisibility{PublicSysinfo: info.PublicSysinfo, PublicLogs: info.PublicLogs, PublicTcbinfo: info.PublicTcbinfo}, nil
}

// answeredFlag is the boolean the answer gives, or sent when the answer
// lacks it (or gives something else than a boolean).
func answeredFlag(f jsonFlag, sent bool) bool {
	if !f.isBool {
		return sent
	}
	return f.val
}

// jsonFlag is one flag of the visibility answer: whether it is a JSON
// boolean, and which.
type jsonFlag struct{ isBool, val bool }

// flagOf reads one flag of the answer, as raw JSON.
func flagOf(raw json.RawMessage) jsonFlag {
	v := string(bytes.TrimSpace(raw))
	return jsonFlag{isBool: v == "true" || v == "false", val: v == "true"}
}

// UpdateEnvsRequest replaces the CVM's encrypted environment variables.
type UpdateEnvsRequest struct {
	// EncryptedEnv is the hex output of EncryptEnvVars (required).
	EncryptedEnv string
	// EnvKeys are the keys allowed inside the CVM; keys not listed in the
	// app's allowed envs are dropped by the VM. Changing them changes the
	// compose hash.
	EnvKeys []string
	// ComposeHash and TransactionHash are the phase-2 values of the
	// on-chain flow (sent in the body on this endpoint). Both or neither.
	ComposeHash     *string
	TransactionHash *string
}

// UpdateCVMEnvs replaces the CVM's whole set of environment variables and
// restarts it. An update that changes EnvKeys on an on-chain KMS returns a
// RequiresOnChainHash result first; a set identical to the running
// one may give a StatusNoChange result. Errors: an ErrInvalidArgument
// error for a nil request, non-hex EncryptedEnv, malformed keys or hashes;
// an ErrUnexpectedResponse error for a success (or 465) answer that is not
// the API's; an *APIError for any other answer.
func (c *Client) UpdateCVMEnvs(ctx context.Context, cvmID string, req *UpdateEnvsRequest) (*UpdateResult, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalidArg("req", "is nil")
	}
	if err := checkEncryptedEnv("req.EncryptedEnv", req.EncryptedEnv); err != nil {
		return nil, err
	}
	if err := checkEnvKeys("req.EnvKeys", req.EnvKeys); err != nil {
		return nil, err
	}
	if err := checkSetHash("req.ComposeHash", req.ComposeHash); err != nil {
		return nil, err
	}
	if err := checkSetHash("req.TransactionHash", req.TransactionHash); err != nil {
		return nil, err
	}
	if err := checkPhase2("req.", deref(req.ComposeHash), deref(req.TransactionHash)); err != nil {
		return nil, err
	}
	body := gen.UpdateEnvsRequest{EncryptedEnv: req.EncryptedEnv, ComposeHash: req.ComposeHash, TransactionHash: req.TransactionHash}
	if req.EnvKeys != nil {
		body.EnvKeys = &req.EnvKeys
	}
	hreq, err := gen.NewUpdateCVMEnvsRequest(c.server, id, nil, body)
	r, err := c.do(ctx, opUpdateCVMEnvs, hreq, err)
	if err != nil {
		return nil, err
	}
	return toUpdateResult(r)
}

// UpdateOSImageRequest names the OS image to move to.
type UpdateOSImageRequest struct {
	// OSImageName is an image name or slug from the CVM's available OS
	// images, e.g. "dstack-0.5.4" (required).
	OSImageName string
}

// UpdateOSImage moves the CVM to another OS image; the change applies on
// restart. It returns nil once the API accepted it; to wait for the
// restart, pass a context from WithUpdateResult and give the result it
// fills to WaitForUpdate (the official document: "Upgrade initiated,
// returns correlation_id"). Errors: an ErrInvalidArgument error for a nil
// request or empty name; an ErrUnexpectedResponse error for a success
// answer whose body is not a JSON object; an *APIError for any other
// answer.
func (c *Client) UpdateOSImage(ctx context.Context, cvmID string, req *UpdateOSImageRequest) error {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return err
	}
	if req == nil {
		return invalidArg("req", "is nil")
	}
	if err := checkContent("req.OSImageName", req.OSImageName); err != nil {
		return err
	}
	hreq, err := gen.NewUpdateOSImageRequest(c.server, id, nil, gen.UpdateOSImageRequest{OsImageName: req.OSImageName})
	r, err := c.do(ctx, opUpdateOSImage, hreq, err)
	if err != nil {
		return err
	}
	return acceptLenient(ctx, r)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
