package sesame

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that every adapter maps it to one answer (an
// HTTP status, an MCP tool error, a CLI exit code). Kinds are append-only.
type Kind uint8

// The kinds of error. Never reorder them: the numbers are stable.
const (
	Internal        Kind = iota // unclassified; users see a generic message
	Invalid                     // the request is malformed or breaks a rule
	NotFound                    // the named thing does not exist (or is not visible)
	Conflict                    // the request clashes with current state
	Unauthenticated             // no valid credential
	Forbidden                   // a valid credential without the right to act
	TooManyAttempts             // throttled; retry later
	Unavailable                 // a dependency failed; retryable
	TooLarge                    // the payload is bigger than a limit allows
	NoSpace                     // the server has no room left to store the payload
	Unprocessable               // well-formed, but contradicts an earlier request (a reused idempotency key)
)

var kindNames = [...]string{
	Internal:        "internal",
	Invalid:         "invalid",
	NotFound:        "not found",
	Conflict:        "conflict",
	Unauthenticated: "unauthenticated",
	Forbidden:       "forbidden",
	TooManyAttempts: "too many attempts",
	Unavailable:     "unavailable",
	TooLarge:        "too large",
	NoSpace:         "no space",
	Unprocessable:   "unprocessable",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// FieldError points at one field of a request that is wrong. Code is one of
// Pangea's validation codes (FieldRequired, NotEnumMember, DoesNotExist, ...),
// Source is a JSON pointer into the request ("/links/0/targets") and Detail is
// a sentence a user can act on.
type FieldError struct {
	Code   string
	Detail string
	Source string
}

// Error is the one error type that crosses package boundaries. Message and
// Fields are safe to show to users; Err is only ever logged.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Message != "" {
		s += ": " + e.Message
	}
	for _, f := range e.Fields {
		s += fmt.Sprintf(" [%s %s: %s]", f.Code, f.Source, f.Detail)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Errorf builds an *Error of kind k whose user-facing message is the
// formatted text.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// FieldErr builds an Invalid error about one request field.
func FieldErr(code, source, format string, args ...any) *Error {
	detail := fmt.Sprintf(format, args...)
	return &Error{Kind: Invalid, Message: detail, Fields: []FieldError{{Code: code, Detail: detail, Source: source}}}
}

// WithKind returns a copy of e with another kind, for rules whose status is
// not a plain validation failure (a name clash is a Conflict, say).
func (e *Error) WithKind(k Kind) *Error {
	c := *e
	c.Kind = k
	return &c
}
