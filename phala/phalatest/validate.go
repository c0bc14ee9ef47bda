package phalatest

import (
	"fmt"

	"go.yaml.in/yaml/v4"

	"github.com/phalacloud/go-sdk/phala"
)

// What the fake refuses that the cloud refuses too, so that a test passing
// against the fake does not pass on input production rejects.
//
// Units are the official document's (phala-docs openapi.json, mirrored in
// /work/shared/reference/official-openapi-cvms.json): memory is in MB
// (UpdateCvmRequest.memory "Memory in MB", CvmBasicInfo.memory "Allocated
// memory in MB"), disk_size in GB (CvmBasicInfo.disk_size "Allocated disk
// size in GB"; the CLI's resize prompt and the official Go SDK's
// UpdateResources docs say GB too), vcpu a count. The document types the
// three as integers and gives NO minimum or maximum for any of them, nor do
// the official SDKs (@phala/cloud 0.2.9 parses them as plain numbers). The
// bounds below are therefore ours, stated here and in the package doc: wide
// enough for every instance type Phala Cloud sells, narrow enough to catch
// the unit mistakes users make (memory given in GB, disk in MB).
const (
	// MinVCPU and MaxVCPU bound vcpu (a count; no bound documented).
	MinVCPU, MaxVCPU = 1, 128
	// MinMemoryMB and MaxMemoryMB bound memory, in MB (no bound documented):
	// 1 GiB to 1 TiB. A value below MinMemoryMB is most often GB meant as MB.
	MinMemoryMB, MaxMemoryMB = 1024, 1 << 20
	// MinDiskGB and MaxDiskGB bound disk_size, in GB (no bound documented):
	// 10 GB to 10 TB. A value above MaxDiskGB is most often MB meant as GB.
	MinDiskGB, MaxDiskGB = 10, 10000
)

// resourceProblem returns why a resource value is refused, or "".
func resourceProblem(field string, v int) string {
	switch field {
	case "vcpu":
		if v < MinVCPU || v > MaxVCPU {
			return fmt.Sprintf("vcpu must be %d to %d vCPUs", MinVCPU, MaxVCPU)
		}
	case "memory":
		if v < MinMemoryMB || v > MaxMemoryMB {
			return fmt.Sprintf("memory is in MB and must be %d to %d (8 GB is 8192)", MinMemoryMB, MaxMemoryMB)
		}
	case "disk_size":
		if v < MinDiskGB || v > MaxDiskGB {
			return fmt.Sprintf("disk_size is in GB and must be %d to %d", MinDiskGB, MaxDiskGB)
		}
	}
	return ""
}

// checkResources answers 400 ERR-02-008 (invalid resource request, the
// official Go SDK's ErrInvalidRequest) for the first out-of-range value,
// naming the field and its value as the cloud's structured errors do.
func (cl *call) checkResources(vcpu, mem, disk *int) *response {
	for _, f := range []struct {
		name string
		v    *int
	}{{"vcpu", vcpu}, {"memory", mem}, {"disk_size", disk}} {
		if f.v == nil {
			continue
		}
		if why := resourceProblem(f.name, *f.v); why != "" {
			resp := cl.badRequest(phala.CodeInvalidResourceRequest, "Invalid resource request: "+why,
				detail{f.name, *f.v})
			return &resp
		}
	}
	return nil
}

// composeProblem returns why a Docker Compose file is refused, or "": it
// must be YAML whose top level is a mapping with a non-empty "services"
// mapping, as Docker Compose itself requires.
func composeProblem(compose string) string {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(compose), &doc); err != nil {
		return "the Docker Compose file is not valid YAML with a mapping at the top level"
	}
	services, ok := doc["services"].(map[string]any)
	switch {
	case doc["services"] == nil:
		return "the Docker Compose file has no services"
	case !ok:
		return "the Docker Compose file's services is not a mapping of service names"
	case len(services) == 0:
		return "the Docker Compose file defines no service"
	}
	return ""
}

// checkCompose answers 400 ERR-01-003 (invalid compose) when compose is
// not a Docker Compose file.
func (cl *call) checkCompose(compose string) *response {
	if why := composeProblem(compose); why != "" {
		resp := cl.badRequest(phala.CodeInvalidCompose, "Invalid Docker Compose file: "+why)
		return &resp
	}
	return nil
}

// checkSeed applies the same rules to a WithCVM seed (after its defaults).
func (sd CVMSeed) checkSeed() error {
	for _, f := range []struct {
		field, wire string
		v           int
	}{{"VCPU", "vcpu", sd.VCPU}, {"MemoryMB", "memory", sd.MemoryMB}, {"DiskGB", "disk_size", sd.DiskGB}} {
		if why := resourceProblem(f.wire, f.v); why != "" {
			return fmt.Errorf("phalatest: CVM %s: %s %d refused: %s", sd.Name, f.field, f.v, why)
		}
	}
	if why := composeProblem(sd.DockerComposeFile); why != "" {
		return fmt.Errorf("phalatest: CVM %s: DockerComposeFile: %s", sd.Name, why)
	}
	return nil
}
