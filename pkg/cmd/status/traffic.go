package status

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/traffic"
)

// Row is one container's line of `karana status`: its state and health,
// and for a tenant's containers the traffic its backend had over the last
// minute on the inner balancers and the tenant's certificate expiry.
type Row struct {
	converge.Status
	Traffic     *traffic.Stats `json:"traffic,omitempty"`      // nil: not a tenant service, or unknown
	CertExpires *time.Time     `json:"cert_expires,omitempty"` // the tenant's certificate's notAfter
}

// Traffic is the last minute's figures per backend (named as the tenant's
// containers), or an error when no inner balancer could tell.
// c is the inventory's LXD, through which a remote daemon's balancers
// are reached.
type Traffic func(ctx context.Context, inv *inventory.Inventory, c lxd.Client) (map[string]traffic.Stats, error)

// BalancerTraffic reads the request ring of every inner balancer through
// its runtime socket, in parallel, and combines them. A balancer that does
// not answer is left out (it served nothing meanwhile, or is down, which
// the container rows show); an error only when none answers.
func BalancerTraffic(connect balancer.Connector) Traffic {
	return func(ctx context.Context, inv *inventory.Inventory, c lxd.Client) (map[string]traffic.Stats, error) {
		if connect == nil {
			connect = balancer.RuntimeFor(inv, c)
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		now := time.Now()
		samples := make([]*traffic.Sample, len(inv.Balancers.Inner))
		errs := make([]error, len(inv.Balancers.Inner))
		var wg sync.WaitGroup
		for i, name := range inv.Balancers.Inner {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rt := connect(name)
				info, err := rt.Info(ctx)
				if err == nil {
					samples[i], err = traffic.Read(ctx, rt, now, time.Duration(info.Uptime)*time.Second)
				}
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", name, err)
				}
			}()
		}
		wg.Wait()
		for i := range samples {
			if samples[i] != nil {
				return traffic.Combine(samples...), nil
			}
			if i == len(samples)-1 {
				return nil, errs[0]
			}
		}
		return nil, fmt.Errorf("no inner balancer configured")
	}
}

// CertExpiry is when tenant t's certificate (its cert:, else
// <tls.cert_dir>/<domain>.pem, as the balancers load it) expires.
func CertExpiry(inv *inventory.Inventory, t inventory.Tenant) (time.Time, error) {
	p := filepath.Join(render.CertDir(inv), t.Domain+".pem")
	if t.Cert != "" {
		p = inv.Resolve(t.Cert)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return time.Time{}, err
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return time.Time{}, fmt.Errorf("%s holds no certificate", p)
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", p, err)
			}
			return c.NotAfter, nil
		}
	}
}

// rows joins the container states with the traffic and certificates.
func rows(inv *inventory.Inventory, st []converge.Status, tr map[string]traffic.Stats) []Row {
	expiry := map[string]*time.Time{}
	for _, t := range inv.Tenants {
		if at, err := CertExpiry(inv, t); err == nil {
			expiry[t.Name] = &at
		}
	}
	out := make([]Row, len(st))
	for i, s := range st {
		out[i] = Row{Status: s}
		if _, ok := inv.Tenant(s.Group); !ok {
			continue
		}
		out[i].CertExpires = expiry[s.Group]
		if tr != nil {
			x := tr[s.Container]
			if x.WindowSeconds == 0 { // no request in the window
				x = traffic.Stats{P99Millis: -1}
			}
			out[i].Traffic = &x
		}
	}
	return out
}

func (r Row) cells() []string {
	rate, errs, p99, cert := "-", "-", "-", "-"
	if t := r.Traffic; t != nil {
		rate, errs = fmt.Sprintf("%.2f", t.RequestsPerSecond), fmt.Sprintf("%.2f", t.Errors5xxPerSec)
		if t.P99Millis >= 0 {
			p99 = fmt.Sprintf("%.0fms", t.P99Millis)
		}
	}
	if r.CertExpires != nil {
		cert = r.CertExpires.UTC().Format("2006-01-02")
	}
	return []string{rate, errs, p99, cert}
}
