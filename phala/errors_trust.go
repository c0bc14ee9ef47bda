package phala

import (
	"fmt"
	"strings"
	"time"
)

// The errors of the trust decisions: a KMS key's signature outside its
// time window or not from the trusted signer, and an answer whose compose
// hash or app is not the one the caller's change and app make. The errors
// of requests and answers are in errors.go.

// ErrSignatureExpired is matched (errors.Is) by the error of
// VerifyEnvEncryptPublicKeyAt for a timestamp older than
// EnvPublicKeySignatureMaxAge.
const ErrSignatureExpired = sentinel("phala: env public key signature expired")

// ErrSignatureFromFuture is matched (errors.Is) by the error of
// VerifyEnvEncryptPublicKeyAt for a timestamp more than
// EnvPublicKeySignatureMaxSkew ahead of now.
const ErrSignatureFromFuture = sentinel("phala: env public key signature timestamp is in the future")

// SignatureTimeError reports a timestamped signature outside its validity
// window. It matches ErrInvalidArgument and either ErrSignatureExpired or
// ErrSignatureFromFuture.
type SignatureTimeError struct {
	// Timestamp is the signed time, Unix seconds.
	Timestamp uint64
	// Now is the time it was checked against.
	Now time.Time
	// Age is Now minus Timestamp (negative when in the future).
	Age time.Duration
}

// Error says how far the timestamp is outside the window.
func (e *SignatureTimeError) Error() string {
	if e.Age < 0 {
		return fmt.Sprintf("phala: env public key signature timestamp %d is %s in the future (limit %s)", e.Timestamp, -e.Age, EnvPublicKeySignatureMaxSkew)
	}
	return fmt.Sprintf("phala: env public key signature timestamp %d is %s old (limit %s)", e.Timestamp, e.Age, EnvPublicKeySignatureMaxAge)
}

// Is matches ErrInvalidArgument and the sentinel for the direction.
func (e *SignatureTimeError) Is(target error) bool {
	switch target {
	case ErrInvalidArgument:
		return true
	case ErrSignatureExpired:
		return e.Age >= 0
	case ErrSignatureFromFuture:
		return e.Age < 0
	}
	return false
}

// KeyVerificationError says why an env-encryption key was refused. It
// matches ErrKeyVerification (errors.Is) and unwraps to the cause (the
// anchor's error, a signature error), if any. Nothing was encrypted and no
// update was sent. Every field but Err holds only public information (ids,
// public keys, the anchor's name); Err is the cause as its source made it.
type KeyVerificationError struct {
	// CVM is the CVM's name as its detail gives it.
	CVM string
	// KMS is the KMS id asked ("" for the central KMS).
	KMS string
	// Anchor is the anchor's String() ("" when none was given).
	Anchor string
	// Signer is the signer the KMS key's signature recovers to ("" when
	// no signature was checked).
	Signer string
	// TrustedSigner is the signer the anchor returned ("" when none).
	TrustedSigner string
	// Reason says what failed, in words.
	Reason string
	// Err is the cause, or nil.
	Err error
}

// Error names the CVM, the KMS, the reason, the anchor and the cause.
func (e *KeyVerificationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrKeyVerification.Error())
	b.WriteString(": CVM ")
	b.WriteString(e.CVM)
	if e.KMS != "" {
		b.WriteString(", KMS ")
		b.WriteString(e.KMS)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Anchor != "" {
		b.WriteString(" (anchor: ")
		b.WriteString(e.Anchor)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is matches ErrKeyVerification.
func (e *KeyVerificationError) Is(target error) bool { return target == ErrKeyVerification }

// Unwrap returns the cause.
func (e *KeyVerificationError) Unwrap() error { return e.Err }

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
