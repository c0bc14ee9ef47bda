package phala

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// callerAppID returns the app the caller named for an env key, 40
// lowercase hex: pinned (EnvKeyOptions.AppID) or the app id cvmID is, ""
// when neither names one. Both given and different is an
// ErrInvalidArgument error for field.
func callerAppID(cvmID, pinned, field string) (string, error) {
	fromID := ""
	if id, _ := checkCVMID(cvmID); strings.HasPrefix(id, "app_") && hex40RE.MatchString(id[4:]) {
		fromID = strings.ToLower(id[4:])
	}
	if pinned == "" {
		return fromID, nil
	}
	b, err := parseAppIDBytes(pinned)
	if err != nil {
		var iae *InvalidArgumentError
		if errors.As(err, &iae) {
			return "", invalidArg(field, "%s", iae.Reason)
		}
		return "", err
	}
	p := hex.EncodeToString(b)
	if fromID != "" && fromID != p {
		return "", invalidArg(field, "pins app %s, but the CVM id names app %s", p, fromID)
	}
	return p, nil
}

// checkCallerApp refuses an on-chain key for an app the caller did not
// name: the KMS signs the key of whichever app the detail names, so a
// detail naming another app it serves would get a genuinely signed key for
// someone else's CVM. want is callerAppID's answer, got the detail's app.
// App ids are hex and the API keeps the caller's case: both are lowercase
// here.
func checkCallerApp(cvm, kms, anchor, want, got string) error {
	switch {
	case want == "":
		return &KeyVerificationError{CVM: cvm, KMS: kms, Anchor: anchor,
			Reason: fmt.Sprintf("the CVM detail names app %s, and the app whose key encrypts must be one you named: "+
				"name the CVM by its app id (\"app_\" + 40 hex) or set EnvKeyOptions.AppID "+
				"(UpdateEnvsOptions.Key.AppID for EncryptAndUpdateEnvs) to the app id you expect", got)}
	case want != got:
		return &KeyVerificationError{CVM: cvm, KMS: kms, Anchor: anchor,
			Reason: fmt.Sprintf("the CVM detail names app %s, not the app %s asked for", got, want)}
	}
	return nil
}
