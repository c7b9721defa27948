// Package initcmd implements `karana init`: a starter inventory for a real
// host, so that a release archive is enough to begin (no repository, no
// test images).
package initcmd

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

//go:embed starter.yaml.tmpl
var starterText string

var starter = template.Must(template.New("starter").Parse(starterText))

// Options of `karana init`.
type Options struct {
	IO      *iostreams.IOStreams
	Version string

	Domain string // the operator's domain, for the example tenant hostnames
	Out    string // the file to write
}

// NewCmdInit returns `karana init`.
func NewCmdInit(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Build.Version}
	cmd := &cobra.Command{
		Use:   "init [--domain DOMAIN] [--out FILE]",
		Short: "Write a commented starter inventory for this host",
		Long: cmdutil.Dedent(`
			Write a starter inventory for a real host: this host's LXD daemon, the
			bridge karanabr0 on 10.0.12.0/24, lb0 in front of lb1 and lb2 with the
			host's ports 80 and 443 forwarded to lb0, the production images
			(karana/balancer, karana/influxdb, karana/grafana, karana/api, built on
			the host by karana up) and no tenants. Each setting is commented: edit
			them, then run karana up and karana tenant add.

			The file is --out, else the inventory path (--inventory, else
			$KARANA_INVENTORY, else inventories/local.yaml); its folder is created.
			An existing file is never overwritten.

			--domain is the domain your tenants' hostnames live under; it is used in
			the file's example and in the next steps printed.`),
		Example: cmdutil.Dedent(`
			$ karana init --domain monitoring.example.org
			$ karana init --out /etc/karana/inventory.yaml
			$ karana inventory validate && karana up`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := inventory.ValidDomain(opts.Domain); err != nil {
				return cmdutil.UsageError(fmt.Errorf("--domain: %w", err))
			}
			if opts.Out == "" {
				opts.Out = f.InventoryPath()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Domain, "domain", "example.org", "the domain tenant hostnames live under (used in examples)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "file to write (default: the inventory path)")
	return cmd
}

// Render returns the starter inventory, checked by the inventory's own
// validation before anything is written.
func Render(version, domain, path string) ([]byte, error) {
	var b bytes.Buffer
	if err := starter.Execute(&b, struct{ Version, Domain string }{version, domain}); err != nil {
		return nil, fmt.Errorf("rendering the starter inventory: %w", err)
	}
	if _, err := inventory.Parse(path, b.Bytes()); err != nil {
		return nil, fmt.Errorf("the starter inventory is invalid (a karana bug): %w", err)
	}
	return b.Bytes(), nil
}

func initRun(opts *Options) error {
	data, err := Render(opts.Version, opts.Domain, opts.Out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(opts.Out), 0o755); err != nil {
		return fmt.Errorf("creating the inventory's folder: %w", err)
	}
	if err := fsutil.WriteNew(opts.Out, data, 0o644); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; karana init never overwrites an inventory: edit it, or write elsewhere with --out", opts.Out)
		}
		return err
	}
	inv := ""
	if opts.Out != inventory.DefaultPath {
		inv = " -i " + opts.Out
	}
	fmt.Fprintf(opts.IO.Out, "wrote %s: this host, 10.0.12.0/24, lb0/lb1/lb2, production images, no tenants\n", opts.Out)
	// No sudo in the hints: it drops $KARANA_INVENTORY, and the commands
	// would read another file.
	fmt.Fprintf(opts.IO.Out, "next, as root:\n  karana inventory validate%s\n  karana up%s\n  karana tenant add acme --domain acme.%s%s\n", inv, inv, opts.Domain, inv)
	return nil
}
