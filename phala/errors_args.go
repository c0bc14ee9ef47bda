package phala

import (
	"errors"
	"fmt"
)

// ErrInvalidArgument is matched (via errors.Is) by every error the SDK
// returns for caller input it refused before sending anything.
var ErrInvalidArgument = errors.New("phala: invalid argument")

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
