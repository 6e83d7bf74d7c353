package sesame

import (
	"errors"
	"fmt"
	"strings"
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
	// Text and Data, when set, are Message as a template over field and
	// value pairs ("{{.Name}} is too large."), so that the recipient pages
	// can say it in the visitor's language; Message is it in English.
	Text string
	Data []any
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

// Say builds an error whose message is text with its {{.Field}}
// placeholders filled from kv, pairs of a field name and its value; the
// pages translate text and fill it the same way.
func Say(k Kind, text string, kv ...any) *Error {
	msg := text
	for i := 0; i+1 < len(kv); i += 2 {
		msg = strings.ReplaceAll(msg, "{{."+fmt.Sprint(kv[i])+"}}", fmt.Sprint(kv[i+1]))
	}
	return &Error{Kind: k, Message: msg, Text: text, Data: kv}
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

// MaxFieldErrors is how many problems one error lists at most. A request
// with more gets the first MaxFieldErrors, so that neither the work spent
// on a hostile request nor the reply grows with its size.
const MaxFieldErrors = 20

// Problems collects the field errors of one request in the order they are
// found, up to MaxFieldErrors, so that a client learns of every mistake in
// one round trip. The zero value is ready to use.
type Problems struct {
	fields []FieldError
	kind   Kind
	other  error // an error without fields; it wins over the rest
}

// Add records the field errors of err, an *Error from FieldErr or a
// validator. Any other error is kept and returned by Err as it is. Add
// ignores nil and anything past MaxFieldErrors.
func (p *Problems) Add(err error) {
	if err == nil || p.other != nil {
		return
	}
	e := AsError(err)
	if e == nil || len(e.Fields) == 0 {
		p.other = err
		return
	}
	switch {
	case len(p.fields) == 0:
		p.kind = e.Kind
	case p.kind != e.Kind:
		// A mix (a missing target beside a malformed field) is a
		// validation failure as a whole.
		p.kind = Invalid
	}
	for _, f := range e.Fields {
		if p.Full() {
			return
		}
		p.fields = append(p.fields, f)
	}
}

// Addf records one Invalid field error, as FieldErr builds it.
func (p *Problems) Addf(code, source, format string, args ...any) {
	if !p.Full() {
		p.Add(FieldErr(code, source, format, args...))
	}
}

// Full reports whether no more problems will be kept; callers stop
// looking then.
func (p *Problems) Full() bool { return p.other != nil || len(p.fields) >= MaxFieldErrors }

// Len returns how many problems have been kept.
func (p *Problems) Len() int { return len(p.fields) }

// Err returns nil when nothing was added, and otherwise one *Error that
// lists every problem kept; its message is the first problem's.
func (p *Problems) Err() error {
	if p.other != nil {
		return p.other
	}
	if len(p.fields) == 0 {
		return nil
	}
	return &Error{Kind: p.kind, Message: p.fields[0].Detail, Fields: p.fields}
}
