package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/karana-project/karana/pkg/influx"
)

func (r *run) loadDatabases(ctx context.Context) error {
	if r.dbs != nil {
		return nil
	}
	dbs, err := r.s.influx.Databases(ctx)
	if err != nil {
		return fmt.Errorf("listing influx databases: %w", err)
	}
	r.dbs = map[string]bool{}
	for _, d := range dbs {
		r.dbs[d] = true
	}
	return nil
}

func (r *run) ensureDatabase(ctx context.Context, db string) error {
	if err := r.loadDatabases(ctx); err != nil {
		return err
	}
	if r.dbs[db] {
		return nil
	}
	r.changed = true
	if err := r.s.influx.Exec(ctx, influx.CreateDatabase(db)); err != nil {
		return fmt.Errorf("creating influx database %s: %w", db, err)
	}
	r.dbs[db] = true
	return nil
}

// ensureInfluxUser makes name exist as a non-admin with password and
// exactly the privileges in want.
func (r *run) ensureInfluxUser(ctx context.Context, name, password string, want map[string]influx.Privilege) error {
	if err := r.loadUsers(ctx); err != nil {
		return err
	}
	if err := r.ensureInfluxLogin(ctx, name, password); err != nil {
		return err
	}
	return r.ensureGrants(ctx, name, want)
}

func (r *run) ensureInfluxLogin(ctx context.Context, name, password string) error {
	existing, ok := r.users[name]
	if !ok {
		r.changed = true
		err := r.s.influx.Exec(ctx, influx.CreateUser(name, password, false))
		if err == nil {
			r.users[name] = influx.User{Name: name}
			return nil
		}
		if !errors.Is(err, influx.ErrUserExists) {
			return fmt.Errorf("creating influx user %s: %w", name, err)
		}
		// Created since we listed, with another password: set ours below.
	}
	if existing.Admin {
		r.changed = true
		if err := r.s.influx.Exec(ctx, influx.RevokeAdmin(name)); err != nil {
			return fmt.Errorf("revoking admin from influx user %s: %w", name, err)
		}
	}
	ok, err := r.s.influx.Authenticate(ctx, name, password)
	if err != nil {
		return fmt.Errorf("checking the password of influx user %s: %w", name, err)
	}
	if ok {
		return nil
	}
	r.changed = true
	if err := r.s.influx.Exec(ctx, influx.SetPassword(name, password)); err != nil {
		return fmt.Errorf("setting the password of influx user %s: %w", name, err)
	}
	return nil
}

func (r *run) ensureGrants(ctx context.Context, name string, want map[string]influx.Privilege) error {
	got, err := r.s.influx.Grants(ctx, name)
	if err != nil {
		return fmt.Errorf("listing grants of influx user %s: %w", name, err)
	}
	for db, p := range want {
		if got[db] == p {
			continue
		}
		r.changed = true
		if err := r.s.influx.Exec(ctx, influx.Grant(p, db, name)); err != nil {
			return fmt.Errorf("granting %s on %s to influx user %s: %w", p, db, name, err)
		}
	}
	for db := range got {
		if _, ok := want[db]; ok {
			continue
		}
		r.changed = true
		if err := r.s.influx.Exec(ctx, influx.Revoke(db, name)); err != nil {
			return fmt.Errorf("revoking %s on %s from influx user %s: %w", got[db], db, name, err)
		}
	}
	return nil
}

// loadUsers reads SHOW USERS once per sync.
func (r *run) loadUsers(ctx context.Context) error {
	if r.users != nil {
		return nil
	}
	users, err := r.s.influx.Users(ctx)
	if err != nil {
		return fmt.Errorf("listing influx users: %w", err)
	}
	r.users = map[string]influx.User{}
	for _, u := range users {
		r.users[u.Name] = u
	}
	return nil
}
