package grafana

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Org is an organisation.
type Org struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// OrgByName looks an organisation up; ErrNotFound when there is none.
func (c *Client) OrgByName(ctx context.Context, name string) (Org, error) {
	var o Org
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/orgs/name/" + url.PathEscape(name), out: &o})
	return o, err
}

// Orgs lists every organisation (server admin only), reading Grafana's
// pages of 1000 until one comes back short.
func (c *Client) Orgs(ctx context.Context) ([]Org, error) {
	const perPage = 1000
	var all []Org
	for page := 1; ; page++ {
		var out []Org
		err := c.do(ctx, request{method: http.MethodGet, path: "/api/orgs",
			query: url.Values{"perpage": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}, out: &out})
		if err != nil {
			return nil, err
		}
		all = append(all, out...)
		if len(out) < perPage {
			return all, nil
		}
	}
}

// CreateOrg creates an organisation and returns its id; ErrConflict when the
// name is taken. The caller becomes an Admin member of the new org.
func (c *Client) CreateOrg(ctx context.Context, name string) (int64, error) {
	var out struct {
		OrgID int64 `json:"orgId"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/orgs", in: map[string]string{"name": name}, out: &out})
	return out.OrgID, err
}

// User is a Grafana user as the lookup and /api/user return it.
type User struct {
	ID             int64  `json:"id"`
	Login          string `json:"login"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	OrgID          int64  `json:"orgId"`
	IsGrafanaAdmin bool   `json:"isGrafanaAdmin"`
}

// LookupUser finds a user by login or email; ErrNotFound when there is none.
func (c *Client) LookupUser(ctx context.Context, loginOrEmail string) (User, error) {
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/users/lookup",
		query: url.Values{"loginOrEmail": {loginOrEmail}}, out: &u})
	return u, err
}

// UserByID reads a user (server admin only); ErrNotFound when there is
// none.
func (c *Client) UserByID(ctx context.Context, userID int64) (User, error) {
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/users/" + id(userID), out: &u})
	return u, err
}

// CurrentUser is GET /api/user for the client's own credentials; with As it
// checks whether a password is accepted (ErrUnauthorized when it is not).
func (c *Client) CurrentUser(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/user", out: &u})
	return u, err
}

// NewUser is the body of POST /api/admin/users.
type NewUser struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Login    string `json:"login"`
	Password string `json:"password"`
	OrgID    int64  `json:"OrgId,omitempty"`
}

// CreateUser creates a user (server admin only) and returns its id;
// ErrPreconditionFailed when the login or email is taken.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/api/admin/users", in: u, out: &out})
	return out.ID, err
}

// UserUpdate is the body of PUT /api/users/:id.
type UserUpdate struct {
	Login string `json:"login"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// UpdateUser changes a user's login, email and name (server admin only).
func (c *Client) UpdateUser(ctx context.Context, userID int64, u UserUpdate) error {
	return c.do(ctx, request{method: http.MethodPut, path: "/api/users/" + id(userID), in: u})
}

// SetUserPassword sets a user's password (server admin only).
func (c *Client) SetUserPassword(ctx context.Context, userID int64, password string) error {
	return c.do(ctx, request{method: http.MethodPut, path: "/api/admin/users/" + id(userID) + "/password",
		in: map[string]string{"password": password}})
}

// UserOrg is one organisation a user belongs to.
type UserOrg struct {
	OrgID int64  `json:"orgId"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// UserOrgs lists the organisations a user belongs to.
func (c *Client) UserOrgs(ctx context.Context, userID int64) ([]UserOrg, error) {
	var out []UserOrg
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/users/" + id(userID) + "/orgs", out: &out})
	return out, err
}

// OrgUser is one member of an organisation.
type OrgUser struct {
	OrgID  int64  `json:"orgId"`
	UserID int64  `json:"userId"`
	Login  string `json:"login"`
	Email  string `json:"email"`
	Role   string `json:"role"`
}

// OrgUsers lists an organisation's members.
func (c *Client) OrgUsers(ctx context.Context, orgID int64) ([]OrgUser, error) {
	var out []OrgUser
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/orgs/" + id(orgID) + "/users", out: &out})
	return out, err
}

// AddOrgUser adds a user to an organisation with role (Viewer, Editor or
// Admin); ErrConflict when the user is already a member.
func (c *Client) AddOrgUser(ctx context.Context, orgID int64, loginOrEmail, role string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/api/orgs/" + id(orgID) + "/users",
		in: map[string]string{"loginOrEmail": loginOrEmail, "role": role}})
}

// SetOrgUserRole changes a member's role.
func (c *Client) SetOrgUserRole(ctx context.Context, orgID, userID int64, role string) error {
	return c.do(ctx, request{method: http.MethodPatch, path: "/api/orgs/" + id(orgID) + "/users/" + id(userID),
		in: map[string]string{"role": role}})
}

// RemoveOrgUser removes a member from an organisation. Grafana deletes a
// user whose last organisation this was, so add the user elsewhere first.
func (c *Client) RemoveOrgUser(ctx context.Context, orgID, userID int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/orgs/" + id(orgID) + "/users/" + id(userID)})
}

// DeleteUser deletes a user (server admin only).
func (c *Client) DeleteUser(ctx context.Context, userID int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/admin/users/" + id(userID)})
}

// DeleteOrg deletes an organisation with its data sources and memberships.
func (c *Client) DeleteOrg(ctx context.Context, orgID int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/api/orgs/" + id(orgID)})
}
