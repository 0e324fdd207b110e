package channels

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies a failed send.
type ErrorKind string

const (
	// Retryable: rate limit, 5xx, timeout, connection error.
	Retryable ErrorKind = "retryable"
	// Permanent: bad key, bad signature, keyword missing, bad request.
	Permanent ErrorKind = "permanent"
	// TooBig: the message or image exceeds a platform limit; shrink and retry once.
	TooBig ErrorKind = "too_big"
	// BadCredentials: fail fast, surface in health and records.
	BadCredentials ErrorKind = "bad_credentials"
)

// Error is a classified send failure.
type Error struct {
	Kind ErrorKind
	// RetryAfter is the platform's requested wait, when it gave one.
	RetryAfter time.Duration
	// StatusCode and Code are the HTTP status and the platform's errcode/code.
	StatusCode int
	Code       int
	Msg        string
	Err        error
	// Sent says what reached the platform before the failure (e.g. the
	// text of a PartBoth send whose image then failed), so a retry can send
	// only the rest; empty means nothing was delivered.
	Sent Part
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Kind, e.Msg)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.StatusCode)
		if e.Code != 0 {
			s += fmt.Sprintf(", code %d", e.Code)
		}
		s += ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err; unclassified errors are Retryable, since a
// retry is the safe choice for an alert.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Retryable
}

// RetryAfterOf returns the wait the platform asked for, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Errorf builds a classified error.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
