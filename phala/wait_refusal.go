package phala

// Why WaitForUpdate refuses a result, in words that name the fix. The
// causes differ and so do the fixes: a result never filled (the three
// error-only update methods report their update only through
// WithUpdateResult), a failed call's nil, an on-chain update whose second
// phase has not been sent, or an accepted update whose answer carried no
// correlation id.

// withUpdateResultHint names the option the error-only update methods need.
const withUpdateResultHint = "UpdateCVMResources, UpdateOSImage and CommitCVMComposeFileUpdate return only an error: " +
	"to wait for their update, pass phala.WithUpdateResult(ctx, &res) as their context and wait on &res"

// nothingToWaitFor returns why result names no update WaitForUpdate can
// wait for, or "" when it names one.
func nothingToWaitFor(result Waitable) string {
	if result == nil {
		return "is nil: pass the result of the update call; " + withUpdateResultHint
	}
	if result.waitCorrelationID() != "" {
		return ""
	}
	switch r := result.(type) {
	case *UpdateResult:
		return updateResultRefusal(r)
	case *PatchCVMResponse:
		switch {
		case r == nil:
			return "is a nil *PatchCVMResponse: the PatchCVM call that returned it failed (check its error)"
		case r.RequiresOnChainHash:
			return "is phase 1 of an on-chain update (RequiresOnChainHash): register ComposeHash on the app contract, " +
				"then call ConfirmCVMPatch and wait on its result"
		}
	case *CVMActionResponse:
		if r == nil {
			return "is a nil *CVMActionResponse: the call that returned it failed (check its error)"
		}
	}
	return "carries no correlation id: the server's answer named no update to match, so wait with WaitForCVM instead"
}

func updateResultRefusal(r *UpdateResult) string {
	switch {
	case r == nil:
		return "is a nil *UpdateResult: the update call that returned it failed (check its error)"
	case r.RequiresOnChainHash:
		return "is phase 1 of an on-chain update (RequiresOnChainHash): register ComposeHash on the app contract, " +
			"repeat the call with the compose hash and the transaction hash, and wait on that call's result"
	case r.Status == "" && r.Message == "" && r.RequestID == "":
		return "was never filled by an update call; " + withUpdateResultHint
	}
	return "carries no correlation id: the server accepted the update with an answer that named none " +
		"(an empty body), so wait with WaitForCVM instead"
}
