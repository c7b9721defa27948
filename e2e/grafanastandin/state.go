package grafanastandin

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// State is everything the stand-in knows. It is plain data so that the
// grafana-standin command can persist it as JSON between restarts.
type State struct {
	NextOrgID        int64                 `json:"nextOrgId"`
	NextUserID       int64                 `json:"nextUserId"`
	NextDataSourceID int64                 `json:"nextDataSourceId"`
	NextDashboardID  int64                 `json:"nextDashboardId"`
	Orgs             map[int64]*Org        `json:"orgs"`
	Users            map[int64]*User       `json:"users"`
	Members          []*Member             `json:"members"`
	DataSources      map[int64]*DataSource `json:"dataSources"`
	Dashboards       map[int64]*Dashboard  `json:"dashboards"`
}

// Org is an organisation.
type Org struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// User is a Grafana user. The password is kept as a salted PBKDF2 hash, as
// Grafana does.
type User struct {
	ID           int64  `json:"id"`
	Login        string `json:"login"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	PasswordHash string `json:"passwordHash"`
	Salt         string `json:"salt"`
	IsAdmin      bool   `json:"isGrafanaAdmin"`
	OrgID        int64  `json:"orgId"` // the user's current organisation
}

// Member is one user's role in one organisation.
type Member struct {
	OrgID  int64  `json:"orgId"`
	UserID int64  `json:"userId"`
	Role   string `json:"role"`
}

// DataSource is a data source; SecureJSONData is never sent back to clients.
type DataSource struct {
	ID             int64             `json:"id"`
	UID            string            `json:"uid"`
	OrgID          int64             `json:"orgId"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Access         string            `json:"access"`
	URL            string            `json:"url"`
	User           string            `json:"user"`
	Database       string            `json:"database"`
	BasicAuth      bool              `json:"basicAuth"`
	IsDefault      bool              `json:"isDefault"`
	JSONData       map[string]any    `json:"jsonData"`
	SecureJSONData map[string]string `json:"secureJsonData"`
	Version        int               `json:"version"`
}

// NewState returns the state of a freshly installed Grafana: org 1
// "Main Org." with the server admin as its Admin.
func NewState(adminUser, adminPassword string) *State {
	st := &State{
		NextOrgID: 2, NextUserID: 2, NextDataSourceID: 1, NextDashboardID: 1,
		Orgs:        map[int64]*Org{1: {ID: 1, Name: "Main Org."}},
		Users:       map[int64]*User{},
		DataSources: map[int64]*DataSource{},
		Dashboards:  map[int64]*Dashboard{},
	}
	admin := &User{ID: 1, Login: adminUser, Email: "admin@localhost", Name: "", IsAdmin: true, OrgID: 1}
	admin.setPassword(adminPassword)
	st.Users[1] = admin
	st.Members = []*Member{{OrgID: 1, UserID: 1, Role: RoleAdmin}}
	return st
}

// Roles an org member can have.
const (
	RoleViewer = "Viewer"
	RoleEditor = "Editor"
	RoleAdmin  = "Admin"
)

func validRole(r string) bool { return r == RoleViewer || r == RoleEditor || r == RoleAdmin }

func (u *User) setPassword(pw string) {
	salt := make([]byte, 10)
	_, _ = rand.Read(salt)
	u.Salt = hex.EncodeToString(salt)
	u.PasswordHash = hashPassword(pw, u.Salt)
}

func (u *User) checkPassword(pw string) bool {
	got := hashPassword(pw, u.Salt)
	return subtle.ConstantTimeCompare([]byte(got), []byte(u.PasswordHash)) == 1
}

func hashPassword(pw, salt string) string {
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), 10000, 32)
	if err != nil {
		panic(fmt.Sprintf("grafanastandin: hashing password: %v", err))
	}
	return hex.EncodeToString(key)
}

// clone returns a deep copy, so that a snapshot never aliases live state.
func (st *State) clone() *State {
	data, err := json.Marshal(st)
	if err != nil {
		panic(fmt.Sprintf("grafanastandin: copying state: %v", err))
	}
	var cp State
	if err := json.Unmarshal(data, &cp); err != nil {
		panic(fmt.Sprintf("grafanastandin: copying state: %v", err))
	}
	return &cp
}

// ParseState reads a state written by MarshalState and checks it is whole.
func ParseState(data []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("parsing state: %w", err)
	}
	if st.Orgs == nil || st.Users == nil || st.NextOrgID < 2 || st.NextUserID < 2 {
		return nil, fmt.Errorf("parsing state: missing orgs, users or id counters")
	}
	if st.DataSources == nil {
		st.DataSources = map[int64]*DataSource{}
	}
	if st.Dashboards == nil { // a state saved before the stand-in had dashboards
		st.Dashboards = map[int64]*Dashboard{}
	}
	if st.NextDashboardID < 1 {
		st.NextDashboardID = 1
		for id := range st.Dashboards {
			st.NextDashboardID = max(st.NextDashboardID, id+1)
		}
	}
	return &st, nil
}

// MarshalState encodes a state for storage.
func MarshalState(st *State) ([]byte, error) {
	return json.MarshalIndent(st, "", "  ")
}

func (st *State) member(orgID, userID int64) *Member {
	for _, m := range st.Members {
		if m.OrgID == orgID && m.UserID == userID {
			return m
		}
	}
	return nil
}

func (st *State) userByLoginOrEmail(s string) *User {
	for _, u := range st.Users {
		if strings.EqualFold(u.Login, s) || strings.EqualFold(u.Email, s) {
			return u
		}
	}
	return nil
}

func (st *State) orgByName(name string) *Org {
	for _, o := range st.Orgs {
		if o.Name == name {
			return o
		}
	}
	return nil
}

func copyJSON(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
