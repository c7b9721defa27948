// Package build implements `karana image build`.
package build

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// BuildFunc is image.Build; tests replace it.
type BuildFunc func(ctx context.Context, c lxd.Client, role string, opts image.Options) (string, bool, error)

// Options of `karana image build`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(context.Context, *inventory.Inventory) (lxd.Client, error)
	Build     BuildFunc
	// EnsureLXD installs and starts a local LXD before images are imported
	// into it (host.EnsureLXD); nil skips that.
	EnsureLXD func(context.Context, host.Progress) (bool, error)

	Roles    []string // --role; empty means every role
	Force    bool
	Alias    string // --alias, with exactly one --role
	Standin  string // --grafana-standin: test image with the Grafana stand-in
	Mirror   string
	CacheDir string
	Output   string
}

// NewCmdBuild returns `karana image build`. runF replaces the run
// function in tests.
func NewCmdBuild(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Build: image.Build, EnsureLXD: host.EnsureLXD}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the containers' images with debootstrap and import them into LXD",
		Long: cmdutil.Dedent(`
			Build the image of each role (balancer, influxdb, grafana, api) without an
			image server: a Debian base tree is debootstrapped once and cached under
			/var/cache/karana, copied per role, the role's packages are installed in a
			chroot, and the result is imported into LXD under the alias the inventory
			names in images.<role>.

			A role whose alias already holds an image of the same recipe is skipped
			(--force rebuilds it). Roles whose images.<role> names a remote image
			("images:debian/12") are not built. Fingerprints are recorded in
			images.lock.yaml beside the inventory. Needs root (debootstrap, chroot).`),
		Example: cmdutil.Dedent(`
			$ sudo karana image build
			$ sudo karana image build --role balancer --role api --force
			$ sudo karana image build --mirror http://ftp.de.debian.org/debian
			$ sudo karana image build -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if err := checkFlags(opts); err != nil {
				return cmdutil.UsageError(err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return buildRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.Roles, "role", nil, "role to build: balancer, influxdb, grafana or api (repeatable; default all)")
	fl.BoolVar(&opts.Force, "force", false, "rebuild even when the image is up to date")
	fl.StringVar(&opts.Alias, "alias", "", "import under this alias instead of images.<role> (one --role only)")
	fl.StringVar(&opts.Standin, "grafana-standin", "", "TEST ONLY: build the grafana image from this stand-in binary")
	_ = fl.MarkHidden("grafana-standin")
	fl.StringVar(&opts.Mirror, "mirror", "", "Debian mirror (default "+image.DefaultMirror+")")
	fl.StringVar(&opts.CacheDir, "cache-dir", image.DefaultCacheDir, "folder for the debootstrap base tree and downloads")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func checkFlags(opts *Options) error {
	for i, r := range opts.Roles {
		n, err := image.NormalizeRole(r)
		if err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		opts.Roles[i] = n
	}
	if opts.Alias != "" && len(opts.Roles) != 1 {
		return errors.New("--alias needs exactly one --role")
	}
	if opts.Standin != "" && len(opts.Roles) > 0 && !slices.Contains(opts.Roles, "grafana") {
		return errors.New("--grafana-standin applies to the grafana role, which --role leaves out")
	}
	return nil
}

// Result is one role's outcome, as printed and as -o json.
type Result struct {
	Role        string `json:"role"`
	Alias       string `json:"alias"`
	Fingerprint string `json:"fingerprint,omitempty"`
	State       string `json:"state"` // built, unchanged, remote, failed
	Error       string `json:"error,omitempty"`
}

func buildRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	progress := cmdutil.NewProgress(opts.IO)
	if opts.EnsureLXD != nil && strings.HasPrefix(inv.LXD.Endpoint, "unix") {
		// A fresh host: the images go into an LXD that may not be there yet.
		if _, err := opts.EnsureLXD(ctx, progress); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("installing or starting LXD: %w", err))
		}
	}
	c, err := opts.Connect(ctx, imageScope(inv))
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	roles := opts.Roles
	if len(roles) == 0 {
		roles = image.Roles
	}
	var results []Result
	var errs []error
	// One role failing (say, an unreachable repository) does not keep
	// the others from being built.
	for _, role := range roles {
		res, err := buildOne(ctx, opts, inv, c, role, progress)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.State, res.Error = "failed", err.Error()
			errs = append(errs, err)
		}
		results = append(results, res)
	}
	if err := report(opts, results); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// imageScope points the connection at the default project: karana's
// projects share its images (features.images=false), and images may be
// built before ` + "`karana up`" + ` has created the project.
func imageScope(inv *inventory.Inventory) *inventory.Inventory {
	cp := *inv
	cp.LXD.Project = "default"
	return &cp
}

func buildOne(ctx context.Context, opts *Options, inv *inventory.Inventory, c lxd.Client, role string, p *cmdutil.Progress) (Result, error) {
	res := Result{Role: role, Alias: opts.Alias}
	if res.Alias == "" {
		res.Alias = image.Alias(inv, role)
	}
	if image.IsRemote(res.Alias) {
		res.State = "remote"
		return res, nil
	}
	bopts := image.Options{
		Alias: res.Alias, Force: opts.Force, CacheDir: opts.CacheDir, Progress: p,
		Base: image.HostBase(opts.Mirror), LockFile: image.LockPath(inv.Path),
	}
	if opts.Standin != "" && role == "grafana" {
		r, err := image.StandinRecipe(opts.Standin)
		if err != nil {
			return res, err
		}
		bopts.Recipe = &r
	}
	fp, changed, err := opts.Build(ctx, c, role, bopts)
	if err != nil {
		return res, err
	}
	res.Fingerprint, res.State = fp, "unchanged"
	if changed {
		res.State = "built"
	}
	return res, nil
}

func report(opts *Options, results []Result) error {
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, results)
	}
	for _, r := range results {
		fp := r.Fingerprint
		if len(fp) > 12 {
			fp = fp[:12]
		}
		if fp == "" {
			fp = "-"
		}
		fmt.Fprintf(opts.IO.Out, "%-9s %-24s %-12s %s\n", r.Role, r.Alias, fp, r.State)
	}
	return nil
}
