// Package render implements `karana balancer render`.
package render

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/render"
)

// Options of `karana balancer render`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)

	Dir    string // --out; "" means rendered/ beside the inventory
	Check  bool
	Output string // text or json
}

// NewCmdRender returns `karana balancer render`. runF replaces the run
// function in tests.
func NewCmdRender(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the HAProxy configurations, check them with haproxy -c, and write them",
		Long: cmdutil.Dedent(`
			Render lb0's configuration (outer.cfg) and the inner balancers' one
			(inner.cfg, with karana/hosts.map, karana/crt-list.txt and karana/certs/)
			from the inventory. When anything differs from the folder, both
			configurations are checked with haproxy -c before anything is written; an
			invalid configuration is never written. A folder that already holds
			exactly what is rendered is left alone (it was checked when written).

			Certificates come from tls.cert_dir (<domain>.pem, default.pem, or a
			tenant's cert:); missing ones are generated self-signed there first.

			With --check nothing is generated or written: the command exits 0 when
			the folder holds exactly what would be rendered, and 4 with a diff when not.`),
		Example: cmdutil.Dedent(`
			$ karana balancer render
			$ karana balancer render --out /tmp/rendered -o json
			$ karana balancer render --check`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return renderRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "out", "", "folder to render into (default rendered/ beside the inventory)")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "write nothing; exit 4 with a diff when the folder differs")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

type jsonResult struct {
	Dir       string              `json:"dir"`
	Check     bool                `json:"check"`
	Changed   bool                `json:"changed"`
	Generated []string            `json:"generated_certs"`
	Files     []render.FileChange `json:"files"`
}

func renderRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	dir := opts.Dir
	if dir == "" {
		dir = render.DefaultDir(inv)
	}
	p := cmdutil.NewProgress(opts.IO)
	p.Start("rendering %d tenants", len(inv.Tenants))
	out, err := render.Render(inv, render.Options{GenerateCerts: !opts.Check})
	if err != nil {
		p.Fail("refused")
		return renderError(err)
	}
	p.End(fmt.Sprintf("%d files", len(out.Files)))
	reportGenerated(opts, out.Generated)
	changes, err := render.Compare(dir, out)
	if err != nil {
		return err
	}
	changed := false
	for _, c := range changes {
		changed = changed || c.Changed
	}
	if opts.Check {
		return report(opts, dir, out, changes, changed)
	}
	// A folder that already holds exactly these bytes was checked when
	// they were written: haproxy -c (seconds with thousands of
	// certificates) runs only when something changes.
	if changed {
		p.Start("checking both configurations with haproxy -c")
		if err := render.Validate(ctx, out); err != nil {
			p.Fail("failed")
			return validateError(err, render.CertDir(inv))
		}
		p.End("valid")
	}
	if !changed {
		return report(opts, dir, out, changes, changed)
	}
	p.Start("writing %s", dir)
	if err := render.Write(dir, out); err != nil {
		p.Fail("failed")
		return err
	}
	p.End("")
	return report(opts, dir, out, changes, changed)
}

// reportGenerated names the certificates render created, or counts them
// when there are many (the first render of a large inventory).
func reportGenerated(opts *Options, certs []string) {
	const maxNamed = 10
	if len(certs) > maxNamed {
		fmt.Fprintf(opts.IO.ErrOut, "generated %d self-signed certificates in %s\n", len(certs), filepath.Dir(certs[0]))
		return
	}
	for _, c := range certs {
		fmt.Fprintf(opts.IO.ErrOut, "generated self-signed certificate %s\n", c)
	}
}
