package phala

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels for errors.Is. An *APIError matches the sentinel of its HTTP
// status, so errors.Is(err, ErrNotFound) holds for any 404 answer.
//
// ErrValidation is the server's 422: the API read the request and refused
// a field (APIError.Validation lists which). It differs from
// ErrInvalidArgument, which the SDK returns for input it refused before
// sending anything.
//
// They are constants, so no caller can reassign or change them.
const (
	ErrBadRequest                    statusSentinel = http.StatusBadRequest
	ErrUnauthorized                  statusSentinel = http.StatusUnauthorized
	ErrForbidden                     statusSentinel = http.StatusForbidden
	ErrNotFound                      statusSentinel = http.StatusNotFound
	ErrConflict                      statusSentinel = http.StatusConflict
	ErrValidation                    statusSentinel = http.StatusUnprocessableEntity
	ErrRateLimited                   statusSentinel = http.StatusTooManyRequests
	ErrServer                        statusSentinel = http.StatusInternalServerError
	ErrUnavailable                   statusSentinel = http.StatusServiceUnavailable
	ErrComposeHashRequired           statusSentinel = statusComposeHashRequired
	ErrComposeHashExpired            statusSentinel = HTTPStatusComposeHashExpired
	ErrTransactionVerificationFailed statusSentinel = HTTPStatusTransactionVerificationFailed
	ErrComposeHashNotAllowed         statusSentinel = HTTPStatusComposeHashNotAllowed
)

// ErrMissingAPIKey is returned, before anything is sent, by a call that needs
// an API key when neither WithAPIKey nor $PHALA_CLOUD_API_KEY gave one.
const ErrMissingAPIKey = sentinel("phala: no API key: use WithAPIKey or set " + EnvAPIKey)

// sentinel is the type of the package's sentinel errors: a comparable
// constant, which errors.Is matches and no caller can reassign or change.
type sentinel string

// Error is the sentinel's text.
func (s sentinel) Error() string { return string(s) }

// statusSentinel is the type of the sentinels of an HTTP status (ErrNotFound
// and the others above), which every *APIError of that status matches.
type statusSentinel int

// Error names the status.
func (s statusSentinel) Error() string { return fmt.Sprintf("phala: HTTP %d", int(s)) }

// MaxErrorBody is how much of an error answer's body is read and kept (in
// APIError.RawBody): 64 KiB. A longer body is cut, never read whole.
const MaxErrorBody = 64 << 10

// MaxResponseBody is the largest success body the SDK reads: 8 MiB. A longer
// one fails with ErrResponseTooLarge rather than being held in memory.
const MaxResponseBody = 8 << 20

// ErrResponseTooLarge is returned when a success body exceeds MaxResponseBody.
const ErrResponseTooLarge = sentinel("phala: response body exceeds the SDK's limit")

// APIError is any answer of the Phala Cloud API that is not a success. It is
// decoded from every body shape the API uses (structured, legacy flat,
// FastAPI detail, and non-JSON bodies such as a proxy's HTML page).
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the stable "ERR-xx-yyy" code when the server gave one;
	// compare it with the Code* constants.
	Code ErrorCode
	// Message is the server's human-readable message (or the status text).
	Message string
	// RequestID identifies the request at Phala Cloud (body or X-Request-ID).
	RequestID string
	// Details are the server's {field, value} facts; values are raw JSON.
	Details []ErrorDetail
	// Suggestions are what the server suggests trying.
	Suggestions []string
	// Links point to documentation.
	Links []ErrorLink
	// Validation lists FastAPI's 422 problems.
	Validation []ValidationProblem
	// RetryAfter is the Retry-After header as sent, if any.
	RetryAfter string
	// Location is where a 3xx answer pointed (redirects are never followed).
	Location string
	// RawBody is at most MaxErrorBody bytes of the body as received.
	RawBody []byte

	// method is the request's HTTP method, for Retryable ("" when the
	// caller built the error).
	method string
	// hint says what to do: about a likely mistake of the caller's (a base
	// URL without /api/v1 answering 404), or a passing state (a 409
	// without a code); Error appends it.
	hint string
	// tries is how many attempts the call made, over how long.
	tries tries
}

// tries is how many attempts a request took and how long from the first
// to the last answer, for the error's text.
type tries struct {
	n    int
	over time.Duration
}

// String is "" for a single attempt, else " after N attempts over D".
func (t tries) String() string {
	if t.n < 2 {
		return ""
	}
	return fmt.Sprintf(" after %d attempts over %s", t.n, t.over.Round(time.Millisecond))
}

// ErrorDetail is one {field, value} fact of a structured error.
type ErrorDetail struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value,omitempty"`
}

// ErrorLink is a documentation link of a structured error.
type ErrorLink struct {
	URL   string `json:"url"`
	Label string `json:"label"`
}

// ValidationProblem is one entry of FastAPI's 422 body.
type ValidationProblem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Error gives the status, the ERR- code, the message, FastAPI's validation
// problems and the request id, how many attempts were made over how long
// when there were retries, and what to do when the SDK recognises a
// mistake of the caller's (a 404 from a base URL without /api/v1) or a
// passing state (a 409 without a code: another operation is running);
// never the raw body.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phala: HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + string(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, v := range e.Validation {
		fmt.Fprintf(&b, "; %v: %s", v.Loc, v.Msg)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	b.WriteString(e.tries.String())
	if e.hint != "" {
		b.WriteString("; " + e.hint)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status (ErrNotFound for
// a 404, ...), or an *APIError with the same status and, when target names
// one, the same Code.
func (e *APIError) Is(target error) bool {
	switch t := target.(type) {
	case statusSentinel:
		return int(t) == e.StatusCode
	case *APIError:
		return t.StatusCode == e.StatusCode && (t.Code == "" || t.Code == e.Code)
	}
	return false
}

// Retryable reports whether the same request may succeed later unchanged,
// by the rule the SDK's own retries follow: 429, 503, and a 409 without an
// error code (another operation in progress) for any request; 502 and 504
// only for a read (GET), since a change behind a failing gateway may have
// been applied. An APIError the caller built has no method and counts as
// a change.
func (e *APIError) Retryable() bool { return retryableAnswer(e.method, e.StatusCode, e.Code) }

// Detail returns the raw JSON value of the detail named field, if present.
func (e *APIError) Detail(field string) (json.RawMessage, bool) {
	for _, d := range e.Details {
		if d.Field == field {
			return d.Value, true
		}
	}
	return nil, false
}

// TransportError is a failure to exchange a request with the server at all
// (dial, TLS, timeout, connection reset). It names the method and path but
// never the query, headers or body.
type TransportError struct {
	Method string
	Path   string
	Err    error

	tries tries
}

// Error names the method and path (no query), how many attempts were made
// over how long when there were retries, and the cause.
func (e *TransportError) Error() string {
	return fmt.Sprintf("phala: %s %s%s: %v", e.Method, e.Path, e.tries, e.Err)
}

// Unwrap returns the cause, e.g. context.DeadlineExceeded.
func (e *TransportError) Unwrap() error { return e.Err }

// ErrUnexpectedResponse matches (errors.Is) an *UnexpectedResponseError: a
// success status (2xx), or a 465, whose body is not the API answer the
// call expects, such as a captive proxy's HTML page with 200, malformed
// JSON, an accepted update without a correlation id, or a 465 whose compose
// hash is not 64 hex characters. The change may or may not have been
// applied: read the CVM (GetCVMInfo) before repeating a mutating call.
const ErrUnexpectedResponse = sentinel("phala: unexpected response")

// UnexpectedResponseError describes an answer that has a success (or 465)
// status but is not an API answer the SDK can act on. It never carries the
// whole body: Snippet is at most 200 characters, with the API key removed.
type UnexpectedResponseError struct {
	// StatusCode is the HTTP status that arrived (2xx or 465).
	StatusCode int
	// ContentType is the answer's Content-Type header ("" when absent).
	ContentType string
	// Reason says what is wrong, e.g. "the body is not JSON".
	Reason string
	// Snippet is a short, printable excerpt of the body (API key redacted).
	Snippet string
	// BodySize is the number of body bytes read.
	BodySize int
	// RequestID is the answer's X-Request-ID, if any.
	RequestID string
	// APIError is, for a non-2xx status (a 465 the SDK cannot act on), the
	// same answer as an *APIError, so that errors.Is(err,
	// ErrComposeHashRequired) and errors.As(err, **APIError) hold too; nil
	// for a 2xx.
	APIError *APIError
}

// Unwrap returns APIError (nil for a 2xx answer).
func (e *UnexpectedResponseError) Unwrap() error {
	if e.APIError == nil {
		return nil
	}
	return e.APIError
}

// Error names the status, the content type, the reason and the snippet.
func (e *UnexpectedResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phala: unexpected HTTP %d answer", e.StatusCode)
	if e.ContentType != "" {
		fmt.Fprintf(&b, " (%s, %d bytes)", e.ContentType, e.BodySize)
	} else {
		fmt.Fprintf(&b, " (%d bytes)", e.BodySize)
	}
	b.WriteString(": " + e.Reason)
	if e.Snippet != "" {
		fmt.Fprintf(&b, "; body: %q", e.Snippet)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnexpectedResponse) hold.
func (e *UnexpectedResponseError) Is(target error) bool { return target == ErrUnexpectedResponse }

// ErrInvalidArgument is matched (via errors.Is) by every error the SDK
// returns for caller input it refused before sending anything (an
// *InvalidArgumentError naming the field). Nothing reached the server; fix
// the input rather than retry. A refusal by the server itself is an
// *APIError instead (ErrValidation for its 422).
const ErrInvalidArgument = sentinel("phala: invalid argument")

// InvalidArgumentError names the argument or field that was refused and why.
// It never carries the refused value itself, which may be a secret.
type InvalidArgumentError struct {
	// Field is the argument or request field, e.g. "cvmID" or "req.EncryptedEnv".
	Field string
	// Reason says what is wrong, in words a caller can act on.
	Reason string
}

// Error names the field and the reason.
func (e *InvalidArgumentError) Error() string {
	return fmt.Sprintf("phala: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidArgument.
func (e *InvalidArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// invalidArg builds an *InvalidArgumentError; format must not interpolate secrets.
func invalidArg(field, format string, args ...any) error {
	return &InvalidArgumentError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// BootError reports that the CVM failed to reach the target status; Message
// is the server's text (boot_error or the stream's error event).
type BootError struct {
	CVMID   string
	Status  string
	Message string
}

// Error says which CVM failed, in which status, and the server's message.
func (e *BootError) Error() string {
	return fmt.Sprintf("phala: CVM %s failed (status %q): %s", e.CVMID, e.Status, e.Message)
}

// EnvFileError reports a line of a .env file that ParseEnvFile refused. It
// never holds the value found there. errors.Is(err, ErrInvalidArgument)
// holds for it.
type EnvFileError struct {
	// Line is the 1-based line number where the offending entry starts.
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error returns "phala: env file line N: reason".
func (e *EnvFileError) Error() string {
	return fmt.Sprintf("phala: env file line %d: %s", e.Line, e.Reason)
}

// Is reports whether target is ErrInvalidArgument.
func (e *EnvFileError) Is(target error) bool { return target == ErrInvalidArgument }

// UnsupportedAPIVersionError is NewClient's refusal of a version outside
// SupportedAPIVersions: its answers may come in shapes the SDK cannot read.
type UnsupportedAPIVersionError struct {
	// Version is the refused version, as given to WithAPIVersion.
	Version string
}

// Error names the option, the version and the supported ones.
func (e *UnsupportedAPIVersionError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *InvalidArgumentError (Field "WithAPIVersion") that
// says the same, for callers that handle every refused option alike.
func (e *UnsupportedAPIVersionError) Unwrap() error {
	return &InvalidArgumentError{Field: "WithAPIVersion", Reason: fmt.Sprintf(
		"%s is not an API version this SDK decodes (supported: %s)", e.Version, strings.Join(SupportedAPIVersions(), ", "))}
}

// Is reports whether target is ErrUnsupportedAPIVersion.
func (e *UnsupportedAPIVersionError) Is(target error) bool { return target == ErrUnsupportedAPIVersion }
