package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
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
// user and of u.Karanas, the user's Grafana account (the recorded
// u.GrafanaUserID, else the one with u.Login — either only if it is a
// member of the user's org: someone else's account is left alone) and the
// user's Grafana org with its data source and dashboard. The user's
// InfluxDB database and its data are kept unless purge is set.
func (s *Syncer) RemoveUser(ctx context.Context, u User, purge bool) (changed bool, err error) {
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
	err = r.removeUser(ctx, u, purge)
	if err != nil {
		err = fmt.Errorf("removing user %s: %w", u.UUID, err)
	}
	return r.changed, err
}

func (r *run) removeUser(ctx context.Context, u User, purge bool) error {
	if err := r.dropInfluxUser(ctx, UserInfluxUser(u.UUID)); err != nil {
		return err
	}
	for _, k := range u.Karanas {
		if err := r.dropInfluxUser(ctx, KaranaInfluxUser(k)); err != nil {
			return fmt.Errorf("karana %s: %w", k, err)
		}
	}
	if purge {
		if err := r.dropDatabase(ctx, DatabaseName(u.UUID)); err != nil {
			return err
		}
	}
	g := r.s.grafana
	name := OrgName(r.s.cfg.TenantID, u.UUID)
	org, err := g.OrgByName(ctx, name)
	if errors.Is(err, grafana.ErrNotFound) {
		// No org: only a recorded account can still be told to be ours.
		return r.deleteAccount(ctx, u.GrafanaUserID, 0)
	}
	if err != nil {
		return fmt.Errorf("looking up grafana org %q: %w", name, err)
	}
	if err := r.deleteOrgAccounts(ctx, org.ID, u.GrafanaUserID); err != nil {
		return err
	}
	r.changed = true
	if err := g.DeleteOrg(ctx, org.ID); err != nil && !errors.Is(err, grafana.ErrNotFound) {
		return fmt.Errorf("deleting grafana org %q: %w", name, err)
	}
	return nil
}

// deleteOrgAccounts deletes the Grafana accounts that belong to the org's
// user: members that are not server admins, hold no membership in another
// org of this tenant's sync, and, when bound is known, are that account.
func (r *run) deleteOrgAccounts(ctx context.Context, orgID, bound int64) error {
	g := r.s.grafana
	members, err := g.OrgUsers(ctx, orgID)
	if err != nil {
		return fmt.Errorf("listing members of grafana org %d: %w", orgID, err)
	}
	for _, m := range members {
		if strings.EqualFold(m.Login, r.s.cfg.GrafanaUser) || bound != 0 && m.UserID != bound {
			continue
		}
		if err := r.deleteAccount(ctx, m.UserID, orgID); err != nil {
			return err
		}
	}
	return nil
}

// deleteAccount deletes Grafana user id unless it is a server admin or a
// member of an org other than orgID and org 1 (then it is not only this
// user's account). id 0 is no account.
func (r *run) deleteAccount(ctx context.Context, id, orgID int64) error {
	if id == 0 {
		return nil
	}
	g := r.s.grafana
	gu, err := g.UserByID(ctx, id)
	if errors.Is(err, grafana.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading grafana user %d: %w", id, err)
	}
	if gu.IsGrafanaAdmin {
		return nil
	}
	orgs, err := g.UserOrgs(ctx, id)
	if err != nil {
		return fmt.Errorf("listing grafana orgs of user %d: %w", id, err)
	}
	for _, o := range orgs {
		if o.OrgID != orgID && o.OrgID != 1 {
			return nil // also in another org: not only this user's account
		}
	}
	r.changed = true
	if err := g.DeleteUser(ctx, id); err != nil && !errors.Is(err, grafana.ErrNotFound) {
		return fmt.Errorf("deleting grafana user %q: %w", gu.Login, err)
	}
	return nil
}

func (r *run) dropDatabase(ctx context.Context, db string) error {
	if err := r.loadDatabases(ctx); err != nil {
		return err
	}
	if !r.dbs[db] {
		return nil
	}
	r.changed = true
	if err := r.s.influx.Exec(ctx, influx.DropDatabase(db)); err != nil {
		return fmt.Errorf("dropping influx database %s: %w", db, err)
	}
	delete(r.dbs, db)
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
