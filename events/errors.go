package events

import (
	"errors"
	"strconv"
)

// Error classes; every *ParseError wraps exactly one of them.
var (
	// ErrEmpty: the payload has no bytes (e.g. a compaction tombstone).
	ErrEmpty = errors.New("empty payload")
	// ErrNotUTF8: the payload is not valid UTF-8.
	ErrNotUTF8 = errors.New("not valid UTF-8")
	// ErrSyntax: the payload is not in the topic's format (truncated, not JSON, ...).
	ErrSyntax = errors.New("syntax error")
	// ErrMissing: a required field is absent or empty.
	ErrMissing = errors.New("missing field")
	// ErrInvalid: a field is present but its value is out of range or unknown.
	ErrInvalid = errors.New("invalid field")
)

// ParseError says which field of a record was wrong and why. Field is "" when
// the record as a whole is unreadable (empty, not UTF-8, not an object).
type ParseError struct {
	Field  string
	Reason string
	Offset int   // byte offset in the payload where the problem was found, -1 if none
	Err    error // one of ErrEmpty, ErrNotUTF8, ErrSyntax, ErrMissing, ErrInvalid
}

func (e *ParseError) Error() string {
	msg := e.Err.Error()
	if e.Field != "" {
		msg += " " + strconv.Quote(e.Field)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Offset >= 0 {
		msg += " at byte " + strconv.Itoa(e.Offset)
	}
	return msg
}

func (e *ParseError) Unwrap() error { return e.Err }

func syntaxErr(field, reason string, off int) error {
	return &ParseError{Field: field, Reason: reason, Offset: off, Err: ErrSyntax}
}

func missingErr(field string) error {
	return &ParseError{Field: field, Reason: "required", Offset: -1, Err: ErrMissing}
}

func invalidErr(field, reason string) error {
	return &ParseError{Field: field, Reason: reason, Offset: -1, Err: ErrInvalid}
}

// checkPayload rejects what no parser can read: nothing, too much, not UTF-8.
func checkPayload(b []byte) error {
	switch {
	case len(b) == 0:
		return &ParseError{Reason: "no bytes", Offset: -1, Err: ErrEmpty}
	case len(b) > MaxRecordBytes:
		return &ParseError{Reason: "longer than " + strconv.Itoa(MaxRecordBytes) + " bytes", Offset: -1, Err: ErrInvalid}
	}
	if i := invalidUTF8At(b); i >= 0 {
		return &ParseError{Offset: i, Err: ErrNotUTF8}
	}
	return nil
}
