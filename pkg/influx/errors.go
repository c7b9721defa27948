package influx

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the statement-level answers the sync branches on.
// Match them with errors.Is.
var (
	ErrUserExists       = errors.New("user already exists")
	ErrUserNotFound     = errors.New("user not found")
	ErrDatabaseNotFound = errors.New("database not found")
	ErrUnauthorized     = errors.New("authorization failed")
	ErrForbidden        = errors.New("not authorized")
)

// StatementError is an error InfluxDB reported for one statement while the
// HTTP request itself succeeded (InfluxDB answers those with 200).
type StatementError struct {
	Statement string // the statement with any password replaced by '***'
	Message   string
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("influx: %s: %s", e.Statement, e.Message)
}

// Is maps InfluxDB's fixed error texts onto the sentinel errors.
func (e *StatementError) Is(target error) bool {
	switch target {
	case ErrUserExists:
		return e.Message == "user already exists"
	case ErrUserNotFound:
		return e.Message == "user not found"
	case ErrDatabaseNotFound:
		return strings.HasPrefix(e.Message, "database not found")
	}
	return false
}

// HTTPError is a non-2xx answer from InfluxDB: a parse error (400), bad
// credentials (401), a missing privilege (403) or a server failure.
type HTTPError struct {
	Call    string // what was being done, e.g. `POST /query SHOW USERS`
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("influx: %s: %d %s", e.Call, e.Status, e.Message)
}

// Is lets callers branch on 401 and 403 with errors.Is.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 401
	case ErrForbidden:
		return e.Status == 403
	}
	return false
}
