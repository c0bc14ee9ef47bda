package phalatest

import "strings"

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
	var b patchBody
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	if resp := cl.checkPatch(&b); resp != nil {
		return *resp
	}
	ch := &change{}
	setField(ch, &ch.compose, b.DockerComposeFile, "docker_compose_file")
	setField(ch, &ch.preLaunch, b.PreLaunchScript, "pre_launch_script")
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
	setField(ch, &ch.listed, b.Listed, "listed")
	setField(ch, &ch.userConfig, b.UserConfig, "user_config")
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
	setField(ch, &ch.shutdown, b.ShutdownTimeout, "shutdown_timeout")
	setField(ch, &ch.forceStop, b.AllowForceStop, "allow_force_stop")
	if b.ComposeHash == nil && cl.unchanged(ch.onlyCompose() && hashOf(cl.cvm.composeWith(ch)) == hashOf(cl.cvm.appCompose)) {
		return cl.noChange("Nothing to update: the app-compose is unchanged")
	}
	prepare := strings.EqualFold(cl.r.Header.Get("X-Prepare-Only"), "true")
	return cl.gateAndApply(ch, b.ComposeHash, b.TransactionHash, prepare, nil)
}

// checkPatch refuses what the cloud refuses in a patch: a compose that is
// not a Docker Compose file, resources out of range.
func (cl *call) checkPatch(b *patchBody) *response {
	if b.DockerComposeFile != nil {
		if resp := cl.checkCompose(*b.DockerComposeFile); resp != nil {
			return resp
		}
	}
	return cl.checkResources(b.VCPU, b.Memory, b.DiskSize)
}
