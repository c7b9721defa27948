package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/karana-project/karana/pkg/grafana"
)

// grafanaUser gives the user their own org, a login, Editor membership,
// the data source and the dashboard of their karanas, and takes them out
// of the default org 1.
func (r *run) grafanaUser(ctx context.Context, u User, n names, karanas []Karana) error {
	orgID, err := r.ensureOrg(ctx, n.Org)
	if err != nil {
		return err
	}
	userID, err := r.ensureLogin(ctx, u, orgID)
	if err != nil {
		return err
	}
	r.grafanaUserID = userID
	if err := r.ensureMembership(ctx, u, orgID, userID); err != nil {
		return err
	}
	dsUID, err := r.ensureDataSource(ctx, orgID, n, u.InfluxPassword)
	if err != nil {
		return err
	}
	return r.ensureDashboard(ctx, orgID, u.UUID, dsUID, karanas)
}

func (r *run) ensureOrg(ctx context.Context, name string) (int64, error) {
	g := r.s.grafana
	org, err := g.OrgByName(ctx, name)
	if err == nil {
		return org.ID, nil
	}
	if !errors.Is(err, grafana.ErrNotFound) {
		return 0, fmt.Errorf("looking up grafana org %q: %w", name, err)
	}
	r.changed = true
	id, err := g.CreateOrg(ctx, name)
	if errors.Is(err, grafana.ErrConflict) { // created since we looked
		org, err = g.OrgByName(ctx, name)
		id = org.ID
	}
	if err != nil {
		return 0, fmt.Errorf("creating grafana org %q: %w", name, err)
	}
	return id, nil
}

// ensureLogin finds the user's Grafana account — by the id an earlier sync
// recorded, else by login, then email — creates it in orgID if missing,
// and corrects login, email, name and password. An account found by login
// or email is this user's only if it is a member of the user's own org
// (which only a sync of this user puts it in); any other is someone else's
// and is never adopted or changed (a *ConflictError). It never touches a
// Grafana server admin.
func (r *run) ensureLogin(ctx context.Context, u User, orgID int64) (int64, error) {
	g := r.s.grafana
	existing, found, err := r.boundLogin(ctx, u)
	if err == nil && !found {
		existing, err = r.claimLogin(ctx, u, orgID)
	}
	if errors.Is(err, grafana.ErrNotFound) {
		r.changed = true
		id, cerr := g.CreateUser(ctx, grafana.NewUser{Name: u.Name, Email: u.Email, Login: u.Login, Password: u.InfluxPassword, OrgID: orgID})
		if cerr == nil {
			return id, nil
		}
		if !errors.Is(cerr, grafana.ErrPreconditionFailed) {
			return 0, fmt.Errorf("creating grafana user %q: %w", u.Login, cerr)
		}
		// The login or email exists (created since we looked, or someone
		// else's): verify it like any account found by login.
		existing, err = r.claimLogin(ctx, u, orgID)
	}
	if err != nil {
		return 0, fmt.Errorf("finding the grafana user of %q: %w", u.Login, err)
	}
	if existing.IsGrafanaAdmin {
		return 0, fmt.Errorf("grafana user %q is a server admin; refusing to manage it", existing.Login)
	}
	// Grafana matches logins and emails case-insensitively (and may store
	// them lower-cased), so only a real difference is an update.
	if !strings.EqualFold(existing.Login, u.Login) || !strings.EqualFold(existing.Email, email(u)) || existing.Name != u.Name {
		r.changed = true
		upd := grafana.UserUpdate{Login: u.Login, Email: email(u), Name: u.Name}
		if err := g.UpdateUser(ctx, existing.ID, upd); err != nil {
			if errors.Is(err, grafana.ErrConflict) {
				return 0, &ConflictError{Login: u.Login, GrafanaUserID: existing.ID,
					Why: "the login or email is taken by another grafana user"}
			}
			return 0, fmt.Errorf("updating grafana user %q: %w", u.Login, err)
		}
	}
	me, err := g.As(u.Login, u.InfluxPassword).CurrentUser(ctx)
	if errors.Is(err, grafana.ErrUnauthorized) || err == nil && me.ID != existing.ID {
		r.changed = true
		err = g.SetUserPassword(ctx, existing.ID, u.InfluxPassword)
	}
	if err != nil {
		return 0, fmt.Errorf("checking the password of grafana user %q: %w", u.Login, err)
	}
	return existing.ID, nil
}

// boundLogin reads the account recorded for the user; found is false when
// none is recorded or Grafana no longer has it (a replaced Grafana).
func (r *run) boundLogin(ctx context.Context, u User) (gu grafana.User, found bool, err error) {
	if u.GrafanaUserID == 0 {
		return gu, false, nil
	}
	gu, err = r.s.grafana.UserByID(ctx, u.GrafanaUserID)
	if errors.Is(err, grafana.ErrNotFound) {
		return gu, false, nil
	}
	if err != nil {
		return gu, false, fmt.Errorf("reading grafana user %d: %w", u.GrafanaUserID, err)
	}
	return gu, true, nil
}

// claimLogin looks the user up by login, then email, and returns the
// account only if it is a member of orgID, the user's own org.
func (r *run) claimLogin(ctx context.Context, u User, orgID int64) (grafana.User, error) {
	found, err := r.lookupLogin(ctx, u)
	if err != nil {
		return found, err
	}
	mine, err := r.memberOf(ctx, found.ID, orgID)
	if err != nil {
		return found, err
	}
	if !mine {
		return found, &ConflictError{Login: u.Login, GrafanaUserID: found.ID,
			Why: fmt.Sprintf("grafana user %q has that login or email and is not a member of this user's org %d", found.Login, orgID)}
	}
	return found, nil
}

func (r *run) memberOf(ctx context.Context, userID, orgID int64) (bool, error) {
	orgs, err := r.s.grafana.UserOrgs(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("listing grafana orgs of user %d: %w", userID, err)
	}
	for _, o := range orgs {
		if o.OrgID == orgID {
			return true, nil
		}
	}
	return false, nil
}

// ConflictError reports a Grafana account the sync will not adopt or
// change because it belongs to someone else.
type ConflictError struct {
	Login         string
	GrafanaUserID int64
	Why           string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict: %s (grafana user id %d); not adopting or changing it — give this user another login or email", e.Why, e.GrafanaUserID)
}

func (r *run) lookupLogin(ctx context.Context, u User) (grafana.User, error) {
	found, err := r.s.grafana.LookupUser(ctx, u.Login)
	if errors.Is(err, grafana.ErrNotFound) && u.Email != "" {
		return r.s.grafana.LookupUser(ctx, u.Email)
	}
	return found, err
}

// email is what Grafana stores as the email: Grafana uses the login when
// no email is given.
func email(u User) string {
	if u.Email == "" {
		return u.Login
	}
	return u.Email
}

func (r *run) ensureMembership(ctx context.Context, u User, orgID, userID int64) error {
	g := r.s.grafana
	members, err := g.OrgUsers(ctx, orgID)
	if err != nil {
		return fmt.Errorf("listing members of grafana org %d: %w", orgID, err)
	}
	role, adminIn := "", false
	for _, m := range members {
		if m.UserID == userID {
			role = m.Role
		}
		if strings.EqualFold(m.Login, r.s.cfg.GrafanaUser) {
			adminIn = true
		}
	}
	if !adminIn { // the data source calls need the admin in the org
		r.changed = true
		if err := g.AddOrgUser(ctx, orgID, r.s.cfg.GrafanaUser, "Admin"); err != nil && !errors.Is(err, grafana.ErrConflict) {
			return fmt.Errorf("adding the grafana admin to org %d: %w", orgID, err)
		}
	}
	switch {
	case role == "":
		r.changed = true
		err = g.AddOrgUser(ctx, orgID, u.Login, GrafanaRole)
		if errors.Is(err, grafana.ErrConflict) {
			err = g.SetOrgUserRole(ctx, orgID, userID, GrafanaRole)
		}
	case role != GrafanaRole:
		r.changed = true
		err = g.SetOrgUserRole(ctx, orgID, userID, GrafanaRole)
	}
	if err != nil {
		return fmt.Errorf("making grafana user %q %s of org %d: %w", u.Login, GrafanaRole, orgID, err)
	}
	return r.leaveDefaultOrg(ctx, u, orgID, userID)
}

// leaveDefaultOrg takes the user out of org 1, where Grafana puts new users
// by default. It runs after the user is in their own org, because Grafana
// deletes a user whose last membership is removed.
func (r *run) leaveDefaultOrg(ctx context.Context, u User, orgID, userID int64) error {
	if orgID == 1 {
		return nil
	}
	orgs, err := r.s.grafana.UserOrgs(ctx, userID)
	if err != nil {
		return fmt.Errorf("listing grafana orgs of user %q: %w", u.Login, err)
	}
	for _, o := range orgs {
		if o.OrgID != 1 {
			continue
		}
		r.changed = true
		err := r.s.grafana.RemoveOrgUser(ctx, 1, userID)
		if err != nil && !errors.Is(err, grafana.ErrNotFound) {
			return fmt.Errorf("removing grafana user %q from org 1: %w", u.Login, err)
		}
	}
	return nil
}
