package acme

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/lego"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// Renewer renews the due certificates of an inventory.
type Renewer struct {
	Inv *inventory.Inventory
	// Runtime reaches the inner balancers' runtime APIs.
	Runtime func(name string) balancer.Runtime
	// Push writes a file into a balancer container (the certificate, so
	// that HAProxy loads it again after a restart or reload).
	Push func(ctx context.Context, container, path string, data []byte, mode os.FileMode) error
	Now  func() time.Time
	// Progress, when set, is told each tenant's start and outcome.
	Progress func(tenant, msg string)
}

// New is the Renewer of inv's balancers: their host runtime sockets, and
// files pushed through the LXD client c.
func New(inv *inventory.Inventory, c lxd.Client, progress func(tenant, msg string)) *Renewer {
	conn := balancer.HostSockets(inv)
	return &Renewer{
		Inv:     inv,
		Runtime: func(name string) balancer.Runtime { return conn(name) },
		Push: func(ctx context.Context, container, path string, data []byte, mode os.FileMode) error {
			return c.PushFile(ctx, container, path, data, mode)
		},
		Progress: progress,
	}
}

// Summary is one line for a Result: its action, or its failures.
func (r Result) Summary() string {
	if r.Action != ActionFailed {
		return r.Action
	}
	var b strings.Builder
	for i, f := range r.Failures {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Host + ": " + f.Error)
	}
	return b.String()
}

// Actions of a Result.
const (
	ActionObtained = "obtained" // the tenant had no ACME certificate
	ActionRenewed  = "renewed"
	ActionNotDue   = "not due"
	ActionSkipped  = "skipped" // not covered by tls.acme, or its own cert:
	ActionFailed   = "failed"  // the current certificate stays
)

// Result is one tenant's outcome of Renew.
type Result struct {
	Tenant   string        `json:"tenant"`
	Names    []string      `json:"names"`
	Action   string        `json:"action"`
	Reason   string        `json:"reason,omitempty"`
	NotAfter time.Time     `json:"not_after,omitzero"`
	Failures []HostFailure `json:"failures,omitempty"`
}

// HostFailure is why one hostname could not be validated or issued.
type HostFailure struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

// ErrNotConfigured says the inventory has no tls.acme.
var ErrNotConfigured = errors.New("tls.acme is not configured in the inventory (docs/tls.md)")

// Renew obtains a certificate for every covered tenant whose certificate is
// due (all of them with force; only those named when names is not empty).
// A tenant that fails keeps its current certificate and is reported with
// its hostnames' errors; the others go on. The error says how many failed.
func (r *Renewer) Renew(ctx context.Context, force bool, names []string) ([]Result, error) {
	inv := r.Inv
	if inv.TLS.ACME == nil {
		return nil, ErrNotConfigured
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	var (
		out    []Result
		c      *lego.Client
		failed int
	)
	for _, t := range inv.Tenants {
		if len(names) > 0 && !contains(names, t.Name) {
			continue
		}
		st := status(inv, t, now())
		res := Result{Tenant: t.Name, Names: inv.Hostnames(t), Reason: st.Reason}
		switch {
		case !st.ACME:
			res.Action, res.Reason = ActionSkipped, "not covered by tls.acme"
			if t.Cert != "" {
				res.Reason = "has its own cert: " + t.Cert
			}
		case !st.Due && !force:
			res.Action, res.NotAfter = ActionNotDue, st.NotAfter
		default:
			if force && !st.Due {
				res.Reason = "forced"
			}
			r.progress(t.Name, "obtaining a certificate for "+join(res.Names)+" ("+res.Reason+")")
			var err error
			if c == nil {
				if c, err = client(ctx, inv, r.balancers()); err != nil {
					return out, err // account or CA trouble: no tenant can succeed
				}
			}
			res.NotAfter, err = r.renewOne(ctx, c, t)
			if err != nil {
				failed++
				res.Action, res.Failures = ActionFailed, hostFailures(res.Names, err)
			} else if st.Reason == "no certificate yet" || st.Reason == "self-signed" {
				res.Action = ActionObtained
			} else {
				res.Action = ActionRenewed
			}
		}
		r.progress(t.Name, res.Action)
		out = append(out, res)
	}
	if failed > 0 {
		return out, fmt.Errorf("%d of %d certificate(s) could not be renewed; they keep their current certificate", failed, len(out))
	}
	return out, nil
}

func (r *Renewer) progress(tenant, msg string) {
	if r.Progress != nil {
		r.Progress(tenant, msg)
	}
}

func (r *Renewer) balancers() *balancers {
	b := &balancers{rts: map[string]Runtime{}, names: r.Inv.Balancers.Inner}
	for _, n := range b.names {
		b.rts[n] = r.Runtime(n)
	}
	return b
}

// renewOne obtains tenant t's certificate, loads it into every inner
// balancer (file, then the running process) and only then replaces the key
// store's file: a certificate is never recorded as current before the
// balancers serve it, so a failure anywhere is retried by the next run.
func (r *Renewer) renewOne(ctx context.Context, c *lego.Client, t inventory.Tenant) (time.Time, error) {
	res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: r.Inv.Hostnames(t), Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		return time.Time{}, err
	}
	pem := append(append([]byte{}, res.Certificate...), res.PrivateKey...)
	if err := balancer.CheckPEM(pem); err != nil {
		return time.Time{}, fmt.Errorf("the CA's certificate: %w", err)
	}
	leaf, err := certcrypto.ParsePEMCertificate(res.Certificate)
	if err != nil {
		return time.Time{}, err
	}
	dst := path.Join(render.ConfigDir, BalancerPath(t))
	for _, name := range r.Inv.Balancers.Inner {
		if err := r.Push(ctx, name, dst, pem, render.FileMode(dst)); err != nil {
			return time.Time{}, fmt.Errorf("writing %s in %s: %w", dst, name, err)
		}
		if err := balancer.UpdateCert(ctx, r.Runtime(name), BalancerPath(t), pem, t.Domain, "*."+t.Domain); err != nil {
			return time.Time{}, fmt.Errorf("loading it into %s: %w", name, err)
		}
	}
	if err := fsutil.WriteFile(CertFile(r.Inv, t), pem, 0o600); err != nil {
		return time.Time{}, fmt.Errorf("writing the key store: %w", err)
	}
	// rendered/ mirrors what the balancers hold (render --check agrees).
	rendered := filepath.Join(render.DefaultDir(r.Inv), BalancerPath(t))
	if _, err := os.Stat(filepath.Dir(rendered)); err == nil {
		if err := fsutil.WriteFile(rendered, pem, render.FileMode(rendered)); err != nil {
			return time.Time{}, fmt.Errorf("writing %s: %w", rendered, err)
		}
	}
	return leaf.NotAfter, nil
}

// lego names each failed domain as "[host: error]" in its error text.
var hostErrRe = regexp.MustCompile(`\[([a-z0-9.*-]+): ((?:[^\[\]]|\[[^\]]*\])*)\]`)

// hostFailures splits err per hostname; an error naming none is every
// hostname's.
func hostFailures(hosts []string, err error) []HostFailure {
	var out []HostFailure
	for _, m := range hostErrRe.FindAllStringSubmatch(err.Error(), -1) {
		if contains(hosts, m[1]) {
			out = append(out, HostFailure{Host: m[1], Error: m[2]})
		}
	}
	if len(out) == 0 {
		for _, h := range hosts {
			out = append(out, HostFailure{Host: h, Error: err.Error()})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
