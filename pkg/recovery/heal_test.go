package recovery

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

type nop struct{}

func (nop) Start(string, ...any) {}
func (nop) End(string)           {}
func (nop) Fail(string)          {}

// world is what the fake probe reports, per container: "" healthy,
// "missing", "Stopped" or an unhealthy reason.
type world map[string]string

type healFixture struct {
	h        *Healer
	e        *converge.Engine
	w        world
	clock    time.Time
	restores []Request
	started  []string
}

func newHealFixture(t *testing.T) *healFixture {
	t.Helper()
	inv, err := inventory.Parse(filepath.Join(t.TempDir(), "inv.yaml"), []byte("lxd: {project: p}\ntenants:\n  - {name: acme, domain: acme.test}\n  - {name: beta, domain: beta.test}\n"))
	if err != nil {
		t.Fatal(err)
	}
	fx := &healFixture{w: world{}, clock: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	fx.e = converge.NewEngine(lxdfake.New(), inv, nop{})
	fx.h = NewHealer(10 * time.Second)
	fx.h.Now = func() time.Time { return fx.clock }
	fx.h.Probe = func(context.Context, *converge.Engine) ([]converge.Status, error) {
		var out []converge.Status
		out = append(out, converge.Status{Group: "balancers", Container: "lb1", State: "Stopped", Health: "-"})
		for _, tn := range inv.Tenants {
			for _, r := range inventory.Roles {
				c := tn.ContainerName(r)
				s := converge.Status{Group: tn.Name, Container: c, Role: string(r), State: "Running", Health: "healthy"}
				switch v := fx.w[c]; v {
				case "":
				case "missing", "Stopped":
					s.State, s.Health = v, "-"
				default:
					s.Health = v
				}
				out = append(out, s)
			}
		}
		return out, nil
	}
	fx.h.Converge = func(_ context.Context, _ *converge.Engine, t inventory.Tenant) error {
		for c, v := range fx.w {
			if strings.HasPrefix(c, t.Name+"-") && v == "Stopped" {
				fx.started = append(fx.started, c)
				if !strings.HasSuffix(c, "-grafana") { // grafana does not come up when started
					delete(fx.w, c)
				} else {
					fx.w[c] = "GET /api/health: 500"
				}
			}
		}
		return nil
	}
	fx.h.Restore = func(_ context.Context, _ *converge.Engine, _ Deps, req Request) (*Result, error) {
		fx.restores = append(fx.restores, req)
		if req.Name == "beta" {
			return nil, errors.New(`tenant "beta": no complete backup`)
		}
		for _, r := range req.Roles {
			delete(fx.w, req.Name+"-"+string(r))
		}
		return &Result{Source: "backups/p/acme/X"}, nil
	}
	return fx
}

func (fx *healFixture) round(t *testing.T) []Action {
	t.Helper()
	acts, _ := fx.h.Round(context.Background(), fx.e, Deps{})
	return acts
}

func TestHealLeavesHealthyAloneAndActsOnMissingAtOnce(t *testing.T) {
	fx := newHealFixture(t)
	if acts := fx.round(t); len(acts) != 0 || len(fx.restores) != 0 {
		t.Fatalf("all healthy: acted %+v %+v (the stopped balancer is not heal's)", acts, fx.restores)
	}
	fx.w["acme-influx"], fx.w["acme-api"] = "missing", "missing"
	acts := fx.round(t)
	if len(fx.restores) != 1 || !slices.Equal(fx.restores[0].Roles, []inventory.Role{"influx", "api"}) || !fx.restores[0].Replace || fx.restores[0].From != "" {
		t.Fatalf("restores = %+v, want acme's influx and api from the latest backup", fx.restores)
	}
	if len(acts) != 2 || acts[0].Did != "restored from X" || acts[0].Problem != "missing" {
		t.Errorf("actions = %+v", acts)
	}
	if acts := fx.round(t); len(acts) != 0 || len(fx.restores) != 1 {
		t.Errorf("healed tenant acted on again: %+v", acts)
	}
}

func TestHealWaitsForTheThresholdThenStartsBeforeReplacing(t *testing.T) {
	fx := newHealFixture(t)
	fx.w["acme-api"] = "GET /healthz: connection refused"
	fx.w["acme-influx"], fx.w["acme-grafana"] = "Stopped", "Stopped"
	if acts := fx.round(t); len(acts) != 0 {
		t.Fatalf("acted before the threshold: %+v", acts)
	}
	fx.clock = fx.clock.Add(9 * time.Second)
	if acts := fx.round(t); len(acts) != 0 {
		t.Fatalf("acted at 9s of a 10s threshold: %+v", acts)
	}
	fx.clock = fx.clock.Add(2 * time.Second)
	acts := fx.round(t)
	byC := map[string]Action{}
	for _, a := range acts {
		byC[a.Container] = a
	}
	if a := byC["acme-influx"]; a.Did != "started" || a.Down != 11 {
		t.Errorf("stopped influx: %+v, want started after 11s down", a)
	}
	if len(fx.restores) != 1 || !slices.Equal(fx.restores[0].Roles, []inventory.Role{"grafana", "api"}) {
		t.Errorf("restores = %+v, want grafana (did not come up when started) and the unhealthy api", fx.restores)
	}
	if a := byC["acme-api"]; !strings.HasPrefix(a.Problem, "unhealthy: ") || a.Did == "" {
		t.Errorf("api: %+v", a)
	}
}

func TestHealReportsATenantWithoutBackupAndGoesOn(t *testing.T) {
	fx := newHealFixture(t)
	fx.w["beta-influx"], fx.w["acme-grafana"] = "missing", "missing"
	acts, err := fx.h.Round(context.Background(), fx.e, Deps{})
	if err == nil || !strings.Contains(err.Error(), "healing tenant beta") || !strings.Contains(err.Error(), "no complete backup") {
		t.Fatalf("err = %v", err)
	}
	var healed, failed bool
	for _, a := range acts {
		healed = healed || (a.Container == "acme-grafana" && a.Did != "")
		failed = failed || (a.Container == "beta-influx" && a.Error != "" && a.Did == "")
	}
	if !healed || !failed {
		t.Errorf("actions = %+v, want acme healed and beta failed", acts)
	}
	if !strings.Contains(Summary(acts), "beta-influx missing: FAILED") {
		t.Errorf("summary:\n%s", Summary(acts))
	}
}

func TestHealCountsARestoreWhoseReconcileFailed(t *testing.T) {
	fx := newHealFixture(t)
	fx.h.Restore = func(_ context.Context, _ *converge.Engine, _ Deps, req Request) (*Result, error) {
		delete(fx.w, "acme-api")
		return &Result{Source: "backups/p/acme/X"}, &ReconcileError{Err: errors.New("grafana timed out")}
	}
	fx.w["acme-api"] = "missing"
	acts, err := fx.h.Round(context.Background(), fx.e, Deps{})
	if err == nil || !strings.Contains(err.Error(), "the data is restored, but grafana timed out") {
		t.Errorf("err = %v", err)
	}
	if len(acts) != 1 || acts[0].Error != "" || acts[0].Did != "restored from X (reconcile failed)" {
		t.Errorf("actions %+v", acts)
	}
}
