// Package tenant adds and removes tenants: the inventory entry, the three
// containers and the routes on the inner balancers, in an order that a
// rerun resumes after any failure.
package tenant

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/secrets"
)

// Validate checks a tenant given on the command line, naming the flag at fault.
func Validate(t inventory.Tenant) error {
	if err := inventory.ValidTenantName(t.Name); err != nil {
		return fmt.Errorf("tenant name: %w", err)
	}
	if err := inventory.ValidDomain(t.Domain); err != nil {
		return fmt.Errorf("--domain: %w", err)
	}
	if len(t.Customer) > 200 {
		return fmt.Errorf("--customer: longer than 200 characters")
	}
	for _, r := range t.Customer {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("--customer: contains control characters")
		}
	}
	return nil
}

// Record puts t into the inventory at path, first of all, so that whatever
// is created next is known. A tenant already there with the same domain
// is not an error: the caller converges it again (a resumed add). added
// tells whether the file changed.
func Record(path string, t inventory.Tenant) (inv *inventory.Inventory, rec inventory.Tenant, added bool, err error) {
	inv, err = inventory.Load(path)
	if err != nil {
		return nil, t, false, err
	}
	if have, ok := inv.Tenant(t.Name); ok {
		if have.Domain != t.Domain {
			return nil, t, false, fmt.Errorf("tenant %q is already in %s with domain %q, not %q: remove it first or use another name", t.Name, path, have.Domain, t.Domain)
		}
		return inv, *have, false, nil
	}
	for _, o := range inv.Tenants {
		if o.Domain == t.Domain {
			return nil, t, false, fmt.Errorf("domain %q already belongs to tenant %q in %s", t.Domain, o.Name, path)
		}
		if t.ID != "" && o.ID == t.ID {
			return nil, t, false, fmt.Errorf("tenant id %q already belongs to tenant %q in %s", t.ID, o.Name, path)
		}
	}
	if t.ID == "" {
		t.ID = secrets.TenantID()
	}
	slot := inv.FreeSlot()
	t.Slot = &slot
	inv, err = inventory.AddTenant(path, t)
	if err != nil {
		return nil, t, false, err
	}
	rec2, _ := inv.Tenant(t.Name)
	return inv, *rec2, true, nil
}

// Deps are the outside parts Add and Remove use.
type Deps struct {
	// Validate checks a rendered tree (render.Validate). The inner
	// balancers' files are checked by the apply path in each balancer (or,
	// for a live change, its certificates in Go), so tenant changes need
	// no check on the host; kept for callers that want one anyway.
	Validate func(ctx context.Context, o *render.Output) error
}

// Converge brings tenant t's containers up, routes its hostnames on the
// inner balancers and checks them through lb0.
//
// The routes are changed while the containers start, not after: a route
// changed live starts its servers UP (their checks take them down only
// after three failures, 15 s), so the containers' first second of boot
// costs nothing, and a new tenant has no traffic to lose. The routes'
// steps are shown once the containers' step has ended.
func Converge(ctx context.Context, e *converge.Engine, d Deps, t inventory.Tenant) error {
	re, steps := *e, &converge.Deferred{}
	re.Progress = steps
	routed := make(chan error, 1)
	go func() { routed <- Route(ctx, &re, d, e.Inv) }()
	err := e.Tenant(ctx, t)
	rerr := <-routed
	steps.Replay(e.Progress)
	if err = errors.Join(err, rerr); err != nil {
		return err
	}
	err = e.Step(t.Name, "routes of "+t.Name, "answering through "+e.Inv.Balancers.Outer.Name, func() (string, error) {
		markUp(ctx, e, t)
		return "", CheckThroughOuter(ctx, e.Inv, t, 30*time.Second)
	})
	if err != nil || !e.Inv.TLS.ACME.Covers(t.Name) || t.Cert != "" || e.DryRun {
		return err
	}
	// Routed and answering: the CA's HTTP-01 request reaches the balancers.
	return e.Step(t.Name, "certificate of "+t.Name, "ACME certificate of "+t.Name, func() (string, error) {
		res, err := acme.New(e.Inv, e.LXD, nil).Renew(ctx, false, []string{t.Name})
		if len(res) == 1 && res[0].Action == acme.ActionFailed {
			return "", fmt.Errorf("%s (the self-signed certificate stays; run this again or karana certs renew)", res[0].Summary())
		}
		if err != nil {
			return "", err
		}
		if len(res) == 1 && res[0].Action != acme.ActionNotDue {
			return res[0].Action, nil
		}
		return "", nil
	})
}

// markUp marks t's services UP on the inner balancers once they answer:
// a resumed add finds its routes in place but their servers DOWN after
// failed checks. Best effort: the check through lb0 that follows is the
// proof.
func markUp(ctx context.Context, e *converge.Engine, t inventory.Tenant) {
	names := make([]string, len(inventory.Roles))
	for i, r := range inventory.Roles {
		names[i] = t.ContainerName(r)
	}
	_ = e.MarkUp(ctx, names)
}

// Route renders the balancers for inv and applies the inner ones' files
// through the one path (live when only routes change), then records them
// in rendered/ so that `balancer render --check` agrees with the host.
func Route(ctx context.Context, e *converge.Engine, d Deps, inv *inventory.Inventory) error {
	var out *render.Output
	err := e.Step("balancer", "configuration", "rendering balancer configuration", func() (string, error) {
		o, err := render.Render(inv, render.Options{GenerateCerts: true})
		if err != nil {
			return "", err
		}
		if d.Validate != nil {
			if err := d.Validate(ctx, o); err != nil {
				return "", err
			}
		}
		out = o
		if len(o.Generated) > 0 {
			return fmt.Sprintf("%d self-signed certificate(s) generated", len(o.Generated)), nil
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	if err := e.InnerConfig(ctx, inv, out); err != nil {
		return err
	}
	return render.Write(render.DefaultDir(inv), out)
}

// CheckThroughOuter asks lb0 for the tenant's API /healthz and InfluxDB
// /ping over HTTPS with the services' hostnames, until both answer or
// timeout passes.
func CheckThroughOuter(ctx context.Context, inv *inventory.Inventory, t inventory.Tenant, timeout time.Duration) error {
	checks := []struct {
		host, path string
		status     int
	}{
		{inv.Services.API.Host + "." + t.Domain, "/healthz", 200},
		{inv.Services.InfluxDB.Host + "." + t.Domain, "/ping", 204},
	}
	addr := net.JoinHostPort(inv.OuterAddr().String(), strconv.Itoa(inv.Balancers.Outer.HTTPSPort))
	deadline := time.Now().Add(timeout)
	for _, c := range checks {
		for {
			err := Get(ctx, addr, c.host, c.path, c.status)
			if err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("https://%s%s through %s: %w", c.host, c.path, addr, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return nil
}

// Get requests https://host+path from addr (SNI and Host set to host,
// certificate not verified: tenants may use self-signed ones) and wants
// status.
func Get(ctx context.Context, addr, host, path string, status int) error {
	dial := lxd.DialerFrom(ctx) // through lb0 itself for a remote daemon
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}, //nolint:gosec // self-signed tenant certificates
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != status {
		return fmt.Errorf("%s, want %d", resp.Status, status)
	}
	return nil
}
