package syncer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/grafana"
)

// Pruned is one object Prune removed: the record it was made for
// (resource "users" or "karanas", and the uuid) and what it was.
type Pruned struct {
	Resource, ID, What string
}

// managedInflux matches the InfluxDB users the sync creates.
var managedInflux = regexp.MustCompile(`^([ku])_([0-9a-f]{32})$`)

// Prune removes what the sync made for records that no longer exist: the
// InfluxDB users k_<K> and u_<U> whose karana or user is not in keep, and
// the Grafana orgs of this tenant ("karana <tenant> <U>") whose user is not
// in keep, with the accounts that belong only to them (as RemoveUser).
// Databases are kept. keep maps canonical or plain uuids of live records,
// users and karanas alike. It is the orphan half of a full reconcile: a
// record deleted while the API was down, or whose removal was lost, goes
// here.
func (s *Syncer) Prune(ctx context.Context, keepUsers, keepKaranas []string) ([]Pruned, error) {
	keep := map[string]bool{}
	for _, id := range append(append([]string(nil), keepUsers...), keepKaranas...) {
		keep[hexUUID(id)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s}
	var out []Pruned
	if err := r.loadUsers(ctx); err != nil {
		return out, err
	}
	var names []string
	for name := range r.users {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := managedInflux.FindStringSubmatch(name)
		if m == nil || keep[m[2]] || r.users[name].Admin {
			continue
		}
		res := map[string]string{"k": "karanas", "u": "users"}[m[1]]
		if err := r.dropInfluxUser(ctx, name); err != nil {
			return out, err
		}
		out = append(out, Pruned{Resource: res, ID: uuidOfHex(m[2]), What: "influxdb user " + name})
	}
	orgs, err := s.grafana.Orgs(ctx)
	if err != nil {
		return out, fmt.Errorf("listing grafana orgs: %w", err)
	}
	prefix := "karana " + s.cfg.TenantID + " "
	for _, o := range orgs {
		id, ok := strings.CutPrefix(o.Name, prefix)
		u, perr := uuid.Parse(id)
		if !ok || perr != nil || u.String() != id || keep[hexUUID(id)] {
			continue
		}
		if err := r.deleteOrgAccounts(ctx, o.ID, 0); err != nil {
			return out, err
		}
		if err := s.grafana.DeleteOrg(ctx, o.ID); err != nil && !isNotFound(err) {
			return out, fmt.Errorf("deleting grafana org %q: %w", o.Name, err)
		}
		out = append(out, Pruned{Resource: "users", ID: id, What: "grafana org " + o.Name})
	}
	return out, nil
}

func uuidOfHex(h string) string {
	if u, err := uuid.Parse(h); err == nil {
		return u.String()
	}
	return h
}

func isNotFound(err error) bool { return errors.Is(err, grafana.ErrNotFound) }
