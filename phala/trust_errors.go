package phala

import (
	"fmt"
	"strings"
)

// ErrComposeHashMismatch is matched (errors.Is) by *ComposeHashMismatchError:
// a compose hash the API asked to approve is not the hash of the
// app-compose the SDK built from the CVM's current one and the caller's
// change. Nothing was signed.
const ErrComposeHashMismatch = sentinel("phala: the API's compose hash is not the hash of the intended app-compose")

// ErrAppMismatch is matched (errors.Is) by *AppMismatchError: an answer
// names another app than the one the caller named or pinned.
const ErrAppMismatch = sentinel("phala: the answer names another app than the caller's")

// ComposeHashMismatchError reports a compose hash that the SDK could not
// reproduce: the hash of the CVM's current app-compose with exactly the
// caller's change applied is Want (or WantDstack), the API's answer says
// Got. All fields are public values (hashes, field names).
type ComposeHashMismatchError struct {
	// Got is the API's hash, 64 lowercase hex.
	Got string
	// Want is the SDK's hash of the intended app-compose in Phala Cloud's
	// serialisation (DumpAppComposeHash); WantDstack in the dstack form
	// (ComposeHash). Either would have been accepted.
	Want, WantDstack string
	// Changed lists the app-compose fields the caller's change alters,
	// sorted (e.g. "docker_compose_file").
	Changed []string
	// Missing lists the changed fields that Got leaves out: Got is the
	// hash of the current app-compose with only the other changed fields
	// applied. Nil when Got matches no such document (then the API's
	// document differs in fields the caller did not change).
	Missing []string
}

// Error names both hashes and the fields that differ.
func (e *ComposeHashMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the API asks to approve %s, the SDK computes %s (dstack form %s) for the current app-compose with your change (%s)",
		ErrComposeHashMismatch.Error(), e.Got, e.Want, e.WantDstack, strings.Join(e.Changed, ", "))
	switch {
	case e.Missing != nil && len(e.Missing) == len(e.Changed):
		b.WriteString("; the API's hash is that of the current app-compose, without your change")
	case e.Missing != nil:
		fmt.Fprintf(&b, "; the API's hash leaves out your change of %s", strings.Join(e.Missing, ", "))
	default:
		b.WriteString("; the API's document differs in fields you did not change")
	}
	b.WriteString(" (nothing was signed)")
	return b.String()
}

// Is matches ErrComposeHashMismatch.
func (e *ComposeHashMismatchError) Is(target error) bool { return target == ErrComposeHashMismatch }

// AppMismatchError reports an answer naming another app than the caller's.
type AppMismatchError struct {
	// Want is the app the caller named or pinned, Got the answer's; both
	// 40 lowercase hex.
	Want, Got string
	// Answer names the answer, e.g. "the 465 answer".
	Answer string
}

// Error names both apps.
func (e *AppMismatchError) Error() string {
	return fmt.Sprintf("%s: %s names app %s, not your app %s (nothing was signed)", ErrAppMismatch.Error(), e.Answer, e.Got, e.Want)
}

// Is matches ErrAppMismatch.
func (e *AppMismatchError) Is(target error) bool { return target == ErrAppMismatch }
