package lxd

import (
	"context"
	"fmt"
	"maps"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"
)

// projectConfig shares images with the default project, so one image
// build serves every project, and keeps profiles per project.
var projectConfig = map[string]string{
	"features.images":   "false",
	"features.profiles": "true",
}

// EnsureProject creates the project, or brings its features to
// projectConfig.
func (c *client) EnsureProject(ctx context.Context, name string) (bool, error) {
	s := c.host(ctx)
	p, etag, err := s.GetProject(name)
	if isNotFound(err) {
		req := api.ProjectsPost{Name: name, ProjectPut: api.ProjectPut{
			Config:      maps.Clone(projectConfig),
			Description: "karana back end",
		}}
		if err := s.CreateProject(req); err != nil {
			return false, fmt.Errorf("creating project %q: %w", name, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting project %q: %w", name, err)
	}
	put := p.Writable()
	if !mergeConfig(&put.Config, projectConfig) {
		return false, nil
	}
	if err := s.UpdateProject(name, put, etag); err != nil {
		return false, fmt.Errorf("updating project %q: %w", name, err)
	}
	return true, nil
}

// EnsureNetwork creates a managed bridge with NAT and no IPv6, or brings
// an existing one's addresses to that.
func (c *client) EnsureNetwork(ctx context.Context, name, ipv4CIDR string) (bool, error) {
	want := map[string]string{
		"ipv4.address": ipv4CIDR,
		"ipv4.nat":     "true",
		"ipv6.address": "none",
	}
	s := c.host(ctx)
	n, etag, err := s.GetNetwork(name)
	if isNotFound(err) {
		req := api.NetworksPost{Name: name, Type: "bridge", NetworkPut: api.NetworkPut{
			Config:      maps.Clone(want),
			Description: "karana containers",
		}}
		err := c.pendingOnMembers(ctx, func(m lxdclient.InstanceServer) error {
			return m.CreateNetwork(api.NetworksPost{Name: name, Type: "bridge"})
		})
		if err != nil {
			return false, fmt.Errorf("creating network %q on the cluster members: %w", name, err)
		}
		if err := s.CreateNetwork(req); err != nil {
			return false, fmt.Errorf("creating network %q: %w", name, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting network %q: %w", name, err)
	}
	if !n.Managed || n.Type != "bridge" {
		return false, fmt.Errorf("network %q exists but is not a managed bridge (type %s)", name, n.Type)
	}
	put := n.Writable()
	if !mergeConfig(&put.Config, want) {
		return false, nil
	}
	if err := s.UpdateNetwork(name, put, etag); err != nil {
		return false, fmt.Errorf("updating network %q: %w", name, err)
	}
	return true, nil
}

// EnsureStoragePool creates the pool, or checks an existing one's driver
// when the pool names one: drivers cannot change, and an existing pool of
// another driver (a dir pool from before btrfs was the default) is used
// as it is when no driver is asked for.
func (c *client) EnsureStoragePool(ctx context.Context, pool StoragePool) (bool, error) {
	s := c.host(ctx)
	p, _, err := s.GetStoragePool(pool.Name)
	if isNotFound(err) {
		driver := pool.Driver
		if driver == "" {
			driver = DefaultDriver
		}
		cfg := map[string]string{}
		if pool.Source != "" {
			cfg["source"] = pool.Source
		}
		if pool.Size != "" && driver != "dir" {
			cfg["size"] = pool.Size
		}
		req := api.StoragePoolsPost{Name: pool.Name, Driver: driver,
			StoragePoolPut: api.StoragePoolPut{Description: "karana containers", Config: cfg}}
		// On a cluster, source and size are each member's own keys: they
		// go with the pending creation on every member, not the last one.
		clustered := false
		err := c.pendingOnMembers(ctx, func(m lxdclient.InstanceServer) error {
			clustered = true
			return m.CreateStoragePool(api.StoragePoolsPost{Name: pool.Name, Driver: driver,
				StoragePoolPut: api.StoragePoolPut{Config: maps.Clone(cfg)}})
		})
		if err != nil {
			return false, fmt.Errorf("creating storage pool %q on the cluster members: %w", pool.Name, err)
		}
		if clustered {
			req.Config = map[string]string{}
		}
		if err := s.CreateStoragePool(req); err != nil {
			return false, fmt.Errorf("creating storage pool %q (%s): %w", pool.Name, driver, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting storage pool %q: %w", pool.Name, err)
	}
	if pool.Driver != "" && p.Driver != pool.Driver {
		return false, fmt.Errorf("storage pool %q exists with driver %q, not %q: drivers cannot change; "+
			"omit lxd.storage.driver to use it as it is, or name another pool", pool.Name, p.Driver, pool.Driver)
	}
	return false, nil
}

// StoragePoolDriver returns the driver of an existing pool, ErrNotFound
// when there is none.
func (c *client) StoragePoolDriver(ctx context.Context, name string) (string, error) {
	p, _, err := c.host(ctx).GetStoragePool(name)
	if err != nil {
		return "", fmt.Errorf("getting storage pool %q: %w", name, notFound(err))
	}
	return p.Driver, nil
}

// EnsureProfile creates the profile in the client's project with the root
// disk on pool and eth0 on network, or brings those two devices back.
func (c *client) EnsureProfile(ctx context.Context, name, pool, network string) (bool, error) {
	want := map[string]map[string]string{
		"root": {"type": "disk", "path": "/", "pool": pool},
		"eth0": {"type": "nic", "name": "eth0", "network": network},
	}
	s := c.srv(ctx)
	p, etag, err := s.GetProfile(name)
	if isNotFound(err) {
		req := api.ProfilesPost{Name: name, ProfilePut: api.ProfilePut{
			Devices:     want,
			Config:      map[string]string{},
			Description: "karana containers: root disk and eth0",
		}}
		if err := s.CreateProfile(req); err != nil {
			return false, fmt.Errorf("creating profile %q in project %q: %w", name, c.project, err)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting profile %q: %w", name, err)
	}
	put := p.Writable()
	changed := false
	if put.Devices == nil {
		put.Devices = map[string]map[string]string{}
	}
	for dev, cfg := range want {
		if !maps.Equal(put.Devices[dev], cfg) {
			put.Devices[dev] = cfg
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	if err := s.UpdateProfile(name, put, etag); err != nil {
		return false, fmt.Errorf("updating profile %q: %w", name, err)
	}
	return true, nil
}

// mergeConfig sets want's keys in *cfg and reports whether any differed.
func mergeConfig(cfg *map[string]string, want map[string]string) bool {
	if *cfg == nil {
		*cfg = map[string]string{}
	}
	changed := false
	for k, v := range want {
		if (*cfg)[k] != v {
			(*cfg)[k] = v
			changed = true
		}
	}
	return changed
}

// pendingOnMembers runs create on each member of a cluster: LXD creates a
// cluster-wide network or storage pool only after it is pending on every
// member (with the member's own keys, none here). Not clustered: nothing.
func (c *client) pendingOnMembers(ctx context.Context, create func(lxdclient.InstanceServer) error) error {
	ms, err := c.Members(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := create(c.host(ctx).UseTarget(m.Name)); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
	}
	return nil
}
