package phalatest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/phalacloud/go-sdk/phala"
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
		"getCVMInfo":                      (*call).getCVMInfo,
		"patchCVM":                        (*call).patchCVM,
		"updateDockerCompose":             (*call).updateDockerCompose,
		"updatePreLaunchScript":           (*call).updatePreLaunchScript,
		"updateCVMResources":              (*call).updateResources,
		"updateCVMVisibility":             (*call).updateVisibility,
		"updateCVMEnvs":                   (*call).updateEnvs,
		"updateOSImage":                   (*call).updateOSImage,
		"getCVMComposeFile":               (*call).getComposeFile,
		"commitCVMComposeFileUpdate":      (*call).commitComposeFile,
		"provisionCVMComposeFileUpdate":   (*call).provisionComposeFile,
		"getCVMState":                     (*call).getState,
		"getCVMAttestation":               (*call).getAttestation,
		"updateCVMListed":                 (*call).updateListed,
		"getPreLaunchScriptUpgradeStatus": (*call).getPreLaunchUpgradeStatus,
		"upgradePreLaunchScript":          (*call).upgradePreLaunchScript,
		"getKMSEnvEncryptPublicKey":       (*call).getKMSPubkey,
		"commitCVMUpdate":                 (*call).commitCVMUpdate,
	}
}

// resolve finds the CVM of the path; on failure it returns the 404.
func (cl *call) resolve() (response, bool) {
	id := cl.params["cvmId"]
	cl.cvm = cl.s.lookup(id)
	if cl.cvm == nil {
		return errorResponse(http.StatusNotFound, phala.CodeCVMNotFound, "CVM not found", cl.reqID, nil,
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

func decodeBody(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// resolveJSON is resolve, then the request's JSON body decoded into v; it
// answers 400 "Invalid JSON body" when the body is not JSON.
func (cl *call) resolveJSON(v any) (response, bool) {
	if resp, ok := cl.resolve(); !ok {
		return resp, false
	}
	return cl.decodeJSON(v)
}

// resolveMutableJSON is resolveMutable, then the JSON body decoded into v
// (400 when it is not JSON).
func (cl *call) resolveMutableJSON(v any) (response, bool) {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp, false
	}
	return cl.decodeJSON(v)
}

func (cl *call) decodeJSON(v any) (response, bool) {
	if err := decodeBody(cl.body, v); err != nil {
		return cl.badRequest("", "Invalid JSON body"), false
	}
	return response{}, true
}
