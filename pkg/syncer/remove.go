package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/grafana"
)

// Ping checks that InfluxDB and Grafana answer.
func (s *Syncer) Ping(ctx context.Context) error {
	if err := s.influx.Ping(ctx); err != nil {
		return err
	}
	if _, err := s.grafana.Health(ctx); err != nil {
		return err
	}
	return nil
}

// RemoveKarana takes a deleted karana's InfluxDB user away, so it can no
// longer write. Its data stays in the owner's database. Removing a karana
// that is already gone changes nothing.
func (s *Syncer) RemoveKarana(ctx context.Context, karanaUUID string) (changed bool, err error) {
	if _, err := uuid.Parse(karanaUUID); err != nil {
		return false, fmt.Errorf("removing karana: uuid %q is not a UUID", karanaUUID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s}
	err = r.dropInfluxUser(ctx, KaranaInfluxUser(karanaUUID))
	if err != nil {
		err = fmt.Errorf("removing karana %s: %w", karanaUUID, err)
	}
	return r.changed, err
}

// RemoveUser takes a deleted user's access away: the InfluxDB users of the
// user and of u.Karanas, the Grafana login (looked up by u.Login) and the
// user's Grafana org with its data source. The user's InfluxDB database and
// its data are kept; dropping data is an operator's decision.
func (s *Syncer) RemoveUser(ctx context.Context, u User) (changed bool, err error) {
	if _, err := uuid.Parse(u.UUID); err != nil {
		return false, fmt.Errorf("removing user: uuid %q is not a UUID", u.UUID)
	}
	for _, k := range u.Karanas {
		if _, err := uuid.Parse(k); err != nil {
			return false, fmt.Errorf("removing user %s: karana uuid %q is not a UUID", u.UUID, k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s}
	err = r.removeUser(ctx, u)
	if err != nil {
		err = fmt.Errorf("removing user %s: %w", u.UUID, err)
	}
	return r.changed, err
}

func (r *run) removeUser(ctx context.Context, u User) error {
	if err := r.dropInfluxUser(ctx, UserInfluxUser(u.UUID)); err != nil {
		return err
	}
	for _, k := range u.Karanas {
		if err := r.dropInfluxUser(ctx, KaranaInfluxUser(k)); err != nil {
			return fmt.Errorf("karana %s: %w", k, err)
		}
	}
	g := r.s.grafana
	if u.Login != "" {
		gu, err := g.LookupUser(ctx, u.Login)
		switch {
		case errors.Is(err, grafana.ErrNotFound):
		case err != nil:
			return fmt.Errorf("looking up grafana user %q: %w", u.Login, err)
		case gu.IsGrafanaAdmin:
			return fmt.Errorf("grafana user %q is a server admin; refusing to delete it", u.Login)
		default:
			r.changed = true
			if err := g.DeleteUser(ctx, gu.ID); err != nil && !errors.Is(err, grafana.ErrNotFound) {
				return fmt.Errorf("deleting grafana user %q: %w", u.Login, err)
			}
		}
	}
	name := OrgName(r.s.cfg.TenantID, u.UUID)
	org, err := g.OrgByName(ctx, name)
	if errors.Is(err, grafana.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up grafana org %q: %w", name, err)
	}
	r.changed = true
	if err := g.DeleteOrg(ctx, org.ID); err != nil && !errors.Is(err, grafana.ErrNotFound) {
		return fmt.Errorf("deleting grafana org %q: %w", name, err)
	}
	return nil
}

// dropInfluxUser drops name if SHOW USERS lists it; "user not found" from a
// concurrent drop counts as done.
func (r *run) dropInfluxUser(ctx context.Context, name string) error {
	if err := r.loadUsers(ctx); err != nil {
		return err
	}
	if _, ok := r.users[name]; !ok {
		return nil
	}
	r.changed = true
	if err := r.s.influx.DropUser(ctx, name); err != nil {
		return fmt.Errorf("dropping influx user %s: %w", name, err)
	}
	delete(r.users, name)
	return nil
}
