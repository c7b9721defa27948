package converge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// Config keys that mark what karana made, so that `status` and `tenant
// remove` find a tenant's containers even when the inventory lost it.
const (
	KeyRole   = "user.karana.role"
	KeyTenant = "user.karana.tenant"
)

// RawLXC mounts /sys read-only, as systemd's container interface wants:
// with a read-write /sys, systemd-networkd waits for a udev that minimal
// images do not run, and eth0 never gets its address.
const RawLXC = "lxc.mount.auto=sys:ro"

// RoleBalancer marks balancer containers.
const RoleBalancer = "balancer"

// ensureContainer makes spec exist and run. started tells whether it was
// created or (re)started now, so the caller waits for it to boot.
func (e *Engine) ensureContainer(ctx context.Context, spec lxd.InstanceSpec) (string, bool, error) {
	in, err := e.LXD.GetInstance(ctx, spec.Name)
	return e.ensureFound(ctx, spec, in, err)
}

// ensureFound is ensureContainer given what GetInstance answered.
func (e *Engine) ensureFound(ctx context.Context, spec lxd.InstanceSpec, in *lxd.Instance, err error) (string, bool, error) {
	if errors.Is(err, lxd.ErrNotFound) {
		if e.DryRun {
			return "would create from " + spec.Image, false, nil
		}
		if err := e.LXD.CreateInstance(ctx, spec); err != nil {
			return "", false, err
		}
		if err := e.LXD.StartInstance(ctx, spec.Name); err != nil {
			return "", false, fmt.Errorf("starting container %q: %w", spec.Name, err)
		}
		return "created", true, nil
	}
	if err != nil {
		return "", false, err
	}
	var did []string
	if e.DryRun {
		if !configCovers(in.Config, spec.Config) {
			did = append(did, "would update config")
		}
	} else {
		changed, err := e.LXD.UpdateInstance(ctx, spec)
		if err != nil {
			return "", false, err
		}
		if changed {
			did = append(did, "config updated")
		}
	}
	if in.Status != "Running" {
		if e.DryRun {
			return strings.Join(append(did, "would start"), ", "), false, nil
		}
		if err := e.start(ctx, spec.Name); err != nil {
			return "", false, err
		}
		return strings.Join(append(did, "started"), ", "), true, nil
	}
	return strings.Join(did, ", "), false, nil
}

func configCovers(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// start starts a container, waiting while LXD still runs an operation on
// it: a run killed during creation leaves LXD finishing the create.
func (e *Engine) start(ctx context.Context, name string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := e.LXD.StartInstance(ctx, name)
		if err == nil || !errors.Is(err, lxd.ErrBusy) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("starting container %q: %w", name, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitBooted waits until systemd in container answers and has left early
// boot, so that systemctl can queue jobs. It does not wait for every boot
// job (--wait): a unit karana does not need may take long or never finish.
func (e *Engine) waitBooted(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last error
	for {
		ectx, ecancel := context.WithTimeout(ctx, 5*time.Second)
		code, err := e.LXD.Exec(ectx, name, []string{"sh", "-c", bootedScript}, nil, io.Discard, io.Discard)
		ecancel()
		switch {
		case err != nil:
			last = err
		case code == 0:
			return nil
		default:
			last = fmt.Errorf("systemd is %s", bootState(code))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %q did not finish booting: %w", name, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// bootedScript exits 0 once systemd runs (degraded and starting count:
// systemctl can queue jobs), else with the code of its state (bootState):
// only the exit code travels back, no output is recorded and fetched.
const bootedScript = `case "$(systemctl is-system-running 2>/dev/null)" in ` +
	`running|degraded|starting) exit 0;; initializing) exit 10;; offline) exit 11;; ` +
	`maintenance) exit 12;; stopping) exit 13;; "") exit 14;; *) exit 15;; esac`

func bootState(code int) string {
	switch code {
	case 10:
		return `"initializing"`
	case 11:
		return `"offline"`
	case 12:
		return `"maintenance"`
	case 13:
		return `"stopping"`
	case 14:
		return "not answering"
	}
	return fmt.Sprintf("in an unknown state (exit %d)", code)
}

// limits are the tenant's limits over the inventory's.
func limits(inv *inventory.Inventory, t inventory.Tenant) inventory.Limits {
	l := inv.Limits
	if t.Limits.CPU != "" {
		l.CPU = t.Limits.CPU
	}
	if t.Limits.Memory != "" {
		l.Memory = t.Limits.Memory
	}
	if t.Limits.Disk != "" {
		l.Disk = t.Limits.Disk
	}
	return l
}

// TenantSpec is the container of tenant t's role r.
func TenantSpec(inv *inventory.Inventory, t inventory.Tenant, r inventory.Role) lxd.InstanceSpec {
	cfg := map[string]string{KeyRole: string(r), KeyTenant: t.Name, "raw.lxc": RawLXC}
	l := limits(inv, t)
	if l.CPU != "" {
		cfg["limits.cpu"] = l.CPU
	}
	if l.Memory != "" {
		cfg["limits.memory"] = l.Memory
	}
	spec := lxd.InstanceSpec{
		Name: t.ContainerName(r), Image: ImageOf(inv, r), Profile: inv.LXD.Profile,
		Network: inv.LXD.Network.Name, IPv4: inv.TenantAddr(t, r).String(),
		Target: t.Target, Config: cfg,
	}
	if l.Disk != "" {
		spec.Devices = map[string]map[string]string{
			"root": {"type": "disk", "path": "/", "pool": inv.LXD.Storage.Pool, "size": l.Disk},
		}
	}
	return spec
}

// ImageOf is the image of role r.
func ImageOf(inv *inventory.Inventory, r inventory.Role) string {
	switch r {
	case inventory.RoleInfluxDB:
		return inv.Images.InfluxDB
	case inventory.RoleGrafana:
		return inv.Images.Grafana
	case inventory.RoleAPI:
		return inv.Images.API
	}
	return inv.Images.Balancer
}

// IsRemoteImage tells an image pulled from an image server ("images:debian/12")
// from a local alias.
func IsRemoteImage(image string) bool { return strings.Contains(image, ":") }

// BalancerSpec is the container of the i-th balancer (0 = lb0).
func BalancerSpec(inv *inventory.Inventory, i int) lxd.InstanceSpec {
	names := BalancerNames(inv)
	devs := map[string]map[string]string{}
	if !inv.LXD.Remote() {
		// A remote daemon's runtime sockets are reached through LXD
		// exec (balancer.RuntimeFor): nothing listens on its host.
		devs[balancer.SocketDeviceName] = balancer.SocketDevice(inv, names[i])
	}
	o := inv.Balancers.Outer
	if i == 0 && o.Publish {
		for name, port := range map[string]int{"karana-http": o.HTTPPort, "karana-https": o.HTTPSPort} {
			devs[name] = map[string]string{
				"type": "proxy", "listen": fmt.Sprintf("tcp:0.0.0.0:%d", port),
				"connect": fmt.Sprintf("tcp:127.0.0.1:%d", port),
			}
		}
	}
	return lxd.InstanceSpec{
		Name: names[i], Image: inv.Images.Balancer, Profile: inv.LXD.Profile,
		Network: inv.LXD.Network.Name, IPv4: inv.BalancerAddr(i).String(),
		Config: map[string]string{KeyRole: RoleBalancer, "raw.lxc": RawLXC}, Devices: devs,
	}
}

// BalancerNames are lb0 then the inner balancers.
func BalancerNames(inv *inventory.Inventory) []string {
	return append([]string{inv.Balancers.Outer.Name}, inv.Balancers.Inner...)
}
