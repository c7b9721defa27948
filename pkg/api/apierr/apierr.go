// Package apierr holds the one error type every part of the management API
// returns to a client: an HTTP status, the field at fault (if any) and a
// message. The server writes all of them with one function.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error a client caused or must know about.
type Error struct {
	Status int    `json:"status"`
	Field  string `json:"field,omitempty"`
	Msg    string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Msg)
	}
	return e.Msg
}

// New returns an Error with status and a formatted message.
func New(status int, format string, a ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, a...)}
}

// Field returns a 400 naming the field at fault.
func Field(field, format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Forbidden returns a 403, naming the field when one is at fault.
func Forbidden(field, format string, a ...any) *Error {
	return &Error{Status: http.StatusForbidden, Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Conflict returns a 409 for a unique field whose value is taken.
func Conflict(field string, value any) *Error {
	return &Error{Status: http.StatusConflict, Field: field, Msg: fmt.Sprintf("value %v is already taken", value)}
}

// NotFound returns a 404.
func NotFound(format string, a ...any) *Error {
	return &Error{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, a...)}
}

// As extracts an *Error from err; ok is false for any other error.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Prefix returns a copy of e whose field is prefixed with parent.
func (e *Error) Prefix(parent string) *Error {
	c := *e
	if c.Field == "" {
		c.Field = parent
	} else {
		c.Field = parent + "." + c.Field
	}
	return &c
}
