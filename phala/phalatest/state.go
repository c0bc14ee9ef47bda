package phalatest

import (
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phalacloud/go-sdk/phala"
)

// cvm is the server's state of one CVM. Every field is guarded by Server.mu.
type cvm struct {
	seed       CVMSeed
	numericID  int
	createdAt  time.Time
	appCompose map[string]any // the app-compose document
	envKey     *ecdh.PrivateKey
	rawEnv     map[string]string // the last decrypted env set, unfiltered
	encEnv     string            // the last encrypted_env as received

	status      string
	progress    *progress
	busyUntil   time.Time // zero when no update is running
	restartAt   time.Time // WithRestartLag: when the accepted update's restart begins; zero otherwise
	nextProg    *progress // the progress the CVM shows from restartAt
	held        bool      // HoldUpdates: a running update does not end by itself
	failBoot    string    // boot_error of the next boot (FailNextBoot); "" boots fine
	bootError   string    // boot_error of the last boot
	exitedAt    string    // when the last boot failed (RFC 3339)
	vcpu        int
	memoryMB    int
	diskGB      int
	instance    string
	osImage     string
	listed      bool
	userConfig  string
	gpus        int
	shutdownSec int
	forceStop   bool

	pending    map[string]*pendingChange // by compose hash (phase 1 of the on-chain flow)
	registered map[string]string         // compose hash -> transaction hash (the "chain")
	provisions map[string]*provision     // by compose hash
	applied    []AppliedChange

	attestation []byte // SetAttestation's body; nil: the recorded sample
}

type progress struct {
	Target        string `json:"target"`
	StartedAt     string `json:"started_at"`
	CorrelationID string `json:"correlation_id"`
}

// pendingChange is a change refused with 465, kept until it is confirmed
// with the registered hash or expires.
type pendingChange struct {
	change  *change
	created time.Time
}

// provision is a staged app-compose (POST .../compose_file/provision).
type provision struct {
	appCompose map[string]any
	created    time.Time
}

func (c *cvm) onChain() bool { return c.seed.ChainID != 0 }

// refresh ends a finished update: status back to running (or exited with
// boot_error when the boot was made to fail), progress null. A held update
// (HoldUpdates) has not finished. It reports whether the state changed.
func (c *cvm) refresh(now time.Time) bool {
	begun := false
	if !c.restartAt.IsZero() && !now.Before(c.restartAt) {
		// The accepted update's restart begins (WithRestartLag).
		c.status, c.progress = "updating", c.nextProg
		c.progress.StartedAt = c.restartAt.UTC().Format(time.RFC3339Nano)
		c.restartAt, c.nextProg, begun = time.Time{}, nil, true
	}
	if c.busyUntil.IsZero() || c.held || now.Before(c.busyUntil) {
		return begun
	}
	end := c.busyUntil
	c.busyUntil = time.Time{}
	c.progress = nil
	c.status = "running"
	if c.failBoot != "" {
		c.boot(end)
	}
	return true
}

// boot ends the restart in the failure FailNextBoot asked for.
func (c *cvm) boot(at time.Time) {
	c.status, c.bootError, c.failBoot = "exited", c.failBoot, ""
	c.exitedAt = at.UTC().Format(time.RFC3339Nano)
	c.progress = nil
}

// nextChange is when the CVM's state changes next on its own (the restart
// beginning, or the update ending); zero when nothing is due.
func (c *cvm) nextChange() time.Time {
	if !c.restartAt.IsZero() {
		return c.restartAt
	}
	return c.busyUntil
}

func (c *cvm) busy(now time.Time) bool {
	c.refresh(now)
	return !c.busyUntil.IsZero()
}

func newAppCompose(sd CVMSeed) map[string]any {
	ac := map[string]any{
		"name":                sd.Name,
		"runner":              "docker-compose",
		"docker_compose_file": sd.DockerComposeFile,
		"manifest_version":    json.Number("2"),
		"kms_enabled":         true,
		"gateway_enabled":     true,
		"public_logs":         sd.PublicLogs,
		"public_sysinfo":      sd.PublicSysinfo,
		"public_tcbinfo":      sd.PublicTcbinfo,
		"secure_time":         false,
		"allowed_envs":        toAny(sd.AllowedEnvs),
		"storage_fs":          "zfs",
	}
	if sd.PreLaunchScript != "" {
		ac["pre_launch_script"] = sd.PreLaunchScript
	}
	return ac
}

func toAny(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

// cloneJSON deep-copies a JSON document made of maps, slices and scalars.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = cloneJSON(e)
		}
		return s
	default:
		return v
	}
}

func cloneCompose(ac map[string]any) map[string]any { return cloneJSON(ac).(map[string]any) }

// allowedEnvs reads the app-compose's allowed_envs.
func allowedEnvs(ac map[string]any) []string {
	var out []string
	if list, ok := ac["allowed_envs"].([]any); ok {
		for _, e := range list {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func composeBool(ac map[string]any, key string) bool {
	b, _ := ac[key].(bool)
	return b
}

func composeString(ac map[string]any, key string) string {
	s, _ := ac[key].(string)
	return s
}

// composeHash returns the compose hash of an app-compose document: the
// hex SHA-256 of its Phala Cloud serialisation (phala.DumpAppCompose, the
// @phala/cloud dumpAppCompose form). This is the one place that decides it.
func composeHash(appCompose []byte) (string, error) {
	return phala.DumpAppComposeHash(appCompose)
}

// hashOf is composeHash for a document the server holds.
func hashOf(ac map[string]any) string {
	b, err := json.Marshal(ac)
	if err != nil {
		panic("phalatest: app-compose is not JSON: " + err.Error())
	}
	h, err := composeHash(b)
	if err != nil {
		panic("phalatest: app-compose is not JSON: " + err.Error())
	}
	return h
}

// visibleEnv is what the VM sees: the decrypted set filtered by allowed_envs.
func (c *cvm) visibleEnv() map[string]string {
	out := map[string]string{}
	allowed := allowedEnvs(c.appCompose)
	for k, v := range c.rawEnv {
		if slices.Contains(allowed, k) {
			out[k] = v
		}
	}
	return out
}

func (c *cvm) envPubHex() string { return hex.EncodeToString(c.envKey.PublicKey().Bytes()) }

// kmsInfo is the KMSInfo object of 465 and provision answers.
func (c *cvm) kmsInfo() map[string]any {
	if !c.onChain() {
		return map[string]any{
			"id": centralKMSID, "slug": "phala", "url": "https://kms.phala.fake.invalid", "version": "v0.5.3",
			"chain_id": nil, "kms_contract_address": nil, "gateway_app_id": nil,
		}
	}
	return map[string]any{
		"id": c.seed.KMSID, "slug": c.seed.KMSSlug, "url": "https://" + c.seed.KMSSlug + ".kms.fake.invalid",
		"version": "v0.5.3", "chain_id": c.seed.ChainID,
		"kms_contract_address": c.kmsContract(),
		"gateway_app_id":       "0x" + derive(c.seed.KMSID, "gateway", 40),
	}
}

// kmsContract is the KMS contract address of an on-chain CVM.
func (c *cvm) kmsContract() string {
	if c.seed.KMSContractAddress != "" {
		return strings.ToLower(c.seed.KMSContractAddress)
	}
	return "0x" + derive(c.seed.KMSID, "kms-contract", 40)
}

func (c *cvm) kmsType() string {
	switch c.seed.ChainID {
	case 0:
		return "phala"
	case 8453:
		return "base"
	default:
		return "ethereum"
	}
}

// infoJSON is the CVM detail of API version 2026-01-21 (GET /cvms/{id}).
func (c *cvm) infoJSON() map[string]any {
	ac := c.appCompose
	kms := map[string]any{"chain_id": nil, "encrypted_env_pubkey": c.envPubHex(), "id": centralKMSID, "slug": "phala"}
	if c.onChain() {
		kms = map[string]any{
			"chain_id":             c.seed.ChainID,
			"dstack_kms_address":   c.kmsContract(),
			"dstack_app_address":   "0x" + c.seed.AppID,
			"deployer_address":     "0x" + derive(c.seed.Name, "deployer", 40),
			"rpc_endpoint":         "https://rpc.fake.invalid/" + c.seed.KMSSlug,
			"encrypted_env_pubkey": nil,
			"id":                   c.seed.KMSID,
			"slug":                 c.seed.KMSSlug,
		}
	}
	var prog any
	if c.progress != nil {
		prog = c.progress
	}
	return map[string]any{
		"id":          c.seed.ID,
		"name":        c.seed.Name,
		"app_id":      c.seed.AppID,
		"vm_uuid":     c.seed.VMUUID,
		"instance_id": c.seed.InstanceID,
		"resource": map[string]any{
			"instance_type": c.instance, "vcpu": c.vcpu, "memory_in_gb": float64(c.memoryMB) / 1024,
			"disk_in_gb": c.diskGB, "gpus": c.gpus,
		},
		"os":              map[string]any{"name": c.osImage, "version": strings.TrimPrefix(c.osImage, "dstack-"), "is_dev": false},
		"kms_type":        c.kmsType(),
		"kms_info":        kms,
		"status":          c.status,
		"progress":        prog,
		"compose_hash":    hashOf(ac),
		"gateway":         map[string]any{"base_domain": "fake.phala.invalid", "cname": nil},
		"services":        []any{},
		"public_logs":     composeBool(ac, "public_logs"),
		"public_sysinfo":  composeBool(ac, "public_sysinfo"),
		"public_tcbinfo":  composeBool(ac, "public_tcbinfo"),
		"gateway_enabled": composeBool(ac, "gateway_enabled"),
		"secure_time":     composeBool(ac, "secure_time"),
		"listed":          c.listed,
		"storage_fs":      composeString(ac, "storage_fs"),
	}
}

// legacyInfoJSON is the CVM detail of API version 2025-10-28 (the official
// CvmBasicInfo; @phala/cloud 0.2.9 CvmDetailV20251028Schema): integer id,
// flat resources with memory in MB, the KMS object of 465 answers, and the
// env key and contract addresses at top level.
func (c *cvm) legacyInfoJSON() map[string]any {
	m := map[string]any{
		"id": c.numericID, "name": c.seed.Name, "status": c.status, "in_progress": c.progress != nil,
		"teepod_id": 8, "app_id": c.seed.AppID, "vm_uuid": c.seed.VMUUID, "instance_id": c.seed.InstanceID,
		"vcpu": c.vcpu, "memory": c.memoryMB, "disk_size": c.diskGB, "base_image": c.osImage,
		"encrypted_env_pubkey": nil, "listed": c.listed, "project_id": nil, "project_type": nil,
		"instance_type":  c.instance,
		"public_sysinfo": composeBool(c.appCompose, "public_sysinfo"),
		"public_logs":    composeBool(c.appCompose, "public_logs"),
		"kms_info":       c.kmsInfo(), "contract_address": nil, "deployer_address": nil,
		"public_urls": []any{}, "gateway_domain": "fake.phala.invalid",
	}
	if c.onChain() {
		m["contract_address"] = "0x" + c.seed.AppID
		m["deployer_address"] = "0x" + derive(c.seed.Name, "deployer", 40)
	} else {
		m["encrypted_env_pubkey"] = c.envPubHex()
	}
	return m
}

// vmJSON is the legacy VM object the visibility endpoint answers with.
func (c *cvm) vmJSON() map[string]any {
	var pub any
	if !c.onChain() {
		pub = c.envPubHex()
	}
	return map[string]any{
		"id": c.numericID, "name": c.seed.Name, "status": c.status, "teepod_id": 8,
		"app_id": c.seed.AppID, "vm_uuid": c.seed.VMUUID, "instance_id": c.seed.InstanceID,
		"vcpu": c.vcpu, "memory": c.memoryMB, "disk_size": c.diskGB, "base_image": c.osImage,
		"encrypted_env_pubkey": pub, "created_at": c.createdAt.UTC().Format(time.RFC3339),
		"listed": c.listed, "instance_type": c.instance,
		"public_sysinfo": composeBool(c.appCompose, "public_sysinfo"),
		"public_logs":    composeBool(c.appCompose, "public_logs"),
		"public_tcbinfo": composeBool(c.appCompose, "public_tcbinfo"),
	}
}

// stateJSON is GET /cvms/{id}/state without target, and the data of the
// stream's events.
func (c *cvm) stateJSON() map[string]any {
	m := map[string]any{
		"id": c.seed.ID, "instance_id": c.seed.InstanceID, "name": c.seed.Name, "status": c.status,
		"uptime": "1h 0m", "boot_progress": "done",
	}
	switch {
	case c.bootError != "":
		m["uptime"], m["boot_progress"], m["boot_error"], m["exited_at"] = nil, "failed", c.bootError, c.exitedAt
	case c.status == "updating":
		m["uptime"], m["boot_progress"] = nil, "booting"
	}
	if c.progress != nil {
		m["progress"] = c.progress
	}
	return m
}

// sortedKeys is for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}
