// Package cmdutil holds what every command shares: exit codes, JSON output,
// flag errors and the progress reporter.
package cmdutil

import (
	"context"
	"errors"

	"github.com/karana-project/karana/pkg/balancer"
)

// Exit codes: the one table, documented in docs/cli.md.
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // the operation failed
	ExitUsage       = 2   // bad flags or arguments
	ExitInvalid     = 3   // an input file (inventory, config, dump) is invalid
	ExitDrift       = 4   // state differs from the inventory (render --check, status)
	ExitUnavailable = 5   // a daemon or service karana needs did not answer
	ExitInterrupted = 130 // cancelled by SIGINT/SIGTERM
)

// ExitError carries the exit code a failure should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// WithCode wraps err so that the process exits with code.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// UsageError marks err as a usage error (exit 2).
func UsageError(err error) error { return WithCode(ExitUsage, err) }

// SilentError ends the process with code without printing anything more:
// the command has already reported what went wrong.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return "" }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var s *SilentError
	if errors.As(err, &s) {
		return s.Code
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	if code, ok := domainCode(err); ok {
		return code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitFailure
}

// domainCode maps the domain packages' typed errors to exit codes: they
// say what happened, this table what the process exits with.
func domainCode(err error) (int, bool) {
	var unreachable *balancer.UnreachableError
	switch {
	case errors.Is(err, balancer.ErrRefused):
		return ExitInvalid, true
	case errors.As(err, &unreachable):
		return ExitUnavailable, true
	}
	return 0, false
}
