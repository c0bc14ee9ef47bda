package phala

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/phalacloud/go-sdk/gen"
)

// CVMInfo is the part of a CVM's detail that configuration flows need.
type CVMInfo struct {
	// ID is the hashed id (cvm_...).
	ID         string
	Name       string
	AppID      string
	VMUUID     string
	InstanceID string
	// Status is the run status, e.g. "running", "updating", "stopped".
	Status string
	// Progress is the operation in progress, nil when none.
	Progress *CVMProgress
	// KMSType is "phala" (central), "ethereum", "base" or "legacy".
	KMSType string
	KMSInfo *CVMKMSInfo
	// ComposeHash is the current compose hash.
	ComposeHash   string
	PublicLogs    bool
	PublicSysinfo bool
	PublicTcbinfo bool
	SecureTime    bool
	Listed        bool
	// VCPU, MemoryGB and DiskGB are the current resources (0 when unknown).
	VCPU     int
	MemoryGB float64
	DiskGB   int
	// InstanceType is the instance type, e.g. "tdx.medium".
	InstanceType string
}

// CVMProgress is an operation in progress on a CVM.
type CVMProgress struct {
	Target        string
	StartedAt     string
	CorrelationID string
}

// CVMKMSInfo is the KMS of a CVM as its detail shows it.
type CVMKMSInfo struct {
	// ChainID is set for an on-chain KMS, nil for the central KMS.
	ChainID *int64
	// ID and Slug name the KMS (for GET /kms/{kmsId}/pubkey/{appId}).
	ID   string
	Slug string
	// EncryptedEnvPubkey is the X25519 env encryption key (central KMS), hex.
	EncryptedEnvPubkey string
	DstackKMSAddress   string
	DstackAppAddress   string
	DeployerAddress    string
	RPCEndpoint        string
}

// OnChain reports whether the CVM's KMS is a contract, so that changes to
// the compose hash take the two-phase flow.
func (k *CVMKMSInfo) OnChain() bool { return k != nil && k.ChainID != nil }

// GetCVMInfo reads the CVM's detail (GET /cvms/{cvmId}). Errors: an
// ErrInvalidArgument error for a malformed id; an *APIError (ErrNotFound,
// ...) for any answer other than 200.
func (c *Client) GetCVMInfo(ctx context.Context, cvmID string) (out *CVMInfo, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, err
	}
	r, err := read(c.api.GetCVMInfo(ctx, id, nil))
	if err != nil {
		return nil, err
	}
	if err := expect(r, http.StatusOK); err != nil {
		return nil, err
	}
	var g gen.CVMInfo
	if err := decodeJSON(r, &g); err != nil {
		return nil, err
	}
	return cvmInfoFromGen(&g), nil
}

func cvmInfoFromGen(g *gen.CVMInfo) *CVMInfo {
	info := &CVMInfo{ID: g.ID, Name: g.Name, AppID: deref(g.AppID), VMUUID: deref(g.VMUUID),
		InstanceID: deref(g.InstanceID), Status: g.Status, KMSType: deref(g.KMSType), ComposeHash: deref(g.ComposeHash),
		PublicLogs: deref(g.PublicLogs), PublicSysinfo: deref(g.PublicSysinfo), PublicTcbinfo: deref(g.PublicTcbinfo),
		SecureTime: deref(g.SecureTime), Listed: deref(g.Listed)}
	if p := g.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		info.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: deref(p.StartedAt), CorrelationID: deref(p.CorrelationID)}
	}
	if k := g.KMSInfo; k != nil {
		info.KMSInfo = &CVMKMSInfo{ID: deref(k.ID), Slug: deref(k.Slug), EncryptedEnvPubkey: deref(k.EncryptedEnvPubkey),
			DstackKMSAddress: deref(k.DstackKMSAddress), DstackAppAddress: deref(k.DstackAppAddress),
			DeployerAddress: deref(k.DeployerAddress), RPCEndpoint: deref(k.RPCEndpoint)}
		if k.ChainID != nil {
			v := int64(*k.ChainID)
			info.KMSInfo.ChainID = &v
		}
	}
	if res := g.Resource; res != nil {
		info.VCPU, info.MemoryGB, info.DiskGB = deref(res.VCPU), float64(deref(res.MemoryInGb)), deref(res.DiskInGb)
		info.InstanceType = deref(res.InstanceType)
	}
	return info
}

func kmsInfoFromGen(k *gen.KMSInfo) *KMSInfo {
	out := &KMSInfo{ID: deref(k.ID), Slug: deref(k.Slug), URL: deref(k.URL), Version: deref(k.Version),
		KMSContractAddress: deref(k.KMSContractAddress), GatewayAppID: deref(k.GatewayAppID)}
	if k.ChainID != nil {
		v := int64(*k.ChainID)
		out.ChainID = &v
	}
	return out
}

// decodeJSON decodes a success body; a body that is not the JSON the spec
// promises is an error that keeps the status and a snippet of the body.
func decodeJSON(r *response, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("phala: decoding the HTTP %d answer: %w (body: %q)", r.status, err, snippet(r.body))
	}
	return nil
}
