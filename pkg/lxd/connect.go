package lxd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

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

// ErrUntrusted is wrapped when a remote daemon does not trust the client
// certificate.
var ErrUntrusted = errors.New("client certificate not trusted")

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
		srv, err := connectHTTPS(ctx, cfg)
		if err != nil {
			return nil, err
		}
		// The connection fetched the server's description already.
		if info, _, err := srv.GetServer(); err == nil && info.Auth != "trusted" {
			return nil, fmt.Errorf("%w: the daemon does not trust %s: get a token on it with `lxc config trust add --name karana` and run `karana remote trust TOKEN`", ErrUntrusted, cfg.ClientCert)
		}
		return srv, nil
	}
	return nil, fmt.Errorf(`endpoint must be "unix", "unix:///path" or "https://host:port"`)
}

// connectHTTPS connects to cfg.Endpoint with cfg's certificates, trusted
// or not.
func connectHTTPS(ctx context.Context, cfg inventory.LXD) (lxdclient.InstanceServer, error) {
	args, err := tlsArgs(cfg)
	if err != nil {
		return nil, err
	}
	return lxdclient.ConnectLXDWithContext(ctx, cfg.Endpoint, args)
}

func tlsArgs(cfg inventory.LXD) (*lxdclient.ConnectionArgs, error) {
	if cfg.ClientCert == "" || cfg.ClientKey == "" {
		return nil, errors.New("an https endpoint needs client_cert and client_key")
	}
	args := &lxdclient.ConnectionArgs{TransportWrapper: withDeadlines}
	for _, f := range []struct {
		path string
		dst  *string
	}{{cfg.ClientCert, &args.TLSClientCert}, {cfg.ClientKey, &args.TLSClientKey}, {cfg.ServerCert, &args.TLSServerCert}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: `karana remote trust TOKEN` makes it and gets it trusted (the token from `lxc config trust add --name karana` on the daemon)", f.path)
		}
		if err != nil {
			return nil, err
		}
		*f.dst = string(b)
	}
	return args, nil
}

// responseTimeout bounds how long a remote daemon may take to start
// answering a request (LXD's client allows an hour), so that a daemon or
// cluster member that stopped answering is reported, not waited on.
// Long work (exec, exports, image imports) runs as operations, whose
// requests answer at once.
const responseTimeout = 60 * time.Second

func withDeadlines(t *http.Transport) lxdclient.HTTPTransporter {
	t.ResponseHeaderTimeout = responseTimeout
	return transporter{t}
}

type transporter struct{ t *http.Transport }

func (t transporter) RoundTrip(r *http.Request) (*http.Response, error) { return t.t.RoundTrip(r) }
func (t transporter) Transport() *http.Transport                        { return t.t }

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
func (c *client) wait(ctx context.Context, op lxdclient.Operation, err error) error {
	_, err = c.waitResult(ctx, op, err)
	return err
}

// waitResult waits for op and returns its final state. LXD's client learns
// that an operation ended from the event stream; with many operations at
// once (40 concurrent execs) it missed the end of some and WaitContext
// blocked for good although LXD had finished them. So LXD is also asked
// for the operation every second; its final state counts whichever way it
// arrives first.
func (c *client) waitResult(ctx context.Context, op lxdclient.Operation, err error) (api.Operation, error) {
	if err != nil {
		return api.Operation{}, err
	}
	id := op.Get().ID // before WaitContext: its event handlers rewrite the struct
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- op.WaitContext(wctx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case werr := <-done:
			if ctx.Err() != nil {
				_ = op.Cancel()
				return api.Operation{}, ctx.Err()
			}
			if werr != nil {
				return api.Operation{}, notFound(werr)
			}
			return op.Get(), nil
		case <-tick.C:
			got, _, gerr := c.srv(ctx).GetOperation(id)
			if gerr != nil || !got.StatusCode.IsFinal() {
				continue
			}
			if got.Err != "" {
				return *got, notFound(errors.New(got.Err))
			}
			return *got, nil
		}
	}
}

// notFound turns LXD's answers that karana branches on into this
// package's sentinel errors: 404 into ErrNotFound, and the two that LXD
// only says in words (an instance not running, an instance busy with
// another operation) into ErrNotRunning and ErrBusy. The words are matched
// here and nowhere else.
func notFound(err error) error {
	switch {
	case err == nil:
		return nil
	case api.StatusErrorCheck(err, http.StatusNotFound):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case strings.Contains(err.Error(), "is not running"):
		return fmt.Errorf("%w: %v", ErrNotRunning, err)
	case strings.Contains(err.Error(), "is busy running"):
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	return err
}

func isNotFound(err error) bool { return api.StatusErrorCheck(err, http.StatusNotFound) }

var _ Client = (*client)(nil)

// Member is one LXD cluster member as karana reports it.
type Member struct {
	Name    string `json:"name"`
	Status  string `json:"status"` // Online, Offline, Evacuated, ...
	Message string `json:"message,omitempty"`
}

// MemberLister is implemented by clients that can list cluster members
// (the real one); Members returns nil for a daemon that is not clustered.
type MemberLister interface {
	Members(ctx context.Context) ([]Member, error)
}

// Members implements MemberLister.
func (c *client) Members(ctx context.Context) ([]Member, error) {
	s := c.host(ctx)
	if !s.HasExtension("clustering") {
		return nil, nil
	}
	cl, _, err := s.GetCluster()
	if err != nil {
		return nil, fmt.Errorf("reading the cluster: %w", err)
	}
	if !cl.Enabled {
		return nil, nil
	}
	ms, err := s.GetClusterMembers()
	if err != nil {
		return nil, fmt.Errorf("listing cluster members: %w", err)
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, Member{Name: m.ServerName, Status: m.Status, Message: m.Message})
	}
	return out, nil
}

// Members lists c's cluster members, nil when c is not clustered or
// cannot tell.
func Members(ctx context.Context, c Client) ([]Member, error) {
	if ml, ok := c.(MemberLister); ok {
		return ml.Members(ctx)
	}
	return nil, nil
}
