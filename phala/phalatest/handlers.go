package phalatest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// call is one request on its way through an operation handler. Handlers
// run with Server.mu held.
type call struct {
	s       *Server
	r       *http.Request
	body    []byte
	params  map[string]string
	reqID   string
	op      string
	now     time.Time
	cvm     *cvm
	applied bool
}

type handlerFunc func(*call) response

// handlers maps operationIds of the OpenAPI document to their handlers.
var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"getCVMInfo":                    (*call).getCVMInfo,
		"patchCVM":                      (*call).patchCVM,
		"updateDockerCompose":           (*call).updateDockerCompose,
		"updatePreLaunchScript":         (*call).updatePreLaunchScript,
		"updateCVMResources":            (*call).updateResources,
		"updateCVMVisibility":           (*call).updateVisibility,
		"updateCVMEnvs":                 (*call).updateEnvs,
		"updateOSImage":                 (*call).updateOSImage,
		"getCVMComposeFile":             (*call).getComposeFile,
		"commitCVMComposeFileUpdate":    (*call).commitComposeFile,
		"provisionCVMComposeFileUpdate": (*call).provisionComposeFile,
		"getCVMState":                   (*call).getState,
		"getKMSEnvEncryptPublicKey":     (*call).getKMSPubkey,
		"commitCVMUpdate":               (*call).commitCVMUpdate,
	}
}

var txHashRE = regexp.MustCompile(`^0x[0-9a-fA-F]{64}$`)

// OS images the fake knows (besides each CVM's current one).
var knownOSImages = []string{"dstack-0.5.3", "dstack-0.5.4", "dstack-0.5.5", "dstack-dev-0.5.4", "dstack-dev-0.5.5"}

// resolve finds the CVM of the path; on failure it returns the 404.
func (cl *call) resolve() (response, bool) {
	id := cl.params["cvmId"]
	cl.cvm = cl.s.lookup(id)
	if cl.cvm == nil {
		return errorResponse(http.StatusNotFound, "ERR-03-001", "CVM not found", cl.reqID, nil,
			[]string{"Check the CVM id, name or app id"}), false
	}
	cl.s.refreshLocked(cl.cvm, cl.now)
	return response{}, true
}

// resolveMutable is resolve plus the check that no update is running.
func (cl *call) resolveMutable() (response, bool) {
	if resp, ok := cl.resolve(); !ok {
		return resp, false
	}
	if cl.cvm.busy(cl.now) {
		return jsonResponse(http.StatusConflict, map[string]any{"detail": "Another operation is in progress"}), false
	}
	return response{}, true
}

func (cl *call) badRequest(code, msg string, details ...detail) response {
	return errorResponse(http.StatusBadRequest, code, msg, cl.reqID, details, nil)
}

// accepted is the 202 answer of an update.
func (cl *call) accepted(corr string, extra map[string]any) response {
	b := map[string]any{"status": "in_progress", "message": "CVM update started", "correlation_id": corr}
	for k, v := range extra {
		b[k] = v
	}
	return jsonResponse(http.StatusAccepted, b)
}

// noChange is the 200 answer of an update whose content is what already
// runs: {"status": "no_change", "message"} (official Go SDK
// types_common.go, UpdateStatusNoChange). Nothing is applied or restarted.
func (cl *call) noChange(msg string) response {
	return jsonResponse(http.StatusOK, map[string]any{"status": "no_change", "message": msg})
}

// unchanged reports whether a phase-1 request (no phase-2 hash) asks for
// what the CVM already runs.
func (cl *call) unchanged(same bool) bool {
	return same && cl.r.Header.Get("X-Compose-Hash") == ""
}

// change is what a request asks to change; nil fields are left alone.
type change struct {
	fields      []string
	compose     *string
	preLaunch   *string
	allowedEnvs []string
	hasAllowed  bool
	flags       map[string]bool
	env         map[string]string
	encEnv      string
	vcpu        *int
	memory      *int
	disk        *int
	instance    *string
	osImage     *string
	listed      *bool
	userConfig  *string
	shutdown    *int
	forceStop   *bool
	gpus        *int
	full        map[string]any // a whole new app-compose (provision/commit)
}

func (ch *change) add(field string) { ch.fields = append(ch.fields, field) }

func (ch *change) empty() bool { return len(ch.fields) == 0 }

// onlyCompose reports whether a non-empty change touches the app-compose
// alone (compose file, pre-launch script, allowed env keys, flags), so that
// an unchanged compose hash means nothing changes at all.
func (ch *change) onlyCompose() bool {
	return !ch.empty() && ch.env == nil && ch.vcpu == nil && ch.memory == nil && ch.disk == nil && ch.instance == nil &&
		ch.osImage == nil && ch.listed == nil && ch.userConfig == nil && ch.shutdown == nil && ch.forceStop == nil &&
		ch.gpus == nil && ch.full == nil
}

// gated reports whether the change touches what an on-chain KMS must
// approve: the compose file, the pre-launch script, the allowed env keys,
// or a whole new app-compose. (Visibility flags also change the
// app-compose, but the fake applies them without the two-phase flow, as
// the JS SDK groups them apart and the spec gives /visibility no 465.)
func (ch *change) gated() bool {
	return ch.compose != nil || ch.preLaunch != nil || ch.hasAllowed || ch.full != nil
}

func (ch *change) setFlag(name string, v *bool) {
	if v == nil {
		return
	}
	if ch.flags == nil {
		ch.flags = map[string]bool{}
	}
	ch.flags[name] = *v
	ch.add(name)
}

// composeWith is the app-compose the change would produce.
func (c *cvm) composeWith(ch *change) map[string]any {
	if ch.full != nil {
		return cloneCompose(ch.full)
	}
	ac := cloneCompose(c.appCompose)
	if ch.compose != nil {
		ac["docker_compose_file"] = *ch.compose
	}
	if ch.preLaunch != nil {
		if *ch.preLaunch == "" {
			delete(ac, "pre_launch_script") // empty restores the platform default
		} else {
			ac["pre_launch_script"] = *ch.preLaunch
		}
	}
	if ch.hasAllowed {
		ac["allowed_envs"] = toAny(ch.allowedEnvs)
	}
	for k, v := range ch.flags {
		ac[k] = v
	}
	return ac
}

// apply changes the CVM and starts the "updating" phase; it returns the
// correlation id.
func (cl *call) apply(ch *change, startUpdate bool) string {
	c := cl.cvm
	c.appCompose = c.composeWith(ch)
	if ch.env != nil {
		c.rawEnv, c.encEnv = ch.env, ch.encEnv
	}
	setIf(&c.vcpu, ch.vcpu)
	setIf(&c.memoryMB, ch.memory)
	setIf(&c.diskGB, ch.disk)
	setIf(&c.instance, ch.instance)
	setIf(&c.osImage, ch.osImage)
	setIf(&c.listed, ch.listed)
	setIf(&c.userConfig, ch.userConfig)
	setIf(&c.shutdownSec, ch.shutdown)
	setIf(&c.forceStop, ch.forceStop)
	setIf(&c.gpus, ch.gpus)
	corr := newUUID()
	c.applied = append(c.applied, AppliedChange{Operation: cl.op, CorrelationID: corr, ComposeHash: hashOf(c.appCompose),
		RequestID: cl.reqID, Fields: append([]string(nil), ch.fields...), Time: cl.now})
	cl.applied = true
	if startUpdate {
		c.bootError, c.exitedAt = "", ""
		p := &progress{Target: "running", StartedAt: cl.now.UTC().Format(time.RFC3339Nano), CorrelationID: corr}
		switch lag := cl.s.opts.restartLag; {
		case lag > 0: // the restart begins later (refresh)
			c.restartAt, c.nextProg = cl.now.Add(lag), p
			c.busyUntil = c.restartAt.Add(cl.s.opts.updateDelay)
		case cl.s.opts.updateDelay > 0:
			c.status, c.progress = "updating", p
			c.busyUntil = cl.now.Add(cl.s.opts.updateDelay)
		case c.failBoot != "":
			c.boot(cl.now)
		}
	}
	return corr
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func normHash(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "0x"))
}

// gate runs the on-chain two-phase flow. It returns the change to apply
// now, or the answer to send instead (465, 466, 467, 468, 400).
func (cl *call) gate(ch *change, hash, tx string, prepareOnly bool) (*change, *response) {
	c := cl.cvm
	if c.onChain() && hash != "" {
		return cl.phase2(ch, normHash(hash), tx)
	}
	if c.onChain() && ch.gated() {
		h := hashOf(c.composeWith(ch))
		if h != hashOf(c.appCompose) {
			c.pending[h] = &pendingChange{change: ch, created: cl.now}
			resp := cl.precondition(h, prepareOnly)
			return nil, &resp
		}
	}
	if ch.empty() {
		resp := cl.badRequest("", "Nothing to update: the request sets no field")
		return nil, &resp
	}
	return ch, nil
}

// phase2 checks a repeated (or confirming) request against the pending
// hash and the "chain".
func (cl *call) phase2(ch *change, h, tx string) (*change, *response) {
	c := cl.cvm
	fail := func(status int, code, msg string) (*change, *response) {
		resp := errorResponse(status, code, msg, cl.reqID, []detail{{"compose_hash", h}}, nil)
		return nil, &resp
	}
	p := c.pending[h]
	if p != nil && cl.now.Sub(p.created) > cl.s.opts.pendingExpiry {
		delete(c.pending, h)
		return fail(466, "ERR-01-006", "Compose hash is invalid or expired: the pending update expired; start again")
	}
	if resp := cl.checkRegistration(h, tx); resp != nil {
		return nil, resp
	}
	if ch.empty() {
		if p == nil {
			return fail(466, "ERR-01-006", "Compose hash is invalid or expired: no pending update has this hash")
		}
		ch = p.change
	} else if hashOf(c.composeWith(ch)) != h {
		return fail(466, "ERR-01-006", "Compose hash is invalid: it is not the hash of this update")
	}
	delete(c.pending, h)
	return ch, nil
}

// precondition is the 465 answer (phase 1).
func (cl *call) precondition(h string, prepareOnly bool) response {
	c := cl.cvm
	details := []detail{{"compose_hash", h}, {"app_id", c.seed.AppID}, {"device_id", c.seed.DeviceID}, {"kms_info", c.kmsInfo()}}
	body := map[string]any{
		"error_code": "ERR-01-005",
		"message":    "Compose hash must be registered on-chain before this update",
		"request_id": cl.reqID,
		"suggestions": []string{"Call addComposeHash on the app contract 0x" + c.seed.AppID +
			", then repeat the request with X-Compose-Hash and X-Transaction-Hash"},
	}
	if prepareOnly && cl.op == "patchCVM" {
		token := "ct_" + randHex(16)
		allowed := cl.hashAllowed(h)
		cl.s.rememberCommitToken(token, c, h)
		status := map[string]any{"compose_hash_allowed": allowed, "device_id_allowed": true, "is_allowed": allowed}
		extra := map[string]any{
			"commit_token":   token,
			"commit_url":     "https://cloud.phala.fake.invalid/commit/" + token,
			"api_commit_url": cl.s.URL() + "/cvms/" + c.seed.ID + "/commit-update?token=" + token,
			"onchain_status": status,
		}
		// Only as details entries, as the API sends them and where
		// @phala/cloud 0.2.9's patchCvm (extractDetailsMap) reads them.
		for _, k := range []string{"commit_token", "commit_url", "api_commit_url", "onchain_status"} {
			details = append(details, detail{k, extra[k]})
		}
	}
	body["details"] = details
	return jsonResponse(465, body)
}

// phase2Values reads the compose and transaction hashes from the headers,
// then (unified PATCH) from body fields.
func (cl *call) phase2Values(bodyHash, bodyTx *string) (string, string) {
	h, tx := cl.r.Header.Get("X-Compose-Hash"), cl.r.Header.Get("X-Transaction-Hash")
	if h == "" && bodyHash != nil {
		h = *bodyHash
	}
	if tx == "" && bodyTx != nil {
		tx = *bodyTx
	}
	return h, tx
}

func decodeBody(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// decryptInto decrypts encrypted_env into ch, or returns the 400.
func (cl *call) decryptInto(ch *change, enc string) *response {
	env, err := decryptEnv(cl.cvm.envKey, enc)
	if err != nil {
		resp := cl.badRequest("", "Invalid encrypted_env: "+err.Error(), detail{"encrypted_env", err.Error()})
		body := map[string]any{}
		_ = json.Unmarshal(resp.body, &body)
		body["suggestions"] = []string{"Encrypt with the CVM's current env encryption public key (kms_info.encrypted_env_pubkey, or GET /kms/{kmsId}/pubkey/{appId} on an on-chain KMS)"}
		resp = jsonResponse(http.StatusBadRequest, body)
		return &resp
	}
	ch.env, ch.encEnv = env, enc
	ch.add("encrypted_env")
	return nil
}

// getCVMInfo answers the detail in the shape of the request's
// X-Phala-Version, as the real API does (@phala/cloud 0.2.9 getCvmInfo picks
// its schema by version): a version before 2026-01-21 gets the legacy
// 2025-10-28 shape, 2026-01-21 and later (or no header) the detail.
func (cl *call) getCVMInfo() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	if v := cl.r.Header.Get("X-Phala-Version"); v != "" && v < "2026-01-21" {
		return jsonResponse(http.StatusOK, cl.cvm.legacyInfoJSON())
	}
	return jsonResponse(http.StatusOK, cl.cvm.infoJSON())
}

func (cl *call) getComposeFile() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	return jsonResponse(http.StatusOK, cl.cvm.appCompose)
}

// getState answers the run state: JSON, or with ?target= and Accept:
// text/event-stream the event stream (stream.go).
func (cl *call) getState() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	if cl.r.URL.Query().Get("target") != "" && strings.Contains(cl.r.Header.Get("Accept"), "text/event-stream") && !cl.s.opts.noStreaming {
		return cl.stateStream()
	}
	return jsonResponse(http.StatusOK, cl.cvm.stateJSON())
}

func (cl *call) updateDockerCompose() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	compose := string(cl.body)
	if strings.TrimSpace(compose) == "" {
		return cl.badRequest("ERR-01-002", "Docker Compose file is required")
	}
	if cl.unchanged(composeString(cl.cvm.appCompose, "docker_compose_file") == compose) {
		return cl.noChange("Docker Compose file is unchanged")
	}
	ch := &change{compose: &compose}
	ch.add("docker_compose_file")
	return cl.gateAndApply(ch, nil, nil, false, nil)
}

func (cl *call) updatePreLaunchScript() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	script := string(cl.body)
	if cur, ok := cl.cvm.appCompose["pre_launch_script"].(string); cl.unchanged(ok && cur == script) {
		return cl.noChange("Pre-launch script is unchanged")
	}
	ch := &change{preLaunch: &script}
	ch.add("pre_launch_script")
	return cl.gateAndApply(ch, nil, nil, false, nil)
}

// gateAndApply runs gate and applies the outcome with a 202.
func (cl *call) gateAndApply(ch *change, bodyHash, bodyTx *string, prepareOnly bool, extra func(*change) map[string]any) response {
	h, tx := cl.phase2Values(bodyHash, bodyTx)
	ch, resp := cl.gate(ch, h, tx, prepareOnly)
	if resp != nil {
		return *resp
	}
	var more map[string]any
	if extra != nil {
		more = extra(ch) // before apply: it compares with the current state
	}
	return cl.accepted(cl.apply(ch, true), more)
}

type patchBody struct {
	DockerComposeFile *string   `json:"docker_compose_file"`
	PreLaunchScript   *string   `json:"pre_launch_script"`
	AllowedEnvs       *[]string `json:"allowed_envs"`
	EncryptedEnv      *string   `json:"encrypted_env"`
	UserConfig        *string   `json:"user_config"`
	PublicLogs        *bool     `json:"public_logs"`
	PublicSysinfo     *bool     `json:"public_sysinfo"`
	PublicTcbinfo     *bool     `json:"public_tcbinfo"`
	SecureTime        *bool     `json:"secure_time"`
	Listed            *bool     `json:"listed"`
	Gpus              *struct {
		Count int `json:"count"`
	} `json:"gpus"`
	VCPU            *int    `json:"vcpu"`
	Memory          *int    `json:"memory"`
	DiskSize        *int    `json:"disk_size"`
	InstanceType    *string `json:"instance_type"`
	Image           *string `json:"image"`
	OSImageName     *string `json:"os_image_name"`
	AllowRestart    *bool   `json:"allow_restart"`
	ShutdownTimeout *int    `json:"shutdown_timeout"`
	AllowForceStop  *bool   `json:"allow_force_stop"`
	ComposeHash     *string `json:"compose_hash"`
	TransactionHash *string `json:"transaction_hash"`
}

func (cl *call) patchCVM() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b patchBody
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	ch := &change{}
	if b.DockerComposeFile != nil {
		ch.compose = b.DockerComposeFile
		ch.add("docker_compose_file")
	}
	if b.PreLaunchScript != nil {
		ch.preLaunch = b.PreLaunchScript
		ch.add("pre_launch_script")
	}
	if b.AllowedEnvs != nil {
		ch.allowedEnvs, ch.hasAllowed = *b.AllowedEnvs, true
		ch.add("allowed_envs")
	}
	if b.EncryptedEnv != nil {
		if resp := cl.decryptInto(ch, *b.EncryptedEnv); resp != nil {
			return *resp
		}
	}
	ch.setFlag("public_logs", b.PublicLogs)
	ch.setFlag("public_sysinfo", b.PublicSysinfo)
	ch.setFlag("public_tcbinfo", b.PublicTcbinfo)
	ch.setFlag("secure_time", b.SecureTime)
	if b.Listed != nil {
		ch.listed = b.Listed
		ch.add("listed")
	}
	if b.UserConfig != nil {
		ch.userConfig = b.UserConfig
		ch.add("user_config")
	}
	if b.Gpus != nil {
		ch.gpus = &b.Gpus.Count
		ch.add("gpus")
	}
	cl.resources(ch, b.VCPU, b.Memory, b.DiskSize, b.InstanceType)
	img := b.Image
	if img == nil {
		img = b.OSImageName
	}
	if img != nil {
		if resp := cl.checkImage(*img); resp != nil {
			return *resp
		}
		ch.osImage = img
		ch.add("image")
	}
	if b.ShutdownTimeout != nil {
		ch.shutdown = b.ShutdownTimeout
		ch.add("shutdown_timeout")
	}
	if b.AllowForceStop != nil {
		ch.forceStop = b.AllowForceStop
		ch.add("allow_force_stop")
	}
	if b.ComposeHash == nil && cl.unchanged(ch.onlyCompose() && hashOf(cl.cvm.composeWith(ch)) == hashOf(cl.cvm.appCompose)) {
		return cl.noChange("Nothing to update: the app-compose is unchanged")
	}
	prepare := strings.EqualFold(cl.r.Header.Get("X-Prepare-Only"), "true")
	return cl.gateAndApply(ch, b.ComposeHash, b.TransactionHash, prepare, nil)
}

func (cl *call) resources(ch *change, vcpu, mem, disk *int, instance *string) {
	if vcpu != nil {
		ch.vcpu = vcpu
		ch.add("vcpu")
	}
	if mem != nil {
		ch.memory = mem
		ch.add("memory")
	}
	if disk != nil {
		ch.disk = disk
		ch.add("disk_size")
	}
	if instance != nil {
		ch.instance = instance
		ch.add("instance_type")
	}
}

func (cl *call) checkImage(name string) *response {
	if name == cl.cvm.osImage || slices.Contains(knownOSImages, name) {
		return nil
	}
	resp := cl.badRequest("ERR-02-010", "OS image not found: "+name, detail{"os_image_name", name})
	return &resp
}

func (cl *call) updateResources() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b struct {
		VCPU         *int    `json:"vcpu"`
		Memory       *int    `json:"memory"`
		DiskSize     *int    `json:"disk_size"`
		InstanceType *string `json:"instance_type"`
	}
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	ch := &change{}
	cl.resources(ch, b.VCPU, b.Memory, b.DiskSize, b.InstanceType)
	if ch.empty() {
		return cl.badRequest("", "Nothing to update: set vcpu, memory, disk_size or instance_type")
	}
	return cl.accepted(cl.apply(ch, true), nil)
}

func (cl *call) updateVisibility() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b struct {
		PublicSysinfo *bool `json:"public_sysinfo"`
		PublicLogs    *bool `json:"public_logs"`
		PublicTcbinfo *bool `json:"public_tcbinfo"`
	}
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	ch := &change{}
	ch.setFlag("public_sysinfo", b.PublicSysinfo)
	ch.setFlag("public_logs", b.PublicLogs)
	ch.setFlag("public_tcbinfo", b.PublicTcbinfo)
	cl.apply(ch, false) // answered synchronously, no restart phase
	return jsonResponse(http.StatusOK, cl.cvm.vmJSON())
}

func (cl *call) updateEnvs() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b struct {
		EncryptedEnv    string    `json:"encrypted_env"`
		EnvKeys         *[]string `json:"env_keys"`
		ComposeHash     *string   `json:"compose_hash"`
		TransactionHash *string   `json:"transaction_hash"`
	}
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	ch := &change{}
	if resp := cl.decryptInto(ch, b.EncryptedEnv); resp != nil {
		return *resp
	}
	if b.EnvKeys != nil && !sameSet(*b.EnvKeys, allowedEnvs(cl.cvm.appCompose)) {
		ch.allowedEnvs, ch.hasAllowed = *b.EnvKeys, true
		ch.add("allowed_envs")
	}
	// Phase-2 values travel in the body on this endpoint (headers are
	// accepted too).
	if !ch.hasAllowed && b.ComposeHash == nil && cl.unchanged(cl.cvm.rawEnv != nil && maps.Equal(ch.env, cl.cvm.rawEnv)) {
		return cl.noChange("Environment variables are unchanged")
	}
	h, tx := "", ""
	if b.ComposeHash != nil {
		h = *b.ComposeHash
	}
	if b.TransactionHash != nil {
		tx = *b.TransactionHash
	}
	if h == "" {
		h = cl.r.Header.Get("X-Compose-Hash")
	}
	if tx == "" {
		tx = cl.r.Header.Get("X-Transaction-Hash")
	}
	ch, resp := cl.gate(ch, h, tx, false)
	if resp != nil {
		return *resp
	}
	changed := ch.hasAllowed
	return cl.accepted(cl.apply(ch, true), map[string]any{"allowed_envs_changed": changed})
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func (cl *call) updateOSImage() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b struct {
		OSImageName string `json:"os_image_name"`
	}
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	if resp := cl.checkImage(b.OSImageName); resp != nil {
		return *resp
	}
	ch := &change{osImage: &b.OSImageName}
	ch.add("os_image_name")
	return cl.accepted(cl.apply(ch, true), nil)
}

func (cl *call) provisionComposeFile() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	var ac map[string]any
	if err := decodeBody(cl.body, &ac); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	delete(ac, "update_env_vars") // a request option, not part of the app-compose
	runner, _ := ac["runner"].(string)
	if dc, _ := ac["docker_compose_file"].(string); (runner == "" || runner == "docker-compose") && strings.TrimSpace(dc) == "" {
		return cl.badRequest("ERR-01-002", "Docker Compose file is required")
	}
	c := cl.cvm
	h := hashOf(ac)
	c.provisions[h] = &provision{appCompose: ac, created: cl.now}
	registered := cl.hashAllowed(h)
	// compose_unchanged: the official Python SDK's
	// ProvisionCvmComposeFileUpdateResult (action_responses.py).
	return jsonResponse(http.StatusOK, map[string]any{
		"app_id": c.seed.AppID, "device_id": c.seed.DeviceID, "compose_hash": h,
		"kms_info": c.kmsInfo(), "compose_hash_registered": registered,
		"compose_unchanged": h == hashOf(c.appCompose),
	})
}

func (cl *call) commitComposeFile() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	var b struct {
		ComposeHash  string    `json:"compose_hash"`
		EncryptedEnv *string   `json:"encrypted_env"`
		EnvKeys      *[]string `json:"env_keys"`
	}
	if err := decodeBody(cl.body, &b); err != nil {
		return cl.badRequest("", "Invalid JSON body")
	}
	c := cl.cvm
	h := normHash(b.ComposeHash)
	p := c.provisions[h]
	if p == nil {
		return cl.badRequest("", "Provision not found: no provisioned update has this compose hash", detail{"compose_hash", h})
	}
	if cl.now.Sub(p.created) > ProvisionExpiry {
		delete(c.provisions, h)
		return errorResponse(466, "ERR-01-006", "Compose hash is invalid or expired: the provisioned update expired; provision again",
			cl.reqID, []detail{{"compose_hash", h}}, nil)
	}
	if c.onChain() && !cl.hashAllowed(h) {
		return cl.precondition(h, false)
	}
	ch := &change{full: p.appCompose}
	ch.add("app_compose")
	if b.EncryptedEnv != nil && *b.EncryptedEnv != "" {
		if resp := cl.decryptInto(ch, *b.EncryptedEnv); resp != nil {
			return *resp
		}
	}
	delete(c.provisions, h)
	return cl.accepted(cl.apply(ch, true), nil)
}

func (cl *call) getKMSPubkey() response {
	kms, app := cl.params["kmsId"], strings.ToLower(cl.params["appId"])
	for _, c := range cl.s.cvms {
		if c.onChain() && (c.seed.KMSID == kms || c.seed.KMSSlug == kms) && c.seed.AppID == app {
			appRaw, _ := hexDecode(c.seed.AppID)
			pub := c.envKey.PublicKey().Bytes()
			sig := cl.s.kms.sign(envPubkeyDigest(appRaw, pub))
			return jsonResponse(http.StatusOK, map[string]any{"public_key": hexEncode(pub), "signature": hexEncode(sig)})
		}
	}
	return errorResponse(http.StatusNotFound, "", "No app "+app+" on KMS "+kms, cl.reqID, nil, nil)
}
