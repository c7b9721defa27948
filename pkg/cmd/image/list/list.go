// Package list implements `karana image list`.
package list

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana image list`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(context.Context, *inventory.Inventory) (lxd.Client, error)
	Mirror    string
	Output    string
}

// NewCmdList returns `karana image list`. runF replaces the run function
// in tests.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List each role's image and whether it is up to date",
		Long: cmdutil.Dedent(`
			For each role, show the alias from the inventory, the image it points at,
			and its state: current (built from karana's present recipe), stale (built
			from another recipe: run karana image build), missing, other (an image
			karana did not build), remote (installed from an image server) or standin
			(the test Grafana image built by make e2e-images).`),
		Example: cmdutil.Dedent(`
			$ karana image list
			$ karana image list -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Mirror, "mirror", "", "Debian mirror the images are compared against (as given to build)")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// Row is one role's image.
type Row struct {
	Role        string            `json:"role"`
	Alias       string            `json:"alias"`
	State       string            `json:"state"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Size        int64             `json:"size,omitempty"`
	Created     string            `json:"created,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
}

func listRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	scoped := *inv
	scoped.LXD.Project = "default" // where karana's shared images live
	c, err := opts.Connect(ctx, &scoped)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	var rows []Row
	for _, role := range image.Roles {
		row, err := describe(ctx, c, inv, role, image.HostBase(opts.Mirror))
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, rows)
	}
	fmt.Fprintf(opts.IO.Out, "%-9s %-24s %-8s %-12s %8s  %s\n", "ROLE", "ALIAS", "STATE", "FINGERPRINT", "SIZE", "CREATED")
	for _, r := range rows {
		fp := r.Fingerprint
		if len(fp) > 12 {
			fp = fp[:12]
		}
		fmt.Fprintf(opts.IO.Out, "%-9s %-24s %-8s %-12s %8s  %s\n", r.Role, r.Alias, r.State, dash(fp), size(r.Size), dash(r.Created))
	}
	return nil
}

func describe(ctx context.Context, c lxd.Client, inv *inventory.Inventory, role string, base image.Base) (Row, error) {
	row := Row{Role: role, Alias: image.Alias(inv, role)}
	if image.IsRemote(row.Alias) {
		row.State = "remote"
		return row, nil
	}
	img, err := c.GetImage(ctx, row.Alias)
	if errors.Is(err, lxd.ErrNotFound) {
		row.State = "missing"
		return row, nil
	}
	if err != nil {
		return row, err
	}
	row.Fingerprint, row.Size, row.Properties = img.Fingerprint, img.Size, img.Properties
	row.Created = img.CreatedAt.UTC().Format("2006-01-02 15:04")
	if v := img.Properties["karana.variant"]; v != "" {
		row.State = v // a test image: not compared with the production recipe
		return row, nil
	}
	r, err := image.RecipeFor(role)
	if err != nil {
		return row, err
	}
	switch img.Properties["karana.recipe"] {
	case "":
		row.State = "other"
	case r.Hash(base):
		row.State = "current"
	default:
		row.State = "stale"
	}
	return row, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func size(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMB", float64(n)/1e6)
}
