// Package haproxy runs the local haproxy binary to check configurations.
package haproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Env names the variable that points karana at a specific haproxy binary.
const Env = "KARANA_HAPROXY"

// CheckTimeout bounds one `haproxy -c` when the caller's context has no
// earlier deadline; a 10,000-tenant configuration takes a few seconds.
const CheckTimeout = 2 * time.Minute

// ErrNotFound means no haproxy binary could be found.
var ErrNotFound = errors.New("haproxy is not installed: karana needs it to check configurations (apt-get install haproxy, or set " + Env + " to its path)")

// fallbacks are tried when haproxy is not on $PATH: /usr/sbin is often
// missing from a non-root user's PATH.
var fallbacks = []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"}

// Find returns the haproxy binary: $KARANA_HAPROXY, else haproxy on $PATH,
// else the usual sbin locations.
func Find() (string, error) {
	if p := os.Getenv(Env); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w (%s=%s is not an executable file)", ErrNotFound, Env, p)
	}
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p, nil
	}
	for _, p := range fallbacks {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", ErrNotFound
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// CheckError is a configuration HAProxy refused; Output is what it said.
type CheckError struct {
	File   string
	Output string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("haproxy refuses %s:\n%s", e.File, indent(e.Output))
}

// Check runs `haproxy -c -dW -f file`: a syntax and semantic check that
// also loads certificates and maps, with warnings treated as errors. It
// returns a *CheckError quoting HAProxy when the file is refused.
func Check(ctx context.Context, file string) error {
	bin, err := Find()
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, CheckTimeout)
		defer cancel()
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-c", "-dW", "-f", file)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("checking %s with haproxy: %w", file, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &CheckError{File: file, Output: relevant(out.String())}
	}
	if err != nil {
		return fmt.Errorf("running %s -c: %w", bin, err)
	}
	return nil
}

// relevant drops HAProxy's version banner so the error leads with the
// alert itself.
func relevant(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.Contains(l, "haproxy version is") || strings.Contains(l, "path to executable is") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) == 0 {
		return strings.TrimSpace(s)
	}
	return strings.Join(keep, "\n")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
