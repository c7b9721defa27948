// Package syncer makes InfluxDB and Grafana match karana's users and
// karanas: one InfluxDB database per user, write-only credentials per
// karana, read-only credentials per user, and one Grafana organisation per
// user holding a data source for that user's database. Every step checks
// first and only changes what differs, so a repeated sync with unchanged
// input makes no mutating request and reports changed=false.
package syncer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
)

// User is a karana user as the management API stores it.
type User struct {
	UUID, Name, Email, Login, Role, InfluxPassword string
	Karanas                                        []string
	// GrafanaUserID is the Grafana account an earlier sync created or
	// adopted for this user (0: none recorded). The sync manages that
	// account, and adopts another only when it is a member of the user's
	// own org.
	GrafanaUserID int64
}

// Karana is a karana (a device that writes measurements) and its owner.
type Karana struct{ UUID, Name, Owner, InfluxPassword string }

// Config says where InfluxDB and Grafana are and how to log in as their
// admins.
type Config struct {
	InfluxURL, InfluxUser, InfluxPassword    string
	GrafanaURL, GrafanaUser, GrafanaPassword string
	TenantID                                 string
	// HTTPClient is used for both; nil means a client with a 30 s timeout.
	// Each request is also bounded by the clients' own per-request timeout.
	HTTPClient *http.Client
	// DataSourceURL is the InfluxDB URL Grafana's data sources use, when
	// Grafana reaches InfluxDB by another address than the syncer does.
	// Empty means InfluxURL.
	DataSourceURL string
}

// Syncer runs syncs. Its methods are safe for concurrent use; syncs run one
// at a time because each is a check-then-act sequence.
type Syncer struct {
	mu      sync.Mutex
	influx  *influx.Client
	grafana *grafana.Client
	cfg     Config
}

// New checks cfg and returns a Syncer. It makes no request.
func New(cfg Config) (*Syncer, error) {
	var missing []string
	for _, f := range []struct{ name, val string }{
		{"InfluxURL", cfg.InfluxURL}, {"InfluxUser", cfg.InfluxUser}, {"InfluxPassword", cfg.InfluxPassword},
		{"GrafanaURL", cfg.GrafanaURL}, {"GrafanaUser", cfg.GrafanaUser}, {"GrafanaPassword", cfg.GrafanaPassword},
		{"TenantID", cfg.TenantID},
	} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("syncer: config is missing %s", strings.Join(missing, ", "))
	}
	if strings.ContainsAny(cfg.TenantID, "\x00\n\r") {
		return nil, fmt.Errorf("syncer: tenant id %q contains control characters", cfg.TenantID)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	ic, err := influx.New(cfg.InfluxURL, cfg.InfluxUser, cfg.InfluxPassword, hc)
	if err != nil {
		return nil, fmt.Errorf("syncer: %w", err)
	}
	gc, err := grafana.New(cfg.GrafanaURL, cfg.GrafanaUser, cfg.GrafanaPassword, hc)
	if err != nil {
		return nil, fmt.Errorf("syncer: %w", err)
	}
	if cfg.DataSourceURL == "" {
		cfg.DataSourceURL = cfg.InfluxURL
	}
	return &Syncer{influx: ic, grafana: gc, cfg: cfg}, nil
}

// SyncKarana gives the karana an InfluxDB user with its password and WRITE
// on its owner's database only (creating that database if needed).
func (s *Syncer) SyncKarana(ctx context.Context, k Karana) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s}
	if err := r.karana(ctx, k); err != nil {
		return r.changed, err
	}
	return r.changed, nil
}

// SyncUser makes the user's database, read-only InfluxDB user, Grafana
// organisation, Grafana login, membership and data source match u, and
// syncs each of karanas that belongs to u (an empty Owner is taken as u).
// Karanas owned by someone else are left alone and reported in the error
// after everything else is done. changed reports whether anything had to be
// changed, even when err is not nil.
func (s *Syncer) SyncUser(ctx context.Context, u User, karanas []Karana) (changed bool, err error) {
	out, err := s.Sync(ctx, u, karanas)
	return out.Changed, err
}

// Outcome is what a user's sync did and found.
type Outcome struct {
	Changed bool
	// GrafanaUserID is the user's Grafana account, to record and pass as
	// User.GrafanaUserID next time (0 when the sync did not get that far).
	GrafanaUserID int64
}

// Sync is SyncUser, also returning the Grafana account it manages.
func (s *Syncer) Sync(ctx context.Context, u User, karanas []Karana) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s}
	err := r.user(ctx, u, karanas)
	return Outcome{Changed: r.changed, GrafanaUserID: r.grafanaUserID}, err
}

// run is one sync: it caches what it read and records whether it changed
// anything.
type run struct {
	s       *Syncer
	changed bool
	users   map[string]influx.User // SHOW USERS, read once
	dbs     map[string]bool        // SHOW DATABASES, read once

	grafanaUserID int64 // the account ensureLogin settled on
}

func (r *run) user(ctx context.Context, u User, karanas []Karana) error {
	if err := validateUser(u); err != nil {
		return err
	}
	if strings.EqualFold(u.Login, r.s.cfg.GrafanaUser) {
		return fmt.Errorf("syncing user %s: grafana login %q is the grafana admin's; refusing to manage it", u.UUID, u.Login)
	}
	own, foreign := splitByOwner(u, karanas)
	n := namesFor(r.s.cfg.TenantID, u.UUID)
	if err := r.ensureDatabase(ctx, n.Database); err != nil {
		return fmt.Errorf("syncing user %s: %w", u.UUID, err)
	}
	if err := r.ensureInfluxUser(ctx, n.InfluxUser, u.InfluxPassword, map[string]influx.Privilege{n.Database: influx.Read}); err != nil {
		return fmt.Errorf("syncing user %s: %w", u.UUID, err)
	}
	for _, k := range own {
		if err := r.karana(ctx, k); err != nil {
			return fmt.Errorf("syncing user %s: %w", u.UUID, err)
		}
	}
	if err := r.grafanaUser(ctx, u, n, own); err != nil {
		return fmt.Errorf("syncing user %s: %w", u.UUID, err)
	}
	if len(foreign) > 0 {
		return fmt.Errorf("syncing user %s: not synced here, they belong to other users: %s (sync them with their owners)",
			u.UUID, strings.Join(foreign, ", "))
	}
	return nil
}

// splitByOwner returns copies of the user's own karanas (an empty Owner
// counts as the user) and a description of those owned by someone else.
// The caller's slice is left as it was.
func splitByOwner(u User, karanas []Karana) (own []Karana, foreign []string) {
	for _, k := range karanas {
		if k.Owner == "" {
			k.Owner = u.UUID
		}
		if sameUUID(k.Owner, u.UUID) {
			own = append(own, k)
		} else {
			foreign = append(foreign, fmt.Sprintf("karana %s (owner %s)", k.UUID, k.Owner))
		}
	}
	return own, foreign
}

func (r *run) karana(ctx context.Context, k Karana) error {
	if err := validateKarana(k); err != nil {
		return err
	}
	db := namesFor(r.s.cfg.TenantID, k.Owner).Database
	if err := r.ensureDatabase(ctx, db); err != nil {
		return fmt.Errorf("syncing karana %s: %w", k.UUID, err)
	}
	err := r.ensureInfluxUser(ctx, KaranaInfluxUser(k.UUID), k.InfluxPassword, map[string]influx.Privilege{db: influx.Write})
	if err != nil {
		return fmt.Errorf("syncing karana %s: %w", k.UUID, err)
	}
	return nil
}

func validateUser(u User) error {
	var problems []string
	if _, err := uuid.Parse(u.UUID); err != nil {
		problems = append(problems, fmt.Sprintf("uuid %q is not a UUID", u.UUID))
	}
	if strings.TrimSpace(u.Login) == "" {
		problems = append(problems, "login is empty")
	}
	if len(u.InfluxPassword) < 8 {
		problems = append(problems, "influx password is shorter than 8 characters")
	}
	if len(problems) > 0 {
		return fmt.Errorf("syncing user %q: %s", u.UUID, strings.Join(problems, "; "))
	}
	return nil
}

func validateKarana(k Karana) error {
	var problems []string
	if _, err := uuid.Parse(k.UUID); err != nil {
		problems = append(problems, fmt.Sprintf("uuid %q is not a UUID", k.UUID))
	}
	if _, err := uuid.Parse(k.Owner); err != nil {
		problems = append(problems, fmt.Sprintf("owner %q is not a UUID", k.Owner))
	}
	if len(k.InfluxPassword) < 8 {
		problems = append(problems, "influx password is shorter than 8 characters")
	}
	if len(problems) > 0 {
		return fmt.Errorf("syncing karana %q: %s", k.UUID, strings.Join(problems, "; "))
	}
	return nil
}

func sameUUID(a, b string) bool {
	ua, err1 := uuid.Parse(a)
	ub, err2 := uuid.Parse(b)
	return err1 == nil && err2 == nil && ua == ub
}
