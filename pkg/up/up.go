// Package up converges a host to an inventory: LXD installed and running,
// initialised (storage pool, bridge, project, profile), images present,
// the balancers and every tenant. It is `karana up` without the flags.
package up

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// Deps are the parts `up` drives; the command wires the real ones and
// tests fakes.
type Deps struct {
	// EnsureLXD installs and starts LXD (host.EnsureLXD).
	EnsureLXD func(ctx context.Context, p host.Progress) (bool, error)
	// PlanLXD says what EnsureLXD would do (--dry-run).
	PlanLXD func(ctx context.Context) ([]string, error)
	// Connect reaches the inventory's LXD daemon.
	Connect func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	// BuildImage builds the image alias and imports it.
	BuildImage func(ctx context.Context, c lxd.Client, inv *inventory.Inventory, role, alias string) error
	// Validate checks rendered configurations (render.Validate).
	Validate func(ctx context.Context, o *render.Output) error
	// Binary is the karana executable for the API containers.
	Binary func() ([]byte, error)
}

// Run converges everything. The engine's report holds the summary.
func Run(ctx context.Context, e *converge.Engine, d Deps) error {
	if err := hostLXD(ctx, e, d); err != nil {
		return err
	}
	if e.LXD == nil {
		c, err := d.Connect(ctx, e.Inv)
		if err != nil {
			if e.DryRun {
				e.Report.Note("lxd", "daemon", "would initialise")
				return nil
			}
			return &converge.StepError{Step: "connecting to LXD", Object: e.Inv.LXD.Endpoint, Err: err}
		}
		e.LXD = c
	}
	ctx = lxd.NetworkContext(ctx, e.Inv, e.LXD)
	if err := Initialise(ctx, e); err != nil {
		return err
	}
	if err := images(ctx, e, d); err != nil {
		return err
	}
	var out *render.Output
	err := e.Step("balancer", "configuration", "rendering balancer configuration", func() (string, error) {
		o, err := renderChecked(ctx, e, d)
		out = o
		if err != nil || o == nil {
			return "", err
		}
		if len(o.Generated) > 0 {
			return fmt.Sprintf("%d self-signed certificate(s) generated", len(o.Generated)), nil
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	if err := e.Balancers(ctx, out); err != nil {
		return err
	}
	if out != nil && !e.DryRun {
		// rendered/ shows what the balancers were given, so that
		// `balancer render --check` agrees with a converged host.
		if err := render.Write(render.DefaultDir(e.Inv), out); err != nil {
			return err
		}
	}
	if d.Binary != nil && e.Binary == nil && len(e.Inv.Tenants) > 0 {
		b, err := d.Binary()
		if err != nil {
			return fmt.Errorf("reading the karana binary for the API containers: %w", err)
		}
		e.Binary = b
	}
	if err := e.Templates(ctx); err != nil {
		return err
	}
	if err := tenants(ctx, e); err != nil {
		return err
	}
	if err := markHealthy(ctx, e); err != nil {
		return err
	}
	return certificates(ctx, e)
}

// markHealthy marks the tenant services this run found healthy UP on the
// inner balancers (Engine.MarkUp), so that up ends with every tenant
// answering through lb0 from both: on a first run a reload started their
// servers before the containers.
func markHealthy(ctx context.Context, e *converge.Engine) error {
	if e.DryRun || len(e.Inv.Tenants) == 0 {
		return nil
	}
	var healthy []string
	for _, r := range e.Report.Rows() {
		if r.Health == "healthy" && r.Kind != "balancer" {
			healthy = append(healthy, r.Object)
		}
	}
	return e.Step("balancer", "tenant servers", "tenant servers UP on "+strings.Join(e.Inv.Balancers.Inner, ", "), func() (string, error) {
		return "", e.MarkUp(ctx, healthy)
	})
}

// TenantsAtOnce bounds how many tenants up converges at the same time.
const TenantsAtOnce = 4

// tenants converges the inventory's tenants, TenantsAtOnce at a time: an
// unchanged tenant costs a few LXD round trips and an InfluxDB login
// (bcrypt), which add up one after another. Each tenant's steps are shown
// in inventory order once it and those before it are done. A failing
// tenant does not stop the others; the errors are returned together.
func tenants(ctx context.Context, e *converge.Engine) error {
	n := len(e.Inv.Tenants)
	steps := make([]*converge.Deferred, n)
	errs := make([]error, n)
	done := make([]chan struct{}, n)
	slots := make(chan struct{}, TenantsAtOnce)
	for i := range e.Inv.Tenants {
		steps[i], done[i] = &converge.Deferred{}, make(chan struct{})
	}
	go func() { // started in inventory order
		for i, t := range e.Inv.Tenants {
			slots <- struct{}{}
			te := *e
			te.Progress = steps[i]
			go func() {
				defer close(done[i])
				defer func() { <-slots }()
				errs[i] = te.Tenant(ctx, t)
			}()
		}
	}()
	for i := range e.Inv.Tenants {
		<-done[i]
		steps[i].Replay(e.Progress)
	}
	return errors.Join(errs...)
}

// certificates obtains the due ACME certificates (tls.acme), last: the
// CA's HTTP-01 requests need the tenants routed. A tenant that fails keeps
// its certificate; up then fails, and running it again retries.
func certificates(ctx context.Context, e *converge.Engine) error {
	if e.Inv.TLS.ACME == nil || e.DryRun || len(e.Inv.Tenants) == 0 {
		return nil
	}
	return e.Step("tls", "acme", "ACME certificates", func() (string, error) {
		res, err := acme.New(e.Inv, e.LXD, nil).Renew(ctx, false, nil)
		var did, failed []string
		for _, r := range res {
			switch r.Action {
			case acme.ActionObtained, acme.ActionRenewed:
				did = append(did, r.Tenant+" "+r.Action)
			case acme.ActionFailed:
				failed = append(failed, r.Tenant+": "+r.Summary())
			}
		}
		if len(failed) > 0 {
			return "", fmt.Errorf("%s (they keep their certificates; karana certs renew retries)", strings.Join(failed, "; "))
		}
		return strings.Join(did, ", "), err
	})
}

func hostLXD(ctx context.Context, e *converge.Engine, d Deps) error {
	if !strings.HasPrefix(e.Inv.LXD.Endpoint, "unix") {
		// A remote daemon is installed on its own host; here karana only
		// connects to it (and the connection checks it trusts us).
		e.Progress.Start("LXD at %s", e.Inv.LXD.Endpoint)
		e.Progress.End("remote: not installed from here")
		return nil
	}
	if e.DryRun {
		return e.Step("host", "LXD", "LXD installed and running", func() (string, error) {
			plan, err := d.PlanLXD(ctx)
			if err != nil || len(plan) == 0 {
				return "", err
			}
			return "would " + strings.Join(plan, ", then "), nil
		})
	}
	changed, err := d.EnsureLXD(ctx, e.Progress)
	if err != nil {
		e.Report.Note("host", "LXD", "failed")
		return &converge.StepError{Step: "LXD installed and running", Object: "host", Err: err}
	}
	if changed {
		e.Report.Note("host", "LXD", "installed/started")
	} else {
		e.Report.Note("host", "LXD", "")
	}
	return nil
}

// Initialise creates the storage pool, bridge, project and profile.
func Initialise(ctx context.Context, e *converge.Engine) error {
	l := e.Inv.LXD
	steps := []struct {
		object, title string
		fn            func() (bool, error)
	}{
		{"storage pool " + l.Storage.Pool, "storage pool " + l.Storage.Pool + " (" + driverWord(l.Storage.Driver) + ")",
			func() (bool, error) { return ensurePool(ctx, e, l.Storage) }},
		{"network " + l.Network.Name, "bridge " + l.Network.Name + " " + l.Network.IPv4,
			func() (bool, error) { return e.LXD.EnsureNetwork(ctx, l.Network.Name, l.Network.IPv4) }},
		{"project " + l.Project, "project " + l.Project,
			func() (bool, error) { return e.LXD.EnsureProject(ctx, l.Project) }},
		{"profile " + l.Profile, "profile " + l.Profile,
			func() (bool, error) { return e.LXD.EnsureProfile(ctx, l.Profile, l.Storage.Pool, l.Network.Name) }},
	}
	for _, s := range steps {
		if e.DryRun {
			// Ensure* cannot be asked without acting: say what would be done.
			e.Progress.Start("%s", s.title)
			e.Progress.End("would create when missing")
			e.Report.Note("lxd", s.object, "")
			continue
		}
		err := e.Step("lxd", s.object, s.title, func() (string, error) {
			changed, err := s.fn()
			if changed {
				return "created or updated", err
			}
			return "", err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func driverWord(d string) string {
	if d == "" {
		return lxd.DefaultDriver + " unless it exists"
	}
	return d
}

// ensurePool creates the storage pool when it is missing: btrfs on a loop
// file unless the inventory names a driver or a source. Creating a btrfs
// pool needs mkfs.btrfs on the LXD host: btrfs-progs is installed first
// when it is missing and the daemon is local. An existing pool is used with
// its driver (a dir pool made before btrfs was the default keeps working).
func ensurePool(ctx context.Context, e *converge.Engine, s inventory.Storage) (bool, error) {
	want := lxd.StoragePool{Name: s.Pool, Driver: s.Driver, Source: s.Source, Size: s.Size}
	_, err := e.LXD.StoragePoolDriver(ctx, s.Pool)
	if errors.Is(err, lxd.ErrNotFound) && (s.Driver == "" || s.Driver == "btrfs") && strings.HasPrefix(e.Inv.LXD.Endpoint, "unix") && EnsureBtrfsProgs != nil {
		if err := EnsureBtrfsProgs(ctx); err != nil {
			return false, fmt.Errorf("storage pool %s needs btrfs-progs (mkfs.btrfs): %w; or set lxd.storage.driver: dir", s.Pool, err)
		}
	} else if err != nil && !errors.Is(err, lxd.ErrNotFound) {
		return false, err
	}
	return e.LXD.EnsureStoragePool(ctx, want)
}

// EnsureBtrfsProgs installs btrfs-progs when mkfs.btrfs is missing
// (host.EnsurePackage); tests replace it.
var EnsureBtrfsProgs = func(ctx context.Context) error {
	return host.EnsureCommand(ctx, "mkfs.btrfs", "btrfs-progs")
}

// images makes sure every local image the inventory names exists.
func images(ctx context.Context, e *converge.Engine, d Deps) error {
	seen := map[string]bool{}
	for _, r := range []inventory.Role{converge.RoleBalancer, inventory.RoleInfluxDB, inventory.RoleGrafana, inventory.RoleAPI} {
		alias := converge.ImageOf(e.Inv, r)
		role := string(r)
		if seen[alias] {
			continue
		}
		seen[alias] = true
		err := e.Step("image", alias, "image "+alias, func() (string, error) {
			if converge.IsRemoteImage(alias) {
				return "", nil // pulled by LXD when a container is created
			}
			_, err := e.LXD.ImageFingerprint(ctx, alias)
			if err == nil || !errors.Is(err, lxd.ErrNotFound) {
				return "", err
			}
			if e.DryRun {
				return "would build", nil
			}
			if d.BuildImage == nil {
				return "", fmt.Errorf("image %q is missing: build it with `karana image build`", alias)
			}
			return "built", d.BuildImage(ctx, e.LXD, e.Inv, role, alias)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// renderChecked renders the balancer files and checks them with
// Deps.Validate. A dry run generates no certificates.
func renderChecked(ctx context.Context, e *converge.Engine, d Deps) (*render.Output, error) {
	o, err := render.Render(e.Inv, render.Options{GenerateCerts: !e.DryRun})
	if err != nil {
		return nil, err
	}
	if e.DryRun && len(o.Missing) > 0 {
		return nil, nil
	}
	if d.Validate != nil {
		// lb0's configuration (render.ValidateOuter): the inner ones are
		// checked inside each balancer by the apply path.
		if err := d.Validate(ctx, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}
