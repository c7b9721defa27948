// Package converge brings LXD to what the inventory says, one reported step
// after another: the balancer containers and their configuration, and each
// tenant's three containers. Every step first reads what is there and
// changes only what differs, so a second run changes nothing, and a run
// that failed halfway is resumed by running it again. `karana up` and
// `karana tenant add|remove` are sequences of these steps.
package converge

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/secrets"
)

// Reporter shows steps as they run (cmdutil.Progress).
type Reporter interface {
	Start(format string, args ...any)
	End(result string)
	Fail(result string)
}

// Engine runs steps against one LXD project.
type Engine struct {
	LXD      lxd.Client
	Inv      *inventory.Inventory
	DryRun   bool // read only; steps say what they would do
	Progress Reporter
	Report   *Report
	Secrets  secrets.Store
	// Binary is the karana executable pushed into API containers.
	Binary []byte
	// ApplyInner rolls a new configuration onto the inner balancers; nil
	// means the one path, balancer.Apply (ApplyInner).
	ApplyInner InnerApplier
	// Runtime reaches the balancers' runtime APIs; nil means their host
	// sockets. InnerTargets, when set, replaces the inner balancers'
	// containers (unit tests).
	Runtime      balancer.Connector
	InnerTargets func(name string) balancer.Target
	// OuterTarget, when set, replaces lb0's container (unit tests).
	OuterTarget func(name string) balancer.Target
	// WaitHealthy and Bootstrap reach the services over the network;
	// unit tests replace them.
	WaitHealthy func(ctx context.Context, addr netip.Addr, p provision.Probe, timeout time.Duration) error
	Bootstrap   func(ctx context.Context, baseURL string, admin secrets.Credential) error
}

// NewEngine returns an engine with an empty report and secrets beside the
// inventory.
func NewEngine(c lxd.Client, inv *inventory.Inventory, p Reporter) *Engine {
	return &Engine{LXD: c, Inv: inv, Progress: p, Report: &Report{}, Secrets: secrets.Store{Dir: inv.SecretsDir()},
		WaitHealthy: provision.WaitHealthy, Bootstrap: provision.BootstrapInflux}
}

// StepError names the step and the object (container, network...) that failed.
type StepError struct {
	Step, Object string
	Err          error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s (%s): %v", e.Step, e.Object, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// Step runs fn as one reported step on object. fn returns what it changed,
// "" when everything was already right.
func (e *Engine) Step(kind, object, title string, fn func() (string, error)) error {
	e.Progress.Start("%s", title)
	did, err := fn()
	if err != nil {
		e.Progress.Fail(firstLine(err.Error()))
		e.Report.Note(kind, object, "failed")
		var se *StepError
		if errors.As(err, &se) {
			return err
		}
		return &StepError{Step: title, Object: object, Err: err}
	}
	e.Report.Note(kind, object, did)
	if did == "" {
		did = "unchanged"
	}
	e.Progress.End(did)
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// Row is one object of the closing summary.
type Row struct {
	Kind    string   `json:"kind"` // host, lxd, image, balancer, <tenant name>
	Object  string   `json:"object"`
	Changes []string `json:"changes"`
	Health  string   `json:"health,omitempty"`
}

// Changed tells whether anything was changed on the object.
func (r Row) Changed() bool { return len(r.Changes) > 0 }

// Result is the summary's word for the row.
func (r Row) Result() string {
	if len(r.Changes) == 0 {
		return "unchanged"
	}
	return strings.Join(r.Changes, "; ")
}

// Report collects what each step changed, per object, safe for parallel steps.
type Report struct {
	mu   sync.Mutex
	rows []*Row
}

func (r *Report) row(kind, object string) *Row {
	for _, x := range r.rows {
		if x.Object == object {
			return x
		}
	}
	x := &Row{Kind: kind, Object: object}
	r.rows = append(r.rows, x)
	return x
}

// Note records that a step changed object ("" records it as unchanged).
func (r *Report) Note(kind, object, change string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.row(kind, object)
	if change != "" {
		x.Changes = append(x.Changes, change)
	}
}

// Health records the health of object's service.
func (r *Report) Health(kind, object, health string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.row(kind, object).Health = health
}

// Rows returns the rows in the order objects were first seen, tenants'
// containers sorted within their tenant.
func (r *Report) Rows() []Row {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Row, len(r.rows))
	for i, x := range r.rows {
		out[i] = *x
		out[i].Changes = append([]string{}, x.Changes...)
	}
	kindAt := map[string]int{}
	for i, x := range out {
		if _, ok := kindAt[x.Kind]; !ok {
			kindAt[x.Kind] = i
		}
	}
	// Tenant containers are noted by parallel steps: sort them by name.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return kindAt[a.Kind] < kindAt[b.Kind]
		}
		return isTenantKind(a.Kind) && a.Object < b.Object
	})
	return out
}

func isTenantKind(k string) bool {
	switch k {
	case "host", "lxd", "image", "balancer":
		return false
	}
	return true
}

// Changed tells whether any step changed anything.
func (r *Report) Changed() bool {
	for _, x := range r.Rows() {
		if x.Changed() {
			return true
		}
	}
	return false
}

// ReadBinary reads the running karana executable, which the API
// containers run as `karana api serve`.
func ReadBinary() ([]byte, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}
