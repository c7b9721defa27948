package lxd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"

	"github.com/karana-project/karana/pkg/inventory"
)

// Default sockets of the local daemon: the Debian package's, then the snap's.
const (
	DebianSocket = "/var/lib/lxd/unix.socket"
	SnapSocket   = "/var/snap/lxd/common/lxd/unix.socket"
)

// DefaultSocket is the snap's socket when it exists, else the Debian one.
func DefaultSocket() string {
	if _, err := os.Stat(SnapSocket); err == nil {
		return SnapSocket
	}
	return DebianSocket
}

// client implements Client over the LXD REST API, scoped to one project.
type client struct {
	base    lxdclient.InstanceServer
	project string
}

// ConnectInventory connects to the daemon the inventory names, resolving
// its certificate paths against the inventory's folder.
func ConnectInventory(ctx context.Context, inv *inventory.Inventory) (Client, error) {
	cfg := inv.LXD
	cfg.ClientCert = inv.Resolve(cfg.ClientCert)
	cfg.ClientKey = inv.Resolve(cfg.ClientKey)
	cfg.ServerCert = inv.Resolve(cfg.ServerCert)
	return Connect(ctx, cfg)
}

// Connect reaches the daemon at cfg.Endpoint ("unix", "unix:///path" or
// "https://host:8443") and scopes every call to cfg.Project. Certificate
// paths are used as given.
func Connect(ctx context.Context, cfg inventory.LXD) (Client, error) {
	srv, err := dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to LXD at %q: %w", cfg.Endpoint, err)
	}
	project := cfg.Project
	if project == "" {
		project = "default"
	}
	return &client{base: srv, project: project}, nil
}

func dial(ctx context.Context, cfg inventory.LXD) (lxdclient.InstanceServer, error) {
	ep := cfg.Endpoint
	switch {
	case ep == "" || ep == "unix":
		return lxdclient.ConnectLXDUnixWithContext(ctx, DefaultSocket(), nil)
	case strings.HasPrefix(ep, "unix://"):
		return lxdclient.ConnectLXDUnixWithContext(ctx, strings.TrimPrefix(ep, "unix://"), nil)
	case strings.HasPrefix(ep, "https://"):
		args, err := tlsArgs(cfg)
		if err != nil {
			return nil, err
		}
		return lxdclient.ConnectLXDWithContext(ctx, ep, args)
	}
	return nil, fmt.Errorf(`endpoint must be "unix", "unix:///path" or "https://host:port"`)
}

func tlsArgs(cfg inventory.LXD) (*lxdclient.ConnectionArgs, error) {
	if cfg.ClientCert == "" || cfg.ClientKey == "" {
		return nil, errors.New("an https endpoint needs client_cert and client_key")
	}
	args := &lxdclient.ConnectionArgs{}
	for _, f := range []struct {
		path string
		dst  *string
	}{{cfg.ClientCert, &args.TLSClientCert}, {cfg.ClientKey, &args.TLSClientKey}, {cfg.ServerCert, &args.TLSServerCert}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		*f.dst = string(b)
	}
	return args, nil
}

// srv returns the project-scoped server whose HTTP requests carry ctx.
// UseProject returns a fresh copy, so setting its context is race-free.
func (c *client) srv(ctx context.Context) lxdclient.InstanceServer {
	return c.in(ctx, c.project)
}

// host returns the server for host-level objects (pools, networks,
// projects), which live in the default project.
func (c *client) host(ctx context.Context) lxdclient.InstanceServer {
	return c.in(ctx, "default")
}

func (c *client) in(ctx context.Context, project string) lxdclient.InstanceServer {
	s := c.base.UseProject(project)
	if wc, ok := s.(interface {
		WithContext(context.Context) lxdclient.InstanceServer
	}); ok {
		s = wc.WithContext(ctx)
	}
	return s
}

// wait waits for op, cancelling it (best effort) when ctx ends first.
func wait(ctx context.Context, op lxdclient.Operation, err error) error {
	if err != nil {
		return err
	}
	if werr := op.WaitContext(ctx); werr != nil {
		if ctx.Err() != nil {
			_ = op.Cancel()
			return ctx.Err()
		}
		return werr
	}
	return nil
}

// notFound maps a 404 from LXD to ErrNotFound, keeping LXD's message.
func notFound(err error) error {
	if err != nil && api.StatusErrorCheck(err, http.StatusNotFound) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}

func isNotFound(err error) bool { return api.StatusErrorCheck(err, http.StatusNotFound) }

var _ Client = (*client)(nil)
