package phala

import "net/http"

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
	// optionalAuth: the operation works without an API key (a commit
	// token or the KMS's public key).
	optionalAuth bool
	// stream: the answer is an event stream, bounded by the caller's
	// context alone and handed back open.
	stream bool
}

// The operations the facade calls.
var (
	opGetCVMInfo                      = operation{id: "getCVMInfo", success: []int{http.StatusOK}}
	opGetCVMState                     = operation{id: "getCVMState", success: []int{http.StatusOK}}
	opGetCVMComposeFile               = operation{id: "getCVMComposeFile", success: []int{http.StatusOK}}
	opGetKMSEnvEncryptPublicKey       = operation{id: "getKMSEnvEncryptPublicKey", success: []int{http.StatusOK}, optionalAuth: true}
	opPatchCVM                        = operation{id: "patchCVM", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateDockerCompose             = operation{id: "updateDockerCompose", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdatePreLaunchScript           = operation{id: "updatePreLaunchScript", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateCVMEnvs                   = operation{id: "updateCVMEnvs", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	opUpdateCVMResources              = operation{id: "updateCVMResources", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opUpdateOSImage                   = operation{id: "updateOSImage", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opUpdateCVMVisibility             = operation{id: "updateCVMVisibility", success: []int{http.StatusOK}}
	opProvisionCVMComposeFileUpdate   = operation{id: "provisionCVMComposeFileUpdate", success: []int{http.StatusOK}}
	opCommitCVMComposeFileUpdate      = operation{id: "commitCVMComposeFileUpdate", success: []int{http.StatusAccepted, http.StatusNoContent}}
	opCommitCVMUpdate                 = operation{id: "commitCVMUpdate", success: []int{http.StatusAccepted}, optionalAuth: true}
	opGetCVMAttestation               = operation{id: "getCVMAttestation", success: []int{http.StatusOK}}
	opUpdateCVMListed                 = operation{id: "updateCVMListed", success: []int{http.StatusOK}}
	opGetPreLaunchScriptUpgradeStatus = operation{id: "getPreLaunchScriptUpgradeStatus", success: []int{http.StatusOK}}
	opUpgradePreLaunchScript          = operation{id: "upgradePreLaunchScript", success: []int{http.StatusOK, http.StatusAccepted}, phase1: true}
	// opStreamCVMState is getCVMState asked for its event stream (target set).
	opStreamCVMState = operation{id: "getCVMState", success: []int{http.StatusOK}, stream: true}
)

// operations lists the table, for its test.
var operations = []operation{opGetCVMInfo, opGetCVMState, opGetCVMComposeFile, opGetCVMAttestation, opGetKMSEnvEncryptPublicKey,
	opPatchCVM, opUpdateDockerCompose, opUpdatePreLaunchScript, opUpdateCVMEnvs, opUpdateCVMResources,
	opUpdateOSImage, opUpdateCVMVisibility, opProvisionCVMComposeFileUpdate, opCommitCVMComposeFileUpdate,
	opCommitCVMUpdate, opUpdateCVMListed, opGetPreLaunchScriptUpgradeStatus, opUpgradePreLaunchScript}
