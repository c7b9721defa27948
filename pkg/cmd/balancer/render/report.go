package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/render"
)

func report(opts *Options, dir string, out *render.Output, changes []render.FileChange, changed bool) error {
	var driftErr error
	if opts.Check && changed {
		driftErr = cmdutil.WithCode(cmdutil.ExitDrift,
			fmt.Errorf("%s differs from what the inventory renders: run `karana balancer render` to update it", dir))
	}
	if opts.Output == "json" {
		res := jsonResult{Dir: dir, Check: opts.Check, Changed: changed, Generated: out.Generated, Files: changes}
		if res.Generated == nil {
			res.Generated = []string{}
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, res); err != nil {
			return err
		}
		return driftErr
	}
	w := opts.IO.Out
	if opts.Check {
		if !changed {
			fmt.Fprintf(w, "%s is up to date (%d files)\n", dir, len(out.Files))
			return nil
		}
		diff, err := render.Diff(dir, out)
		if err != nil {
			return err
		}
		fmt.Fprint(w, diff)
		return driftErr
	}
	n := 0
	for _, c := range changes {
		switch c.Status {
		case render.StatusAdded:
			fmt.Fprintf(w, "created %s\n", c.Path)
		case render.StatusChanged:
			fmt.Fprintf(w, "updated %s\n", c.Path)
		case render.StatusRemoved:
			fmt.Fprintf(w, "removed %s\n", c.Path)
		default:
			continue
		}
		n++
	}
	if n == 0 {
		fmt.Fprintf(w, "%s is up to date (%d files)\n", dir, len(out.Files))
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s (%d files): %d created, updated or removed\n", dir, len(out.Files), n)
	return nil
}

// renderError gives input problems (unsafe values, bad certificates) the
// exit code of an invalid input file.
func renderError(err error) error {
	var uv *render.UnsafeValueError
	var ce *render.CertError
	if errors.As(err, &uv) || errors.As(err, &ce) {
		return cmdutil.WithCode(cmdutil.ExitInvalid, err)
	}
	return err
}

func validateError(err error, certDir string) error {
	var ce *haproxy.CheckError
	switch {
	case errors.Is(err, haproxy.ErrNotFound):
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	case errors.As(err, &ce):
		hint := ""
		if strings.Contains(ce.Output, render.CertsDir+"/") {
			hint = fmt.Sprintf("\n(%s/<domain>.pem is a copy of %s/<domain>.pem or of the tenant's cert: file)", render.CertsDir, certDir)
		}
		return cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("nothing written: %w%s", err, hint))
	}
	return err
}
