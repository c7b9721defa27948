package balancer

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/karana-project/karana/pkg/render"
)

// RuntimeError is HAProxy's runtime API refusing a command, with its
// answer.
type RuntimeError struct {
	Command string // the command without its payload
	Answer  string
}

func (e *RuntimeError) Error() string {
	ans := strings.TrimSpace(e.Answer)
	if ans == "" {
		ans = "(no answer)"
	}
	return fmt.Sprintf("runtime API refused %q: %s", e.Command, firstLines(ans, 3))
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	return strings.Join(ls, " | ")
}

// command sends cmd and checks the answer: want is a substring a success
// answer holds, or "" when success is an empty answer.
func command(ctx context.Context, rt Runtime, cmd, want string) (string, error) {
	out, err := rt.Command(ctx, cmd)
	if err != nil {
		return out, err
	}
	trimmed := strings.TrimSpace(out)
	if (want == "" && trimmed != "") || (want != "" && !strings.Contains(out, want)) {
		head, _, _ := strings.Cut(cmd, " <<")
		return out, &RuntimeError{Command: head, Answer: out}
	}
	return out, nil
}

// payload is a runtime API payload: the text after "<<\n", which ends at
// the first empty line, so it must hold none.
func payload(b []byte) string {
	var s strings.Builder
	for _, l := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			s.WriteString(l + "\n")
		}
	}
	return s.String()
}

// CheckPEM checks that pem holds a certificate chain and the private key
// that matches it: what HAProxy needs in one file. Checked in Go before a
// balancer is touched, so a broken certificate changes nothing.
func CheckPEM(pem []byte) error {
	if _, err := tls.X509KeyPair(pem, pem); err != nil {
		return fmt.Errorf("not a usable certificate: %w (want the chain followed by its key, PEM)", err)
	}
	return nil
}

// certKnown reports whether HAProxy has a certificate store called path.
func certKnown(ctx context.Context, rt Runtime, path string) (bool, error) {
	out, err := rt.Command(ctx, "show ssl cert")
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == path {
			return true, nil
		}
	}
	return false, nil
}

// crtListHas reports whether crt-list list has a line for certificate path.
func crtListHas(ctx context.Context, rt Runtime, list, path string) (bool, error) {
	out, err := command(ctx, rt, "show ssl crt-list "+list, "# "+list)
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == path {
			return true, nil
		}
	}
	return false, nil
}

// UpdateCert loads a certificate into a running inner balancer through its
// runtime API, without a reload: `new ssl cert` when HAProxy does not know
// certPath yet, `set ssl cert` and `commit ssl cert`, then `add ssl
// crt-list` with sni (e.g. "acme.test", "*.acme.test") when the crt-list
// has no line for it. certPath is the name the configuration uses,
// relative to /etc/haproxy: render.CertsDir + "/<domain>.pem".
//
// A PEM that is not a chain with its matching key is refused before any
// command is sent. A failure aborts the transaction and removes a store it
// created, so HAProxy keeps serving what it served. UpdateCert changes
// the running process only: write the same bytes to the balancer's file
// (and the cert folder) so that the next reload loads them too.
func UpdateCert(ctx context.Context, rt Runtime, certPath string, pem []byte, sni ...string) error {
	if err := CheckPEM(pem); err != nil {
		return fmt.Errorf("certificate %s: %w", certPath, err)
	}
	if strings.ContainsAny(certPath, " \t\n;") || certPath == "" {
		return fmt.Errorf("certificate path %q: not a single word", certPath)
	}
	known, err := certKnown(ctx, rt, certPath)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", certPath, err)
	}
	if !known {
		if _, err := command(ctx, rt, "new ssl cert "+certPath, "New empty certificate store"); err != nil {
			return fmt.Errorf("certificate %s: %w", certPath, err)
		}
	}
	undo := func(cause error) error {
		_, _ = rt.Command(context.WithoutCancel(ctx), "abort ssl cert "+certPath)
		if !known {
			_, _ = rt.Command(context.WithoutCancel(ctx), "del ssl cert "+certPath)
		}
		return fmt.Errorf("certificate %s: %w", certPath, cause)
	}
	if _, err := command(ctx, rt, "set ssl cert "+certPath+" <<\n"+payload(pem)+"\n", "Transaction "); err != nil {
		return undo(err)
	}
	if _, err := command(ctx, rt, "commit ssl cert "+certPath, "Success!"); err != nil {
		return undo(err)
	}
	listed, err := crtListHas(ctx, rt, render.CrtList, certPath)
	if err != nil || listed {
		return err
	}
	line := certPath
	for _, n := range sni {
		line += " " + n
	}
	if _, err := command(ctx, rt, "add ssl crt-list "+render.CrtList+" <<\n"+line+"\n", "Success!"); err != nil {
		if !known {
			_, _ = rt.Command(context.WithoutCancel(ctx), "del ssl cert "+certPath)
		}
		return fmt.Errorf("certificate %s: %w", certPath, err)
	}
	return nil
}

// RemoveCert takes certificate certPath out of a running inner balancer:
// its crt-list line, then its store. A certificate HAProxy does not know
// is not an error.
func RemoveCert(ctx context.Context, rt Runtime, certPath string) error {
	listed, err := crtListHas(ctx, rt, render.CrtList, certPath)
	if err != nil {
		return err
	}
	if listed {
		if _, err := command(ctx, rt, "del ssl crt-list "+render.CrtList+" "+certPath, "deleted in crtlist"); err != nil {
			return fmt.Errorf("certificate %s: %w", certPath, err)
		}
	}
	known, err := certKnown(ctx, rt, certPath)
	if err != nil || !known {
		return err
	}
	if _, err := command(ctx, rt, "del ssl cert "+certPath, "deleted!"); err != nil {
		return fmt.Errorf("certificate %s: %w", certPath, err)
	}
	return nil
}
