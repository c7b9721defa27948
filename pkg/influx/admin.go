package influx

import (
	"context"
	"errors"
	"fmt"
)

// User is one row of SHOW USERS.
type User struct {
	Name  string
	Admin bool
}

// Users lists all users (needs admin credentials).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	series, err := c.Query(ctx, ShowUsers())
	if err != nil {
		return nil, err
	}
	var users []User
	err = eachRow(series, "SHOW USERS", []string{"user", "admin"}, func(row []any) error {
		name, ok1 := row[0].(string)
		admin, ok2 := row[1].(bool)
		if !ok1 || !ok2 {
			return fmt.Errorf("unexpected row %v", row)
		}
		users = append(users, User{Name: name, Admin: admin})
		return nil
	})
	return users, err
}

// Databases lists the databases the caller may see.
func (c *Client) Databases(ctx context.Context) ([]string, error) {
	series, err := c.Query(ctx, ShowDatabases())
	if err != nil {
		return nil, err
	}
	var dbs []string
	err = eachRow(series, "SHOW DATABASES", []string{"name"}, func(row []any) error {
		name, ok := row[0].(string)
		if !ok {
			return fmt.Errorf("unexpected row %v", row)
		}
		dbs = append(dbs, name)
		return nil
	})
	return dbs, err
}

// Grants returns the user's privilege per database, leaving out databases
// where a revoke left "NO PRIVILEGES".
func (c *Client) Grants(ctx context.Context, user string) (map[string]Privilege, error) {
	series, err := c.Query(ctx, ShowGrants(user))
	if err != nil {
		return nil, err
	}
	grants := map[string]Privilege{}
	err = eachRow(series, "SHOW GRANTS", []string{"database", "privilege"}, func(row []any) error {
		db, ok1 := row[0].(string)
		p, ok2 := row[1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("unexpected row %v", row)
		}
		if priv := parsePrivilege(p); priv != "" {
			grants[db] = priv
		}
		return nil
	})
	return grants, err
}

// DropUser deletes a user; a user that is already gone counts as done.
func (c *Client) DropUser(ctx context.Context, name string) error {
	err := c.Exec(ctx, DropUser(name))
	if errors.Is(err, ErrUserNotFound) {
		return nil
	}
	return err
}

// EnsureAdmin creates the first admin on a fresh InfluxDB with auth enabled
// (the only statement InfluxDB accepts before an admin exists). Repeating it
// with the same name and password is harmless.
func (c *Client) EnsureAdmin(ctx context.Context) error {
	if c.user == "" {
		return errors.New("influx: creating admin: no admin user configured")
	}
	return c.Exec(ctx, CreateUser(c.user, c.password, true))
}

// Authenticate reports whether user/password are accepted, using a
// read-only query as that user. Only a 401 means "no"; other failures are
// errors.
func (c *Client) Authenticate(ctx context.Context, user, password string) (bool, error) {
	_, err := c.As(user, password).Query(ctx, ShowDatabases())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrUnauthorized):
		return false, nil
	}
	return false, err
}

func eachRow(series []Series, what string, want []string, fn func([]any) error) error {
	for _, s := range series {
		idx := make([]int, len(want))
		for i, col := range want {
			idx[i] = indexOf(s.Columns, col)
			if idx[i] < 0 {
				return fmt.Errorf("influx: %s: no column %q in %v", what, col, s.Columns)
			}
		}
		for _, v := range s.Values {
			row := make([]any, len(want))
			for i, j := range idx {
				if j < len(v) {
					row[i] = v[j]
				}
			}
			if err := fn(row); err != nil {
				return fmt.Errorf("influx: %s: %w", what, err)
			}
		}
	}
	return nil
}

func indexOf(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}
