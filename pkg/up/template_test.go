package up

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

// up prepares one template per tenant role, before the tenants, and the
// tenant containers are copies of them: configured before their first
// boot as from the image. A second up leaves the templates alone.
func TestUpPreparesTemplatesAndCopiesThem(t *testing.T) {
	inv, f := setup(t)
	if err := Run(context.Background(), engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	for _, r := range inventory.Roles {
		name := converge.TemplateName(r)
		in, ok := f.Instances[name]
		if !ok || !converge.TemplateReady(in, "fp-"+converge.ImageOf(inv, r)) {
			t.Errorf("%s: %+v, want a ready template", name, in)
		}
		c := "alpha-" + string(r)
		if f.Copies[c] != name {
			t.Errorf("%s copied from %q, want %s", c, f.Copies[c], name)
		}
		if f.Instances[c].Config["user.karana.tenant"] != "alpha" || f.Instances[c].Config["raw.lxc"] != converge.RawLXC {
			t.Errorf("%s config %v", c, f.Instances[c].Config)
		}
	}
	if f.Links["alpha-api"]["/etc/systemd/system/multi-user.target.wants/karana-api.service"] == "" {
		t.Error("the copied API container was not configured before its first boot")
	}
	for _, c := range f.CallsTo("Exec") {
		if strings.HasPrefix(c, "Exec alpha-") {
			t.Errorf("a copied container was configured after booting: %s", c)
		}
	}
	f.Calls = nil
	if err := Run(context.Background(), engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	if c := append(f.CallsTo("PrepareTemplate"), f.CallsTo("DeleteInstance")...); len(c) > 0 {
		t.Errorf("second up: %v", c)
	}
}

// A template whose image changed, or whose preparation did not end (its
// sleep init still set), is not copied; the next up replaces it.
func TestTemplatesNotReadyAreNotCopiedAndReplaced(t *testing.T) {
	inv, f := setup(t)
	e := engine(inv, f)
	ends := &progressLog{}
	e.Progress = ends
	for _, r := range []inventory.Role{inventory.RoleInfluxDB, inventory.RoleAPI} {
		if err := f.PrepareTemplate(context.Background(), lxd.InstanceSpec{Name: converge.TemplateName(r), Image: converge.ImageOf(inv, r)}); err != nil {
			t.Fatal(err)
		}
	}
	f.Instances[converge.TemplateName(inventory.RoleInfluxDB)].Config["volatile.base_image"] = "an older image"
	f.Instances[converge.TemplateName(inventory.RoleAPI)].Config["raw.lxc"] = "lxc.init.cmd = /bin/sleep infinity"
	f.Fail["PrepareTemplate"] = errors.New("no start here") // this up keeps what it finds
	if err := Run(context.Background(), e, deps); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"alpha-influx", "alpha-grafana", "alpha-api"} {
		if f.Copies[c] != "" {
			t.Errorf("%s copied from %s, which is not ready", c, f.Copies[c])
		}
		if f.Specs[c].Image == "" || !strings.Contains(strings.Join(f.CallsTo("CreateInstance "+c), ""), converge.ImageOf(inv, inventory.Role(strings.TrimPrefix(c, "alpha-")))) {
			t.Errorf("%s not created from its image: %v", c, f.CallsTo("CreateInstance "+c))
		}
	}
	var step string
	for _, r := range e.Report.Rows() {
		if r.Object == "templates" {
			step = r.Result()
		}
	}
	if step != "unchanged" {
		t.Errorf("templates not prepared counted as %q, want unchanged (nothing was)", step)
	}
	if line := ends.last("container templates"); !strings.Contains(line, "not prepared, new containers come from their images") || !strings.Contains(line, "no start here") {
		t.Errorf("templates step says %q", line)
	}
	delete(f.Fail, "PrepareTemplate")
	if err := Run(context.Background(), engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	for _, r := range inventory.Roles {
		if in := f.Instances[converge.TemplateName(r)]; in == nil || !converge.TemplateReady(in, "fp-"+converge.ImageOf(inv, r)) {
			t.Errorf("%s after the next up: %+v", converge.TemplateName(r), in)
		}
	}
}

// A template LXD fails to copy costs nothing but the attempt: the
// container is created from its image.
func TestCopyFailureFallsBackToTheImage(t *testing.T) {
	inv, f := setup(t)
	for _, r := range inventory.Roles {
		f.PrepareTemplate(context.Background(), lxd.InstanceSpec{Name: converge.TemplateName(r), Image: converge.ImageOf(inv, r)})
	}
	var once bool
	fake := &failOnce{Fake: f, name: "alpha-api", failed: &once}
	e := engine(inv, f)
	e.LXD = fake
	if err := Run(context.Background(), e, deps); err != nil {
		t.Fatal(err)
	}
	if !once || f.Copies["alpha-api"] != "" || f.Instances["alpha-api"] == nil {
		t.Errorf("alpha-api: copy tried %v, copied from %q", once, f.Copies["alpha-api"])
	}
	if f.Copies["alpha-influx"] == "" {
		t.Error("alpha-influx not copied")
	}
}

// failOnce fails the copy of one container.
type failOnce struct {
	*lxdfake.Fake
	name   string
	failed *bool
}

func (c *failOnce) CreateInstance(ctx context.Context, spec lxd.InstanceSpec) error {
	if spec.Name == c.name && spec.CopyOf != "" {
		*c.failed = true
		return errors.New("copy refused")
	}
	return c.Fake.CreateInstance(ctx, spec)
}

// progressLog keeps each step's title and closing line.
type progressLog struct {
	mu    sync.Mutex
	title string
	lines map[string]string
}

func (p *progressLog) Start(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.title = fmt.Sprintf(format, args...)
}

func (p *progressLog) End(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lines == nil {
		p.lines = map[string]string{}
	}
	p.lines[p.title] = line
}

func (p *progressLog) Fail(line string) { p.End("FAILED " + line) }

func (p *progressLog) last(title string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lines[title]
}
