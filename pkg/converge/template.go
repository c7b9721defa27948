package converge

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// A template is a stopped container per tenant role, made from the role's
// image and already shifted to LXD's id map (lxd.Client.PrepareTemplate).
// A new tenant container is a copy of it: LXD 5.0.2 would otherwise shift
// the owner of each of its 6,000 to 8,400 files at its first start, 0.3 s
// on an idle host and more than a second under load (docs/operations.md).
// `up` prepares the templates; a container whose role has no template
// ready is created from its image, as before.

// TemplateName is the template of role r. It ends in -template, as no
// tenant container's name does (theirs end in the role).
func TemplateName(r inventory.Role) string { return "karana-" + string(r) + "-template" }

// TemplateReady tells whether in is a template a copy can start from
// without a shift: stopped, made from the image with fingerprint fp,
// shifted, and with its own init back.
func TemplateReady(in *lxd.Instance, fp string) bool {
	idmap := in.Config["volatile.last_state.idmap"]
	return in.Status == "Stopped" && in.Config["raw.lxc"] == "" && fp != "" &&
		in.Config["volatile.base_image"] == fp && idmap != "" && idmap != "[]"
}

// Templates is up's step: it prepares the template of each tenant role
// whose image is local, and replaces one whose image changed or whose
// preparation did not end. A template that cannot be prepared does not
// fail the step, nor count as a change (the next up tries again): new
// containers of its role are created from their image, and the step's
// line says so. On a cluster there are none (a copy would move between
// members).
func (e *Engine) Templates(ctx context.Context) error {
	e.Progress.Start("container templates")
	if ms, err := lxd.Members(ctx, e.LXD); err == nil && len(ms) > 0 {
		e.Report.Note("image", "templates", "")
		e.Progress.End("none on a cluster: a copy would move between members")
		return nil
	}
	var (
		mu           sync.Mutex
		did, missing []string
		wg           sync.WaitGroup
	)
	for _, r := range inventory.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.template(ctx, r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				missing = append(missing, TemplateName(r)+": "+firstLine(err.Error()))
			} else if d != "" {
				did = append(did, d)
			}
		}()
	}
	wg.Wait()
	sort.Strings(did)
	sort.Strings(missing)
	line := strings.Join(did, ", ")
	e.Report.Note("image", "templates", line)
	if line == "" {
		line = "unchanged"
	}
	if len(missing) > 0 {
		line += "; not prepared, new containers come from their images: " + strings.Join(missing, "; ")
	}
	e.Progress.End(line)
	return nil
}

// template brings role r's template to its image; "" when it is current.
func (e *Engine) template(ctx context.Context, r inventory.Role) (string, error) {
	spec := lxd.InstanceSpec{Name: TemplateName(r), Image: ImageOf(e.Inv, r), Profile: e.Inv.LXD.Profile}
	if IsRemoteImage(spec.Image) {
		return "", nil
	}
	fp, err := e.LXD.ImageFingerprint(ctx, spec.Image)
	if err != nil {
		return "", err
	}
	in, err := e.LXD.GetInstance(ctx, spec.Name)
	switch {
	case err == nil && TemplateReady(in, fp):
		return "", nil
	case err == nil:
		if e.DryRun {
			return "would replace " + spec.Name, nil
		}
		if err := e.LXD.DeleteInstance(ctx, spec.Name); err != nil {
			return "", err
		}
	case !errors.Is(err, lxd.ErrNotFound):
		return "", err
	}
	if e.DryRun {
		return "would prepare " + spec.Name, nil
	}
	if err := e.LXD.PrepareTemplate(ctx, spec); err != nil {
		return "", err
	}
	return spec.Name + " prepared", nil
}

// readyTemplate is the template a new container (spec) of role r is
// copied from, or "" when there is none ready: it is then created from
// its image.
func (e *Engine) readyTemplate(ctx context.Context, spec lxd.InstanceSpec, r inventory.Role) string {
	if spec.Target != "" || IsRemoteImage(spec.Image) {
		return ""
	}
	name := TemplateName(r)
	in, err := e.LXD.GetInstance(ctx, name)
	if err != nil {
		return ""
	}
	fp, err := e.LXD.ImageFingerprint(ctx, spec.Image)
	if err != nil || !TemplateReady(in, fp) {
		return ""
	}
	return name
}
