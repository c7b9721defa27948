package converge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/secrets"
)

// ServiceTimeout bounds how long a service may take to answer after its
// container started or its configuration changed.
const ServiceTimeout = 90 * time.Second

// Tenant converges tenant t: its credentials, then its three containers
// in parallel (created with their limits, booted, configured, healthy).
func (e *Engine) Tenant(ctx context.Context, t inventory.Tenant) error {
	var sec *secrets.Tenant
	err := e.Step(t.Name, t.Name+" credentials", "credentials of "+t.Name, func() (string, error) {
		if e.DryRun {
			s, err := e.Secrets.Load(t.Name)
			if errors.Is(err, fs.ErrNotExist) {
				return "would generate", nil
			}
			sec = s
			return "", err
		}
		if err := e.secretsNotLost(ctx, t); err != nil {
			return "", err
		}
		s, created, err := e.Secrets.Ensure(t.Name, secrets.APIAdminLogin(t.Domain))
		sec = s
		if created {
			return "generated in " + e.Secrets.Path(t.Name), err
		}
		return "", err
	})
	if err != nil {
		return err
	}
	names := make([]string, len(inventory.Roles))
	for i, r := range inventory.Roles {
		names[i] = t.ContainerName(r)
	}
	e.Progress.Start("containers %s", strings.Join(names, ", "))
	errs := make([]error, len(inventory.Roles))
	var wg sync.WaitGroup
	for i, r := range inventory.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.tenantRole(ctx, t, r, sec)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.Progress.Fail(firstLine(err.Error()))
		return err
	}
	e.Progress.End(e.summary(names))
	return nil
}

// secretsNotLost refuses to generate credentials for a tenant whose
// containers exist: they hold the passwords of a secrets file that is
// gone, and new ones would be written into Grafana's and the API's files
// while InfluxDB keeps the old admin (a copy of the inventory's folder put
// back, or a host rebuilt without secrets/).
func (e *Engine) secretsNotLost(ctx context.Context, t inventory.Tenant) error {
	if _, err := e.Secrets.Load(t.Name); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or unreadable: Ensure says so
	}
	errs := make([]error, len(inventory.Roles))
	var wg sync.WaitGroup
	for i, r := range inventory.Roles { // at once: this is on every new tenant's path
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.LXD.GetInstance(ctx, t.ContainerName(r))
		}()
	}
	wg.Wait()
	var have []string
	for i, r := range inventory.Roles {
		if errs[i] == nil {
			have = append(have, t.ContainerName(r))
		} else if !errors.Is(errs[i], lxd.ErrNotFound) {
			return errs[i]
		}
	}
	if len(have) == 0 {
		return nil
	}
	return fmt.Errorf("%s is missing but %s exist and use the passwords it held: put the file back "+
		"(from a copy of the inventory's folder) instead of having new ones generated, or remove the tenant "+
		"(karana tenant remove %s) and add it again", e.Secrets.Path(t.Name), strings.Join(have, ", "), t.Name)
}

func (e *Engine) summary(names []string) string {
	var parts []string
	for _, r := range e.Report.Rows() {
		for _, n := range names {
			if r.Object == n && r.Changed() {
				parts = append(parts, n+" "+r.Result())
			}
		}
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, "; ")
}

// tenantRole converges one container of t. Its error names the container
// and the step.
func (e *Engine) tenantRole(ctx context.Context, t inventory.Tenant, r inventory.Role, sec *secrets.Tenant) error {
	name := t.ContainerName(r)
	fail := func(step string, err error) error {
		e.Report.Note(t.Name, name, "failed")
		return &StepError{Step: step, Object: name, Err: err}
	}
	spec := TenantSpec(e.Inv, t, r)
	pt := provision.Tenant{Inv: e.Inv, T: t, Secrets: sec, Binary: e.Binary}
	in, getErr := e.LXD.GetInstance(ctx, spec.Name)
	role, created, preloaded, err := e.createPreloaded(ctx, spec, pt, r, getErr)
	var cerr *configError
	if errors.As(err, &cerr) {
		return fail("configuration", cerr.err)
	}
	if err != nil {
		return fail("container", err)
	}
	if preloaded {
		// Two notes: recovery.Created looks for "created".
		e.Report.Note(t.Name, name, "created")
		e.Report.Note(t.Name, name, "configured before its first boot")
	} else {
		did := "created"
		if !created {
			did, _, err = e.ensureFound(ctx, spec, in, getErr)
			if err != nil {
				return fail("container", err)
			}
		}
		e.Report.Note(t.Name, name, did)
		if e.DryRun {
			return e.dryRole(ctx, t, r, sec, strings.HasPrefix(did, "would create"))
		}
		// Also when it was running already: a run killed just after
		// starting it leaves it booting, and systemctl cannot reach
		// systemd yet ("Failed to connect to bus"). One exec when booted.
		if err := e.waitBooted(ctx, name); err != nil {
			return fail("boot", err)
		}
		if r == inventory.RoleAPI {
			git, err := e.LXD.FileExists(ctx, name, gitPath)
			if err != nil {
				return fail("configuration", err)
			}
			pt.NoGit = !git
		}
		if r == inventory.RoleGrafana {
			if err := e.freshGrafana(ctx, name); err != nil {
				return fail("configuration", err)
			}
		}
		role = provision.ForRole(pt, r)
		did, err = provision.Apply(ctx, e.LXD, name, role, IsRemoteImage(spec.Image))
		if err != nil {
			return fail("configuration", err)
		}
		e.Report.Note(t.Name, name, did)
	}
	addr := e.Inv.TenantAddr(t, r)
	if err := e.WaitHealthy(ctx, addr, role.Probe, ServiceTimeout); err != nil {
		e.Report.Health(t.Name, name, "unhealthy")
		return fail("health", err)
	}
	if r == inventory.RoleInfluxDB {
		url := fmt.Sprintf("http://%s:%d", addr, role.Probe.Port)
		if err := e.Bootstrap(ctx, url, sec.InfluxDB); err != nil {
			return fail("admin user", err)
		}
	}
	e.Report.Health(t.Name, name, "healthy")
	return nil
}

// gitPath is the git the API versions its store with.
const gitPath = "/usr/bin/git"

// createPreloaded creates a missing container (getErr is GetInstance's
// ErrNotFound) as a copy of its role's template (template.go), or from its
// local image when none is ready, and configures it before its first boot
// (provision.Preload), so that the services start once, configured: about
// a second per container instead of booting, configuring and restarting
// them. preloaded is false when the container exists, the image is remote
// or a dry run asks; the caller then converges it the usual way. An image
// that cannot be preloaded is started as it is and left to the usual way
// too.
func (e *Engine) createPreloaded(ctx context.Context, spec lxd.InstanceSpec, pt provision.Tenant, r inventory.Role, getErr error) (role provision.Role, created, preloaded bool, err error) {
	if e.DryRun || IsRemoteImage(spec.Image) || !errors.Is(getErr, lxd.ErrNotFound) {
		return role, false, false, nil
	}
	spec.CopyOf = e.readyTemplate(ctx, spec, r)
	if err := e.LXD.CreateInstance(ctx, spec); err != nil {
		if spec.CopyOf == "" {
			return role, false, false, err
		}
		// A template that cannot be copied: from the image, as without.
		spec.CopyOf = ""
		if err := e.LXD.CreateInstance(ctx, spec); err != nil {
			return role, false, false, err
		}
	}
	if r == inventory.RoleAPI {
		git, err := e.LXD.FileExists(ctx, spec.Name, gitPath)
		if err != nil {
			return role, false, false, err
		}
		pt.NoGit = !git
	}
	role = provision.ForRole(pt, r)
	perr := provision.Preload(ctx, e.LXD, spec.Name, role)
	if perr != nil && !errors.Is(perr, provision.ErrNotPreloadable) {
		return role, false, false, &configError{perr}
	}
	if err := e.LXD.StartInstance(ctx, spec.Name); err != nil {
		return role, false, false, fmt.Errorf("starting container %q: %w", spec.Name, err)
	}
	return role, true, perr == nil, nil
}

// configError marks a createPreloaded error of the configuration step.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }

// dryRole says what tenantRole would change in an existing container.
func (e *Engine) dryRole(ctx context.Context, t inventory.Tenant, r inventory.Role, sec *secrets.Tenant, missing bool) error {
	name := t.ContainerName(r)
	if missing || sec == nil {
		e.Report.Note(t.Name, name, "would configure")
		return nil
	}
	role := provision.ForRole(provision.Tenant{Inv: e.Inv, T: t, Secrets: sec, Binary: e.Binary}, r)
	d, err := provision.Diff(ctx, e.LXD, name, role)
	if err != nil && !errors.Is(err, lxd.ErrNotFound) && !errors.Is(err, lxd.ErrNotRunning) {
		return &StepError{Step: "configuration", Object: name, Err: err}
	}
	if len(d) > 0 {
		e.Report.Note(t.Name, name, "would write "+strings.Join(d, ", "))
	}
	if err := provision.Check(ctx, e.Inv.TenantAddr(t, r), role.Probe); err != nil {
		e.Report.Health(t.Name, name, "unhealthy")
	} else {
		e.Report.Health(t.Name, name, "healthy")
	}
	return nil
}

// freshGrafana forgets what Grafana stored when it first started with the
// image's grafana.ini: it takes admin_password only on its first start, so
// the first start that counts must be the one with karana's grafana.ini.
// A grafana.ini karana wrote means this was done; nothing is wiped then.
func (e *Engine) freshGrafana(ctx context.Context, name string) error {
	have, err := e.LXD.PullFile(ctx, name, provision.GrafanaIniPath)
	if err != nil && !errors.Is(err, lxd.ErrNotFound) {
		return err
	}
	if bytes.HasPrefix(have, []byte(provision.GrafanaHeader)) {
		return nil
	}
	_, err = provision.Run(ctx, e.LXD, name, "sh", "-c", "systemctl stop "+provision.GrafanaUnit+" && rm -rf /var/lib/grafana/*")
	return err
}
