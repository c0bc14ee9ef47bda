package phala

import (
	"net/http"
	"slices"
)

// operation is one endpoint of openapi/phala-cloud.yaml, named by its
// operationId, with the 2xx statuses the spec declares for it: every
// method decides on those and on no other (TestOperationsMatchTheSpec
// keeps the table equal to the spec).
type operation struct {
	id      string
	success []int
	// phase1 is true for the on-chain updates whose 465 is phase 1 of the
	// two-phase flow, a result for the caller rather than an error.
	phase1 bool
}

// The operations the facade calls.
var (
	opGetCVMInfo                      = operation{id: "getCVMInfo", success: []int{http.StatusOK}}
	opGetCVMState                     = operation{id: "getCVMState", success: []int{http.StatusOK}}
	opGetCVMComposeFile               = operation{id: "getCVMComposeFile", success: []int{http.StatusOK}}
	opGetCVMAttestation               = operation{id: "getCVMAttestation", success: []int{http.StatusOK}}
	opGetKMSEnvEncryptPublicKey       = operation{id: "getKMSEnvEncryptPublicKey", success: []int{http.StatusOK}}
	opPatchCVM                        = operation{id: "patchCVM", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateDockerCompose             = operation{id: "updateDockerCompose", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdatePreLaunchScript           = operation{id: "updatePreLaunchScript", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateCVMEnvs                   = operation{id: "updateCVMEnvs", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateCVMResources              = operation{id: "updateCVMResources", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opUpdateOSImage                   = operation{id: "updateOSImage", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opUpdateCVMVisibility             = operation{id: "updateCVMVisibility", success: []int{http.StatusOK}}
	opProvisionCVMComposeFileUpdate   = operation{id: "provisionCVMComposeFileUpdate", success: []int{http.StatusOK}}
	opCommitCVMComposeFileUpdate      = operation{id: "commitCVMComposeFileUpdate", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opCommitCVMUpdate                 = operation{id: "commitCVMUpdate", success: []int{http.StatusAccepted}}
	opUpdateCVMListed                 = operation{id: "updateCVMListed", success: []int{http.StatusOK}}
	opGetPreLaunchScriptUpgradeStatus = operation{id: "getPreLaunchScriptUpgradeStatus", success: []int{http.StatusOK}}
	opUpgradePreLaunchScript          = operation{id: "upgradePreLaunchScript", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
)

// operations lists the table, for its test.
var operations = []operation{opGetCVMInfo, opGetCVMState, opGetCVMComposeFile, opGetCVMAttestation, opGetKMSEnvEncryptPublicKey,
	opPatchCVM, opUpdateDockerCompose, opUpdatePreLaunchScript, opUpdateCVMEnvs, opUpdateCVMResources,
	opUpdateOSImage, opUpdateCVMVisibility, opProvisionCVMComposeFileUpdate, opCommitCVMComposeFileUpdate,
	opCommitCVMUpdate, opUpdateCVMListed, opGetPreLaunchScriptUpgradeStatus, opUpgradePreLaunchScript}

// read is the one path of every operation's answer: it reads what the
// generated call returned (within MaxResponseBody and MaxErrorBody) and
// hands it back when its status is one of op's success statuses (or the
// 465 of a phase-1 update); any other status is the answer's *APIError,
// decoded once.
func (op operation) read(resp *http.Response, err error) (*response, error) {
	r, err := read(resp, err)
	if err != nil {
		return nil, err
	}
	if slices.Contains(op.success, r.status) || (op.phase1 && r.status == HTTPStatusComposeHashRequired) {
		return r, nil
	}
	return nil, r.apiError()
}

// decodeAs decodes what operation.read returned into a new T, once:
//
//	return decodeAs[CVMState](opGetCVMState.read(c.api.GetCVMState(ctx, id, nil)))
func decodeAs[T any](r *response, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := decodeJSON(r, v); err != nil {
		return nil, err
	}
	return v, nil
}
