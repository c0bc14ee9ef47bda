package phalatest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// CVMSeed describes a CVM the server starts with. Only Name is required;
// every id the zero value leaves empty is derived from the name, so the
// same seed gives the same ids on every run.
type CVMSeed struct {
	// Name is the CVM name (5-63 characters, a letter first, [A-Za-z0-9-]).
	Name string `json:"name"`
	// ID is the hashed id, "cvm_..." (derived from Name when empty).
	ID string `json:"id,omitempty"`
	// AppID is the app id, 40 lowercase hex characters (derived when empty).
	AppID string `json:"app_id,omitempty"`
	// VMUUID is the VM UUID with dashes (derived when empty).
	VMUUID string `json:"vm_uuid,omitempty"`
	// InstanceID is the instance id, 40 hex characters without the
	// "instance_" prefix (derived when empty).
	InstanceID string `json:"instance_id,omitempty"`
	// DeviceID is the node's device id, 64 hex characters (derived when empty).
	DeviceID string `json:"device_id,omitempty"`

	// ChainID puts the CVM on an on-chain KMS (1 Ethereum, 8453 Base); 0
	// means the central KMS. Compose-hash changes on an on-chain CVM take
	// the two-phase flow.
	ChainID int64 `json:"chain_id,omitempty"`
	// KMSID and KMSSlug name the on-chain KMS for GET
	// /kms/{kmsId}/pubkey/{appId} (defaults "kms_base_fake", "base-fake").
	KMSID   string `json:"kms_id,omitempty"`
	KMSSlug string `json:"kms_slug,omitempty"`
	// KMSContractAddress is the KMS contract ("0x" + 40 hex) the detail
	// and the 465 name, e.g. a contract deployed on a test chain (derived
	// from KMSID when empty).
	KMSContractAddress string `json:"kms_contract_address,omitempty"`

	// DockerComposeFile is the initial compose file (a small nginx service
	// when empty): YAML with a non-empty services mapping, as updates are.
	DockerComposeFile string `json:"docker_compose_file,omitempty"`
	// PreLaunchScript is the initial pre-launch script (none when empty).
	PreLaunchScript string `json:"pre_launch_script,omitempty"`
	// AllowedEnvs are the env keys that survive inside the VM.
	AllowedEnvs []string `json:"allowed_envs,omitempty"`
	// Env is the environment the VM starts with (filtered by AllowedEnvs).
	Env map[string]string `json:"env,omitempty"`

	PublicLogs    bool `json:"public_logs,omitempty"`
	PublicSysinfo bool `json:"public_sysinfo,omitempty"`
	PublicTcbinfo bool `json:"public_tcbinfo,omitempty"`

	// VCPU, MemoryMB and DiskGB are the resources (defaults 2, 4096, 40),
	// within MinVCPU..MaxVCPU, MinMemoryMB..MaxMemoryMB (MB) and
	// MinDiskGB..MaxDiskGB (GB) as the API's requests are.
	VCPU     int `json:"vcpu,omitempty"`
	MemoryMB int `json:"memory_mb,omitempty"`
	DiskGB   int `json:"disk_gb,omitempty"`
	// InstanceType defaults to "tdx.medium".
	InstanceType string `json:"instance_type,omitempty"`
	// OSImage defaults to "dstack-0.5.3".
	OSImage string `json:"os_image,omitempty"`
}

// Names of the CVMs every server starts with (unless WithoutDefaultCVMs).
const (
	// CentralCVMName is a CVM on the central KMS: env updates need no
	// on-chain step and kms_info.encrypted_env_pubkey is set.
	CentralCVMName = "central-app"
	// OnChainCVMName is a CVM on an on-chain KMS on Base (chain id 8453):
	// compose-hash changes answer 465 until the hash is registered with
	// Server.RegisterComposeHash.
	OnChainCVMName = "onchain-app"
)

// Defaults of the on-chain KMS.
const (
	DefaultKMSID   = "kms_base_fake"
	DefaultKMSSlug = "base-fake"
	centralKMSID   = "kms_phala_central"
)

const defaultCompose = "services:\n  app:\n    image: nginx:1.27\n    ports:\n      - \"80:80\"\n"

func defaultSeeds() []CVMSeed {
	return []CVMSeed{
		{Name: CentralCVMName, AllowedEnvs: []string{"FOO", "API_TOKEN"}, PublicLogs: true, PublicSysinfo: true},
		{Name: OnChainCVMName, ChainID: 8453, AllowedEnvs: []string{"FOO"}, PublicLogs: true, PublicSysinfo: true},
	}
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{4,62}$`)
	hex40RE = regexp.MustCompile(`^[0-9a-f]{40}$`)
	hex64RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	envKey  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// derive returns n hex characters derived from the name and a label.
func derive(name, label string, n int) string {
	sum := sha256.Sum256([]byte("phalatest:" + label + ":" + name))
	return hex.EncodeToString(sum[:])[:n]
}

// normalize fills the defaults and checks the seed.
func (sd CVMSeed) normalize() (CVMSeed, error) {
	if !nameRE.MatchString(sd.Name) {
		return sd, fmt.Errorf("phalatest: CVM name %q: want 5-63 characters, a letter first, [A-Za-z0-9-]", sd.Name)
	}
	if a := sd.KMSContractAddress; a != "" && (len(a) != 42 || !strings.HasPrefix(a, "0x") || !hex40RE.MatchString(strings.ToLower(a[2:]))) {
		return sd, fmt.Errorf("phalatest: CVM %q: KMSContractAddress must be 0x + 40 hex", sd.Name)
	}
	if sd.ID == "" {
		sd.ID = "cvm_" + derive(sd.Name, "id", 12)
	}
	if !strings.HasPrefix(sd.ID, "cvm_") {
		return sd, fmt.Errorf("phalatest: CVM %s: id %q does not start with cvm_", sd.Name, sd.ID)
	}
	if sd.AppID == "" {
		sd.AppID = derive(sd.Name, "app", 40)
	}
	sd.AppID = strings.ToLower(strings.TrimPrefix(sd.AppID, "app_"))
	if sd.InstanceID == "" {
		sd.InstanceID = derive(sd.Name, "instance", 40)
	}
	sd.InstanceID = strings.ToLower(strings.TrimPrefix(sd.InstanceID, "instance_"))
	if sd.DeviceID == "" {
		sd.DeviceID = derive(sd.Name, "device", 64)
	}
	if sd.VMUUID == "" {
		h := derive(sd.Name, "uuid", 32)
		// A version-4 shape, since the JS SDK's regex expects one.
		sd.VMUUID = h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
	}
	sd.VMUUID = strings.ToLower(sd.VMUUID)
	if !hex40RE.MatchString(sd.AppID) || !hex40RE.MatchString(sd.InstanceID) || !uuidRE.MatchString(sd.VMUUID) {
		return sd, fmt.Errorf("phalatest: CVM %s: app id and instance id must be 40 hex characters, vm uuid a UUID", sd.Name)
	}
	for _, k := range sd.AllowedEnvs {
		if !envKey.MatchString(k) {
			return sd, fmt.Errorf("phalatest: CVM %s: allowed env key %q is malformed", sd.Name, k)
		}
	}
	if sd.ChainID != 0 {
		if sd.KMSID == "" {
			sd.KMSID = DefaultKMSID
		}
		if sd.KMSSlug == "" {
			sd.KMSSlug = DefaultKMSSlug
		}
	}
	if sd.DockerComposeFile == "" {
		sd.DockerComposeFile = defaultCompose
	}
	setDefault(&sd.VCPU, 2)
	setDefault(&sd.MemoryMB, 4096)
	setDefault(&sd.DiskGB, 40)
	if sd.InstanceType == "" {
		sd.InstanceType = "tdx.medium"
	}
	if sd.OSImage == "" {
		sd.OSImage = "dstack-0.5.3"
	}
	return sd, sd.checkSeed()
}

func setDefault(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}
