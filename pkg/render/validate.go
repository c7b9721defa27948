package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/karana-project/karana/pkg/haproxy"
)

// Validate runs `haproxy -c` on both configurations, laid out in a scratch
// folder exactly as they will be written, so the inner check also loads
// the host map, the crt-list and every certificate. The error quotes
// HAProxy (a *haproxy.CheckError) or is haproxy.ErrNotFound.
func Validate(ctx context.Context, o *Output) error {
	return validate(ctx, o, OuterFile, InnerFile)
}

// ValidateOuter runs `haproxy -c` on lb0's configuration alone: `up`
// pushes it in place, while the inner balancers' files are checked inside
// each of them by the apply path (balancer.Apply).
func ValidateOuter(ctx context.Context, o *Output) error {
	return validate(ctx, &Output{Files: map[string][]byte{OuterFile: o.Files[OuterFile]}}, OuterFile)
}

func validate(ctx context.Context, o *Output, check ...string) error {
	if len(o.Missing) > 0 {
		return fmt.Errorf("cannot check the configuration: %d certificates are missing (%s)", len(o.Missing), strings.Join(o.Missing, ", "))
	}
	if _, err := haproxy.Find(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "karana-render-")
	if err != nil {
		return fmt.Errorf("creating a scratch folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	// A scratch copy needs no durability: plain writes, no fsync, which
	// matters with ten thousand certificates.
	for _, name := range sortedNames(o.Files) {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("preparing the check: %w", err)
		}
		if err := os.WriteFile(p, o.Files[name], 0o600); err != nil {
			return fmt.Errorf("preparing the check: %w", err)
		}
	}
	for _, name := range check {
		err := haproxy.Check(ctx, filepath.Join(tmp, name))
		var ce *haproxy.CheckError
		if errors.As(err, &ce) {
			// Name the rendered file, not the scratch copy.
			ce.File = name
			ce.Output = strings.ReplaceAll(ce.Output, tmp+string(filepath.Separator), "")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
