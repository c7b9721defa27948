package lxd

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"strings"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"
)

// Remotes maps the remote part of "remote:alias" image names to
// simplestreams servers, as lxc's default remotes do.
var Remotes = map[string]string{
	"images":       "https://images.linuxcontainers.org",
	"ubuntu":       "https://cloud-images.ubuntu.com/releases",
	"ubuntu-daily": "https://cloud-images.ubuntu.com/daily",
}

// SplitImage splits "remote:alias" into its server URL and alias; a local
// alias returns an empty server.
func SplitImage(image string) (server, alias string, err error) {
	remote, a, ok := strings.Cut(image, ":")
	if !ok {
		return "", image, nil
	}
	server, known := Remotes[remote]
	if !known {
		return "", "", fmt.Errorf("image %q: unknown remote %q (known: images, ubuntu, ubuntu-daily)", image, remote)
	}
	return server, a, nil
}

// GetInstance returns the instance's status, eth0 IPv4 and config.
func (c *client) GetInstance(ctx context.Context, name string) (*Instance, error) {
	s := c.srv(ctx)
	full, _, err := s.GetInstanceFull(name)
	if err != nil {
		return nil, fmt.Errorf("getting container %q: %w", name, notFound(err))
	}
	in := toInstance(full)
	return &in, nil
}

// ListInstances returns every instance of the project.
func (c *client) ListInstances(ctx context.Context) ([]Instance, error) {
	list, err := c.srv(ctx).GetInstancesFull(api.InstanceTypeAny)
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %q: %w", c.project, err)
	}
	out := make([]Instance, 0, len(list))
	for i := range list {
		out = append(out, toInstance(&list[i]))
	}
	return out, nil
}

func toInstance(f *api.InstanceFull) Instance {
	in := Instance{Name: f.Name, Status: f.Status, Location: f.Location, Config: f.Config}
	if f.State != nil {
		if n, ok := f.State.Network["eth0"]; ok {
			for _, a := range n.Addresses {
				if a.Family == "inet" && a.Scope == "global" {
					in.IPv4 = a.Address
					break
				}
			}
		}
	}
	return in
}

// devices are the spec's devices plus eth0 with its fixed address.
func devices(spec InstanceSpec) map[string]map[string]string {
	devs := make(map[string]map[string]string, len(spec.Devices)+1)
	for k, v := range spec.Devices {
		devs[k] = maps.Clone(v)
	}
	if spec.Network != "" {
		eth0 := map[string]string{"type": "nic", "name": "eth0", "network": spec.Network}
		if spec.IPv4 != "" {
			eth0["ipv4.address"] = spec.IPv4
		}
		devs["eth0"] = eth0
	}
	return devs
}

func profiles(spec InstanceSpec) []string {
	if spec.Profile == "" {
		return []string{"default"}
	}
	return []string{spec.Profile}
}

// CreateInstance creates (does not start) the container from spec.Image.
func (c *client) CreateInstance(ctx context.Context, spec InstanceSpec) error {
	var src api.InstanceSource
	from := fmt.Sprintf("image %q", spec.Image)
	if spec.CopyOf != "" {
		src = api.InstanceSource{Type: "copy", Source: spec.CopyOf, InstanceOnly: true}
		from = fmt.Sprintf("template %q", spec.CopyOf)
	} else {
		server, alias, err := SplitImage(spec.Image)
		if err != nil {
			return fmt.Errorf("creating container %q: %w", spec.Name, err)
		}
		src = api.InstanceSource{Type: "image", Alias: alias}
		if server != "" {
			src.Server, src.Protocol, src.Mode = server, "simplestreams", "pull"
		}
	}
	req := api.InstancesPost{
		Name:   spec.Name,
		Type:   api.InstanceTypeContainer,
		Source: src,
		InstancePut: api.InstancePut{
			Config:   maps.Clone(spec.Config),
			Devices:  devices(spec),
			Profiles: profiles(spec),
		},
	}
	var s lxdclient.InstanceServer = c.srv(ctx)
	if spec.Target != "" {
		s = s.UseTarget(spec.Target)
	}
	op, err := s.CreateInstance(req)
	if err := c.wait(ctx, op, err); err != nil {
		return fmt.Errorf("creating container %q from %s: %w", spec.Name, from, err)
	}
	return nil
}

// templateInit is a template's init for the one start that has LXD shift
// its root file system: a sleep, so that nothing of the image runs (no
// machine id, no service state, no journal for the copies to inherit).
const templateInit = "lxc.init.cmd = /bin/sleep infinity"

// PrepareTemplate creates spec.Name from spec.Image, starts it once with
// templateInit, stops it and removes templateInit again. LXD shifts the
// owners of a container's files to its id map at its first start (0.3 s
// and more for each new container on LXD 5.0.2, docs/operations.md); a
// copy of the stopped template carries the shifted files and LXD's record
// of them (volatile.last_state.idmap), so its first start has nothing to
// shift. An instance left by a failed preparation is deleted.
func (c *client) PrepareTemplate(ctx context.Context, spec InstanceSpec) error {
	spec.Config = maps.Clone(spec.Config)
	if spec.Config == nil {
		spec.Config = map[string]string{}
	}
	spec.Config["raw.lxc"] = templateInit
	spec.CopyOf = ""
	if err := c.CreateInstance(ctx, spec); err != nil {
		return err
	}
	err := c.StartInstance(ctx, spec.Name)
	if err == nil {
		err = c.StopInstance(ctx, spec.Name, true)
	}
	if err == nil {
		err = c.dropConfig(ctx, spec.Name, "raw.lxc")
	}
	if err != nil {
		if derr := c.DeleteInstance(context.WithoutCancel(ctx), spec.Name); derr != nil {
			return fmt.Errorf("preparing template %q: %w (and deleting it: %v)", spec.Name, err, derr)
		}
		return fmt.Errorf("preparing template %q: %w", spec.Name, err)
	}
	return nil
}

// dropConfig removes key from the instance's config.
func (c *client) dropConfig(ctx context.Context, name, key string) error {
	s := c.srv(ctx)
	inst, etag, err := s.GetInstance(name)
	if err != nil {
		return fmt.Errorf("getting container %q: %w", name, notFound(err))
	}
	put := inst.Writable()
	delete(put.Config, key)
	op, err := s.UpdateInstance(name, put, etag)
	if err := c.wait(ctx, op, err); err != nil {
		return fmt.Errorf("updating container %q: %w", name, err)
	}
	return nil
}

// ownedConfig says which config keys karana manages: those it removes when
// the spec no longer has them. volatile.*, image.* and others stay.
func ownedConfig(key string) bool {
	return strings.HasPrefix(key, "user.karana.") || strings.HasPrefix(key, "limits.")
}

// UpdateInstance brings config, devices and profiles to spec, using the
// ETag so a concurrent change fails instead of being overwritten.
func (c *client) UpdateInstance(ctx context.Context, spec InstanceSpec) (bool, error) {
	s := c.srv(ctx)
	inst, etag, err := s.GetInstance(spec.Name)
	if err != nil {
		return false, fmt.Errorf("getting container %q: %w", spec.Name, notFound(err))
	}
	put := inst.Writable()
	cfg := maps.Clone(put.Config)
	if cfg == nil {
		cfg = map[string]string{}
	}
	for k := range cfg {
		if _, keep := spec.Config[k]; ownedConfig(k) && !keep {
			delete(cfg, k)
		}
	}
	maps.Copy(cfg, spec.Config)
	devs := devices(spec)
	if maps.Equal(cfg, put.Config) && sameDevices(devs, put.Devices) &&
		reflect.DeepEqual(profiles(spec), put.Profiles) {
		return false, nil
	}
	put.Config, put.Devices, put.Profiles = cfg, devs, profiles(spec)
	op, err := s.UpdateInstance(spec.Name, put, etag)
	if err := c.wait(ctx, op, err); err != nil {
		return false, fmt.Errorf("updating container %q: %w", spec.Name, err)
	}
	return true, nil
}

func sameDevices(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !maps.Equal(v, w) {
			return false
		}
	}
	return true
}

func (c *client) setState(ctx context.Context, name, action string, force bool) error {
	req := api.InstanceStatePut{Action: action, Timeout: -1, Force: force}
	if action == "stop" && !force {
		req.Timeout = 30
	}
	op, err := c.srv(ctx).UpdateInstanceState(name, req, "")
	if err := c.wait(ctx, op, notFound(err)); err != nil {
		return fmt.Errorf("%s container %q: %w", map[string]string{"start": "starting", "stop": "stopping"}[action], name, err)
	}
	return nil
}

// StartInstance starts a stopped container; starting a running one is a no-op.
func (c *client) StartInstance(ctx context.Context, name string) error {
	in, err := c.GetInstance(ctx, name)
	if err != nil {
		return err
	}
	if in.Status == "Running" {
		return nil
	}
	return c.setState(ctx, name, "start", false)
}

// StopInstance stops a running container; stopping a stopped one is a no-op.
func (c *client) StopInstance(ctx context.Context, name string, force bool) error {
	in, err := c.GetInstance(ctx, name)
	if err != nil {
		return err
	}
	if in.Status == "Stopped" {
		return nil
	}
	return c.setState(ctx, name, "stop", force)
}

// DeleteInstance stops (forcibly) and deletes the container. A missing
// container is ErrNotFound.
func (c *client) DeleteInstance(ctx context.Context, name string) error {
	if err := c.StopInstance(ctx, name, true); err != nil {
		return err
	}
	op, err := c.srv(ctx).DeleteInstance(name)
	if err := c.wait(ctx, op, notFound(err)); err != nil {
		return fmt.Errorf("deleting container %q: %w", name, err)
	}
	return nil
}
