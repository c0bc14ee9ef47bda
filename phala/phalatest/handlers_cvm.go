package phalatest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

// OS images the fake knows (besides each CVM's current one).
var knownOSImages = []string{"dstack-0.5.3", "dstack-0.5.4", "dstack-0.5.5", "dstack-dev-0.5.4", "dstack-dev-0.5.5"}

// getCVMInfo answers the detail in the shape of the request's
// X-Phala-Version, as the real API does (@phala/cloud 0.2.9 getCvmInfo picks
// its schema by version): a version before 2026-01-21 gets the legacy
// 2025-10-28 shape, 2026-01-21 and later (or no header) the detail.
func (cl *call) getCVMInfo() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	if v := cl.r.Header.Get("X-Phala-Version"); v != "" && v < phala.APIVersion20260121 {
		return jsonResponse(http.StatusOK, cl.cvm.legacyInfoJSON())
	}
	info := cl.cvm.infoJSON()
	if cl.cvm.onChain() {
		// The KMS root key as newer answers show it (official Go and Python
		// SDKs decode kms_info.k256_pubkey): the fake KMS's signer.
		info["kms_info"].(map[string]any)["k256_pubkey"] = cl.s.kms.pubHex()
	}
	return jsonResponse(http.StatusOK, info)
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

func (cl *call) resources(ch *change, vcpu, mem, disk *int, instance *string) {
	setField(ch, &ch.vcpu, vcpu, "vcpu")
	setField(ch, &ch.memory, mem, "memory")
	setField(ch, &ch.disk, disk, "disk_size")
	setField(ch, &ch.instance, instance, "instance_type")
}

func (cl *call) checkImage(name string) *response {
	if name == cl.cvm.osImage || slices.Contains(knownOSImages, name) {
		return nil
	}
	resp := cl.badRequest(phala.CodeImageNotFound, "OS image not found: "+name, detail{"os_image_name", name})
	return &resp
}

func (cl *call) updateResources() response {
	var b struct {
		VCPU         *int    `json:"vcpu"`
		Memory       *int    `json:"memory"`
		DiskSize     *int    `json:"disk_size"`
		InstanceType *string `json:"instance_type"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	if resp := cl.checkResources(b.VCPU, b.Memory, b.DiskSize); resp != nil {
		return *resp
	}
	ch := &change{}
	cl.resources(ch, b.VCPU, b.Memory, b.DiskSize, b.InstanceType)
	if ch.empty() {
		return cl.badRequest("", "Nothing to update: set vcpu, memory, disk_size or instance_type")
	}
	return cl.accepted(cl.apply(ch, true), nil)
}

func (cl *call) updateVisibility() response {
	var b struct {
		PublicSysinfo *bool `json:"public_sysinfo"`
		PublicLogs    *bool `json:"public_logs"`
		PublicTcbinfo *bool `json:"public_tcbinfo"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	ch := &change{}
	ch.setFlag("public_sysinfo", b.PublicSysinfo)
	ch.setFlag("public_logs", b.PublicLogs)
	ch.setFlag("public_tcbinfo", b.PublicTcbinfo)
	cl.apply(ch, false) // answered synchronously, no restart phase
	return jsonResponse(http.StatusOK, cl.cvm.vmJSON())
}

func (cl *call) updateOSImage() response {
	var b struct {
		OSImageName string `json:"os_image_name"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	if resp := cl.checkImage(b.OSImageName); resp != nil {
		return *resp
	}
	ch := &change{osImage: &b.OSImageName}
	ch.add("os_image_name")
	return cl.accepted(cl.apply(ch, true), nil)
}
