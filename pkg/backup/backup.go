// Package backup takes consistent backups of each tenant's data (InfluxDB
// with its users and grants, the API's data folder with its git history,
// Grafana's state) into the inventory's backup folder, and restores them
// onto new containers of the same roles.
//
// A backup is one folder per tenant and time: it is written under a
// hidden temporary name, each part streamed from the container, fsynced
// and checksummed, the manifest last, and only then renamed to its ID.
// A backup killed half-way therefore never has an ID and is never taken
// for the latest; the next backup removes it. Old backups are deleted
// only after a newer one is complete.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
)

// Execer runs commands in containers (the LXD client).
type Execer interface {
	Exec(ctx context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// ManifestFile is the manifest's name inside a backup folder.
const ManifestFile = "manifest.json"

// partialPrefix starts the name of a backup being written.
const partialPrefix = ".partial-"

// IDLayout names backups by their UTC time; names sort by time.
const IDLayout = "20060102T150405.000Z"

// Manifest describes one complete backup of one tenant.
type Manifest struct {
	Format  int         `json:"format"` // 1
	ID      string      `json:"id"`
	Project string      `json:"project"`
	Tenant  TenantEntry `json:"tenant"`
	Time    time.Time   `json:"time"`
	Parts   []Part      `json:"parts"`
	// Dir is the backup's folder (not stored).
	Dir string `json:"-"`
}

// TenantEntry is the tenant's inventory entry, so that a removed tenant
// can be restored with its domain, id and addresses.
type TenantEntry struct {
	Name     string `json:"name"`
	Domain   string `json:"domain"`
	Customer string `json:"customer,omitempty"`
	ID       string `json:"id,omitempty"`
	Slot     *int   `json:"slot,omitempty"`
}

// Inventory is the entry as the inventory holds it.
func (e TenantEntry) Inventory() inventory.Tenant {
	return inventory.Tenant{Name: e.Name, Domain: e.Domain, Customer: e.Customer, ID: e.ID, Slot: e.Slot}
}

// Part is one role's data in a backup.
type Part struct {
	Role      inventory.Role `json:"role"`
	Container string         `json:"container"`
	File      string         `json:"file"`
	Format    string         `json:"format"`
	Size      int64          `json:"size"`
	SHA256    string         `json:"sha256"`
	Seconds   float64        `json:"seconds"` // how long taking it took
}

// Size is the sum of the parts' sizes.
func (m *Manifest) Size() int64 {
	var n int64
	for _, p := range m.Parts {
		n += p.Size
	}
	return n
}

// Part returns the part of role r.
func (m *Manifest) Part(r inventory.Role) (Part, bool) {
	for _, p := range m.Parts {
		if p.Role == r {
			return p, true
		}
	}
	return Part{}, false
}

// TenantDir is the folder of tenant name's backups.
func TenantDir(inv *inventory.Inventory, name string) string {
	return filepath.Join(inv.BackupDir(), name)
}

// Take backs tenant t up: the three parts in parallel, then the manifest,
// then the rename that makes the backup complete. The caller holds the
// project lock, so any partial backup found is a killed one and removed.
func Take(ctx context.Context, c Execer, inv *inventory.Inventory, t inventory.Tenant, now time.Time) (*Manifest, error) {
	dir := TenantDir(inv, t.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	removePartials(dir)
	m := &Manifest{Format: 1, ID: now.UTC().Format(IDLayout), Project: inv.LXD.Project, Time: now.UTC(),
		Tenant: TenantEntry{Name: t.Name, Domain: t.Domain, Customer: t.Customer, ID: t.ID, Slot: t.Slot}}
	final := filepath.Join(dir, m.ID)
	if _, err := os.Stat(final); err == nil {
		return nil, fmt.Errorf("backup %s exists already", final)
	}
	tmp := filepath.Join(dir, partialPrefix+m.ID)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", tmp, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	m.Parts = make([]Part, len(inventory.Roles))
	errs := make([]error, len(inventory.Roles))
	var wg sync.WaitGroup
	for i, r := range inventory.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Parts[i], errs[i] = savePart(ctx, c, tmp, t.ContainerName(r), r)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFile(filepath.Join(tmp, ManifestFile), append(data, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("completing backup %s: %w", final, err)
	}
	ok = true
	m.Dir = final
	return m, fsutil.SyncDir(dir)
}

// savePart streams role r's data out of container into a file of dir,
// checksumming it on the way, and fsyncs it.
func savePart(ctx context.Context, c Execer, dir, container string, r inventory.Role) (Part, error) {
	start := time.Now()
	save, _, format := scripts(r)
	p := Part{Role: r, Container: container, File: string(r) + ".tar", Format: format}
	f, err := os.OpenFile(filepath.Join(dir, p.File), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return p, err
	}
	defer f.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	var stderr strings.Builder
	code, err := c.Exec(ctx, container, []string{"sh", "-c", save}, nil, cw, &limitedWriter{b: &stderr, n: 4096})
	if err != nil {
		return p, fmt.Errorf("backing up %s: %w", container, err)
	}
	if code != 0 {
		return p, fmt.Errorf("backing up %s: exit %d: %s", container, code, strings.TrimSpace(stderr.String()))
	}
	if cw.n == 0 {
		return p, fmt.Errorf("backing up %s: the container sent nothing", container)
	}
	if err := f.Sync(); err != nil {
		return p, err
	}
	p.Size, p.SHA256 = cw.n, hex.EncodeToString(h.Sum(nil))
	p.Seconds = time.Since(start).Seconds()
	return p, f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// limitedWriter keeps the first n bytes (error output to show).
type limitedWriter struct {
	b *strings.Builder
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		l.b.Write(p[:room])
	}
	return len(p), nil
}

func removePartials(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, partialPrefix+"*"))
	for _, p := range stale {
		os.RemoveAll(p)
	}
}

// List returns tenant name's complete backups, oldest first. Folders
// without a readable manifest (never completed, or damaged) are left out.
func List(inv *inventory.Inventory, name string) ([]*Manifest, error) {
	dir := TenantDir(inv, name)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Manifest
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, err := Read(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Read loads the manifest of the backup in dir.
func Read(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != 1 || m.Tenant.Name == "" || len(m.Parts) == 0 {
		return nil, fmt.Errorf("%s: not a karana backup manifest (format 1)", filepath.Join(dir, ManifestFile))
	}
	m.Dir = dir
	return &m, nil
}

// ErrNoBackup is returned when a tenant has no complete backup.
var ErrNoBackup = errors.New("no complete backup")

// Find returns tenant name's backup id, or the latest when id is "". id
// may also be the path of a backup folder.
func Find(inv *inventory.Inventory, name, id string) (*Manifest, error) {
	if strings.ContainsRune(id, os.PathSeparator) {
		m, err := Read(id)
		if err != nil {
			return nil, fmt.Errorf("backup %s: %w", id, err)
		}
		if m.Tenant.Name != name {
			return nil, fmt.Errorf("backup %s is of tenant %q, not %q", id, m.Tenant.Name, name)
		}
		return m, nil
	}
	all, err := List(inv, name)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("tenant %q: %w in %s (run karana backup %s)", name, ErrNoBackup, TenantDir(inv, name), name)
	}
	if id == "" {
		return all[len(all)-1], nil
	}
	for _, m := range all {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("tenant %q has no complete backup %q in %s (karana backup list shows them)", name, id, TenantDir(inv, name))
}

// Prune deletes tenant name's oldest complete backups beyond keep and
// any partial ones, and returns the IDs it deleted.
func Prune(inv *inventory.Inventory, name string, keep int) ([]string, error) {
	all, err := List(inv, name)
	if err != nil {
		return nil, err
	}
	var gone []string
	for len(all) > keep {
		if err := os.RemoveAll(all[0].Dir); err != nil {
			return gone, fmt.Errorf("deleting old backup %s: %w", all[0].Dir, err)
		}
		gone = append(gone, all[0].ID)
		all = all[1:]
	}
	return gone, nil
}

// Verify checks that every part's file has the manifest's size and
// checksum.
func Verify(m *Manifest) error {
	for _, p := range m.Parts {
		f, err := os.Open(filepath.Join(m.Dir, p.File))
		if err != nil {
			return fmt.Errorf("backup %s: %w", m.Dir, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("backup %s: reading %s: %w", m.Dir, p.File, err)
		}
		if n != p.Size || hex.EncodeToString(h.Sum(nil)) != p.SHA256 {
			return fmt.Errorf("backup %s: %s does not match its manifest (size %d, want %d; or checksum differs): take another backup or restore an older one with --from", m.Dir, p.File, n, p.Size)
		}
	}
	return nil
}

// Tenants names every tenant with a folder in the project's backup
// folder, removed ones included, sorted.
func Tenants(inv *inventory.Inventory) []string {
	ents, _ := os.ReadDir(inv.BackupDir())
	var out []string
	for _, e := range ents {
		if e.IsDir() && inventory.ValidTenantName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out
}
