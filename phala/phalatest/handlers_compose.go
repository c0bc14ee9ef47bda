package phalatest

import (
	"net/http"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

func (cl *call) getComposeFile() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	return jsonResponse(http.StatusOK, cl.cvm.appCompose)
}

func (cl *call) updateDockerCompose() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	compose := string(cl.body)
	if strings.TrimSpace(compose) == "" {
		return cl.badRequest(phala.CodeComposeRequired, "Docker Compose file is required")
	}
	if resp := cl.checkCompose(compose); resp != nil {
		return *resp
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
	return cl.setPreLaunchScript(string(cl.body), "Pre-launch script is unchanged")
}

// setPreLaunchScript replaces the CVM's pre-launch script through the
// on-chain gate; the same script is no_change (answered with unchanged).
func (cl *call) setPreLaunchScript(script, unchanged string) response {
	if cur, ok := cl.cvm.appCompose["pre_launch_script"].(string); cl.unchanged(ok && cur == script) {
		return cl.noChange(unchanged)
	}
	ch := &change{preLaunch: &script}
	ch.add("pre_launch_script")
	return cl.gateAndApply(ch, nil, nil, false, nil)
}

func (cl *call) provisionComposeFile() response {
	var ac map[string]any
	if resp, ok := cl.resolveJSON(&ac); !ok {
		return resp
	}
	delete(ac, "update_env_vars") // a request option, not part of the app-compose
	runner, _ := ac["runner"].(string)
	if dc, _ := ac["docker_compose_file"].(string); (runner == "" || runner == "docker-compose") && strings.TrimSpace(dc) == "" {
		return cl.badRequest(phala.CodeComposeRequired, "Docker Compose file is required")
	}
	if dc, ok := ac["docker_compose_file"].(string); ok && (runner == "" || runner == "docker-compose") {
		if resp := cl.checkCompose(dc); resp != nil {
			return *resp
		}
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
	var b struct {
		ComposeHash  string    `json:"compose_hash"`
		EncryptedEnv *string   `json:"encrypted_env"`
		EnvKeys      *[]string `json:"env_keys"`
		// TransactionHash (optional, Python SDK 0.4.6b4) is checked like a
		// phase-2 transaction when given: 467 when it did not register the hash.
		TransactionHash *string `json:"transaction_hash"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	c := cl.cvm
	h := normHash(b.ComposeHash)
	p := c.provisions[h]
	if p == nil {
		return cl.badRequest("", "Provision not found: no provisioned update has this compose hash", detail{"compose_hash", h})
	}
	if cl.now.Sub(p.created) > ProvisionExpiry {
		delete(c.provisions, h)
		return *cl.hashRefused(phala.HTTPStatusComposeHashExpired, h,
			"Compose hash is invalid or expired: the provisioned update expired; provision again")
	}
	if c.onChain() && !cl.hashAllowed(h) {
		return cl.precondition(h, false)
	}
	if c.onChain() && b.TransactionHash != nil {
		if resp := cl.checkRegistration(h, *b.TransactionHash); resp != nil {
			return *resp
		}
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
