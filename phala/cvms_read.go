package phala

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/phalacloud/go-sdk/gen"
)

// CVMInfo is the part of a CVM's detail that configuration flows need. It
// is decoded from the detail of every API version the SDK supports (see
// SupportedAPIVersions): the CVMInfoDetail shape of 2026-01-21, 2026-05-22
// and 2026-06-23 and the legacy CvmBasicInfo shape of 2025-10-28. A field the
// answer does not carry is left zero; the fields' comments say which
// shape lacks them.
type CVMInfo struct {
	// ID is the hashed id (cvm_...); in the 2025-10-28 shape the integer
	// id in decimal, which the API accepts as a cvmID too.
	ID         string
	Name       string
	AppID      string
	VMUUID     string
	InstanceID string
	// Status is the run status, e.g. "running", "updating", "stopped".
	Status string
	// Progress is the operation in progress, nil when none. The 2025-10-28
	// shape has no progress object, only InProgress.
	Progress *CVMProgress
	// InProgress reports an operation running: the 2025-10-28 in_progress
	// flag, or a Progress present in the newer shape.
	InProgress bool
	// KMSType is "phala" (central), "ethereum", "base" or "legacy"; empty
	// in the 2025-10-28 shape.
	KMSType string
	// KMSInfo is the CVM's KMS, nil when the detail names none.
	KMSInfo *KMSInfo
	// ComposeHash is the current compose hash (empty in the 2025-10-28 shape).
	ComposeHash   string
	PublicLogs    bool
	PublicSysinfo bool
	// PublicTcbinfo, SecureTime: false in the 2025-10-28 shape, which lacks them.
	PublicTcbinfo bool
	SecureTime    bool
	Listed        bool
	// VCPU is the number of vCPUs (0 when unknown).
	VCPU int
	// MemoryMB is the memory in MB, the unit UpdateResourcesRequest.Memory
	// takes (0 when unknown). The 2025-10-28 shape gives MB (memory), kept
	// as is; the newer shape gives GB (resource.memory_in_gb), converted
	// once as GB × 1024, rounded to the nearest MB.
	MemoryMB int
	// MemoryGB is the same memory in GB (1 GB = 1024 MB): memory_in_gb as
	// the newer shape gives it, or the 2025-10-28 MB divided by 1024. It is
	// always MemoryMB / 1024 up to the rounding of MemoryMB.
	MemoryGB float64
	// DiskGB is the disk size in GB (0 when unknown); both shapes give GB.
	DiskGB int
	// InstanceType is the instance type, e.g. "tdx.medium".
	InstanceType string
}

// CVMProgress is an operation in progress on a CVM.
type CVMProgress struct {
	Target        string
	StartedAt     string
	CorrelationID string
}

// GetCVMInfo reads the CVM's detail (GET /cvms/{cvmId}) in the shape of
// the client's API version: 2025-10-28 answers the legacy shape (integer
// id, flat vcpu/memory/disk_size), 2026-01-21 and later the detail
// (hash-id string, nested resource). The shape is recognised by the type
// of its id, so an answer in the other shape decodes too. Errors: an
// ErrInvalidArgument error for a malformed id; an *APIError (ErrNotFound,
// ...) for any answer other than 200; a decoding error naming the status
// for a body that is neither shape.
func (c *Client) GetCVMInfo(ctx context.Context, cvmID string) (out *CVMInfo, err error) {
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	id, err := checkCVMID(cvmID)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewGetCVMInfoRequest(c.server, id, nil)
	r, err := c.do(ctx, opGetCVMInfo, req, err)
	if err != nil {
		return nil, err
	}
	return c.decodeCVMInfo(r)
}

// decodeCVMInfo decodes a 200 detail with gen's decoder of the shape the
// client's API version answers (2025-10-28: the legacy CvmBasicInfo, with
// an integer id; later: CVMInfoDetail, with a string id, as in the official
// OpenAPI document). A detail whose id has the other shape's type (a
// server answering another version) is decoded as the other shape.
func (c *Client) decodeCVMInfo(r *response) (*CVMInfo, error) {
	legacy := c.cfg.apiVersion == APIVersion20251028
	info, err := decodeDetail(r, legacy)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "id" {
		if other, err2 := decodeDetail(r, !legacy); err2 == nil {
			return other, nil
		}
	}
	if err != nil {
		return nil, unexpectedAnswer(r, "the body is not the JSON the call expects ("+jsonProblem(err)+")")
	}
	return info, nil
}

// decodeDetail decodes r's body as one shape of the detail.
func decodeDetail(r *response, legacy bool) (*CVMInfo, error) {
	if legacy {
		var g gen.CVMInfoLegacy
		if err := json.Unmarshal(r.body, &g); err != nil {
			return nil, err
		}
		return cvmInfoFromLegacy(&g), nil
	}
	var g gen.CVMInfo
	if err := json.Unmarshal(r.body, &g); err != nil {
		return nil, err
	}
	return cvmInfoFromGen(&g), nil
}

// cvmInfoFromLegacy maps the 2025-10-28 detail (official CvmBasicInfo;
// @phala/cloud 0.2.9 CvmDetailV20251028Schema). Its KMS facts are spread
// over kms_info (the KMS: id, slug, chain_id, kms_contract_address) and
// top-level fields (encrypted_env_pubkey, contract_address of the app,
// deployer_address); they land in the same KMSInfo fields the newer
// shape fills.
func cvmInfoFromLegacy(g *gen.CVMInfoLegacy) *CVMInfo {
	info := &CVMInfo{ID: strconv.Itoa(g.ID), Name: g.Name, AppID: deref(g.AppID), VMUUID: deref(g.VMUUID),
		InstanceID: deref(g.InstanceID), Status: g.Status, InProgress: deref(g.InProgress),
		PublicLogs: deref(g.PublicLogs), PublicSysinfo: deref(g.PublicSysinfo), Listed: deref(g.Listed),
		VCPU: deref(g.VCPU), MemoryMB: deref(g.Memory), DiskGB: deref(g.DiskSize), InstanceType: deref(g.InstanceType)}
	info.MemoryGB = float64(info.MemoryMB) / 1024
	k := &KMSInfo{EncryptedEnvPublicKey: deref(g.EncryptedEnvPubkey), DstackAppAddress: deref(g.ContractAddress),
		DeployerAddress: deref(g.DeployerAddress)}
	if m := g.KMSInfo; m != nil {
		k.ID, k.Slug, k.KMSContractAddress = deref(m.ID), deref(m.Slug), deref(m.KMSContractAddress)
		if m.ChainID != nil {
			v := int64(*m.ChainID)
			k.ChainID = &v
		}
	}
	if *k != (KMSInfo{}) {
		info.KMSInfo = k
	}
	return info
}

func cvmInfoFromGen(g *gen.CVMInfo) *CVMInfo {
	info := &CVMInfo{ID: g.ID, Name: g.Name, AppID: deref(g.AppID), VMUUID: deref(g.VMUUID),
		InstanceID: deref(g.InstanceID), Status: g.Status, KMSType: deref(g.KMSType), ComposeHash: deref(g.ComposeHash),
		PublicLogs: deref(g.PublicLogs), PublicSysinfo: deref(g.PublicSysinfo), PublicTcbinfo: deref(g.PublicTcbinfo),
		SecureTime: deref(g.SecureTime), Listed: deref(g.Listed)}
	if p := g.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		info.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: deref(p.StartedAt), CorrelationID: deref(p.CorrelationID)}
		info.InProgress = true
	}
	if k := g.KMSInfo; k != nil {
		info.KMSInfo = &KMSInfo{ID: deref(k.ID), Slug: deref(k.Slug), EncryptedEnvPublicKey: deref(k.EncryptedEnvPubkey),
			KMSContractAddress: deref(k.DstackKMSAddress), DstackAppAddress: deref(k.DstackAppAddress),
			DeployerAddress: deref(k.DeployerAddress), RPCEndpoint: deref(k.RPCEndpoint), K256PublicKey: deref(k.K256Pubkey)}
		if k.ChainID != nil {
			v := int64(*k.ChainID)
			info.KMSInfo.ChainID = &v
		}
	}
	if res := g.Resource; res != nil {
		info.VCPU, info.DiskGB, info.InstanceType = deref(res.VCPU), deref(res.DiskInGb), deref(res.InstanceType)
		info.MemoryGB = deref(res.MemoryInGb)
		setMemoryMB(info)
	}
	return info
}

// setMemoryMB sets MemoryMB from MemoryGB (GB × 1024, rounded).
func setMemoryMB(info *CVMInfo) {
	if mb := math.Round(info.MemoryGB * 1024); math.Abs(mb) < 1<<53 {
		info.MemoryMB = int(mb)
	} // else no real memory size: MemoryMB stays 0 (unknown), MemoryGB as given
}

func kmsInfoFromGen(k *gen.KMSInfo) *KMSInfo {
	out := &KMSInfo{ID: deref(k.ID), Slug: deref(k.Slug), URL: deref(k.URL), Version: deref(k.Version),
		KMSContractAddress: deref(k.KMSContractAddress), GatewayAppID: deref(k.GatewayAppID), K256PublicKey: deref(k.K256Pubkey)}
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
		return unexpectedAnswer(r, "the body is not the JSON the call expects ("+jsonProblem(err)+")")
	}
	return nil
}
