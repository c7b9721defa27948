package grafanastandin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) orgRoutes() {
	s.handle("POST /api/orgs", serverAdmin, s.createOrg)
	s.handle("GET /api/orgs", serverAdmin, s.listOrgs)
	s.handle("GET /api/orgs/{orgId}", serverAdmin, s.getOrg)
	s.handle("DELETE /api/orgs/{orgId}", serverAdmin, s.deleteOrg)
	// One pattern for both, as ServeMux cannot tell /api/orgs/name/users apart.
	s.handle("GET /api/orgs/{orgId}/{sub}", serverAdmin, s.orgSub)
	s.handle("POST /api/orgs/{orgId}/users", serverAdmin, s.addOrgUser)
	s.handle("PATCH /api/orgs/{orgId}/users/{userId}", serverAdmin, s.updateOrgUser)
	s.handle("DELETE /api/orgs/{orgId}/users/{userId}", serverAdmin, s.removeOrgUser)
}

func (s *Server) createOrg(c *caller, w http.ResponseWriter, r *http.Request) bool {
	var in struct {
		Name string `json:"name"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if in.Name == "" {
		writeError(w, http.StatusBadRequest, "Organization name is required")
		return false
	}
	if s.st.orgByName(in.Name) != nil {
		writeError(w, http.StatusConflict, "Organization name taken")
		return false
	}
	o := &Org{ID: s.st.NextOrgID, Name: in.Name}
	s.st.NextOrgID++
	s.st.Orgs[o.ID] = o
	// The creator becomes the new org's Admin, as in Grafana.
	s.st.Members = append(s.st.Members, &Member{OrgID: o.ID, UserID: c.user.ID, Role: RoleAdmin})
	writeJSON(w, http.StatusOK, map[string]any{"orgId": o.ID, "message": "Organization created"})
	return true
}

// listOrgs is GET /api/orgs: by id, paged (perpage, default 1000; page
// from 1), filtered by query (a case-insensitive substring of the name).
func (s *Server) listOrgs(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	perPage, page := 1000, 1
	if v, err := strconv.Atoi(q.Get("perpage")); err == nil && v > 0 {
		perPage = v
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	var all []*Org
	for _, o := range s.st.Orgs {
		if strings.Contains(strings.ToLower(o.Name), strings.ToLower(q.Get("query"))) {
			all = append(all, o)
		}
	}
	slices.SortFunc(all, func(a, b *Org) int { return int(a.ID - b.ID) })
	out := []map[string]any{}
	for i := (page - 1) * perPage; i < len(all) && i < page*perPage; i++ {
		out = append(out, orgJSON(all[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return false
}

func (s *Server) orgSub(c *caller, w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.PathValue("orgId") == "name":
		return s.orgByName(w, r.PathValue("sub"))
	case r.PathValue("sub") == "users":
		return s.orgUsers(c, w, r)
	}
	writeError(w, http.StatusNotFound, "Not found")
	return false
}

func (s *Server) orgByName(w http.ResponseWriter, name string) bool {
	o := s.st.orgByName(name)
	if o == nil {
		writeError(w, http.StatusNotFound, "Organization not found")
		return false
	}
	writeJSON(w, http.StatusOK, orgJSON(o))
	return false
}

func (s *Server) getOrg(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	o := s.lookupOrg(w, r)
	if o != nil {
		writeJSON(w, http.StatusOK, orgJSON(o))
	}
	return false
}

func orgJSON(o *Org) map[string]any {
	return map[string]any{"id": o.ID, "name": o.Name, "address": map[string]string{}}
}

func (s *Server) lookupOrg(w http.ResponseWriter, r *http.Request) *Org {
	id, ok := pathID(w, r, "orgId")
	if !ok {
		return nil
	}
	o := s.st.Orgs[id]
	if o == nil {
		writeError(w, http.StatusNotFound, "Organization not found")
	}
	return o
}

func (s *Server) deleteOrg(c *caller, w http.ResponseWriter, r *http.Request) bool {
	o := s.lookupOrg(w, r)
	if o == nil {
		return false
	}
	if o.ID == c.user.OrgID {
		writeError(w, http.StatusBadRequest, "Can not delete org for current user")
		return false
	}
	delete(s.st.Orgs, o.ID)
	for id, ds := range s.st.DataSources {
		if ds.OrgID == o.ID {
			delete(s.st.DataSources, id)
		}
	}
	for id, d := range s.st.Dashboards {
		if d.OrgID == o.ID {
			delete(s.st.Dashboards, id)
		}
	}
	var left []*Member
	for _, m := range s.st.Members {
		if m.OrgID != o.ID {
			left = append(left, m)
		}
	}
	s.st.Members = left
	for _, u := range s.st.Users {
		if u.OrgID == o.ID {
			s.switchOrg(u)
		}
	}
	msg(w, "Organization deleted")
	return true
}

func (s *Server) orgUsers(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	o := s.lookupOrg(w, r)
	if o == nil {
		return false
	}
	out := []map[string]any{}
	for _, m := range s.st.Members {
		if u := s.st.Users[m.UserID]; m.OrgID == o.ID && u != nil {
			out = append(out, map[string]any{
				"orgId": o.ID, "userId": u.ID, "login": u.Login, "email": u.Email,
				"name": u.Name, "role": m.Role, "avatarUrl": "", "lastSeenAtAge": "10 years",
			})
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return int(a["userId"].(int64) - b["userId"].(int64)) })
	writeJSON(w, http.StatusOK, out)
	return false
}

func (s *Server) addOrgUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	o := s.lookupOrg(w, r)
	if o == nil {
		return false
	}
	var in struct {
		LoginOrEmail string `json:"loginOrEmail"`
		Role         string `json:"role"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if !validRole(in.Role) {
		writeError(w, http.StatusBadRequest, "Invalid role specified")
		return false
	}
	u := s.st.userByLoginOrEmail(in.LoginOrEmail)
	if u == nil {
		writeError(w, http.StatusNotFound, "User not found")
		return false
	}
	if s.st.member(o.ID, u.ID) != nil {
		writeError(w, http.StatusConflict, "User is already member of this organization")
		return false
	}
	s.st.Members = append(s.st.Members, &Member{OrgID: o.ID, UserID: u.ID, Role: in.Role})
	writeJSON(w, http.StatusOK, map[string]any{"message": "User added to organization", "userId": u.ID})
	return true
}

func (s *Server) orgMember(w http.ResponseWriter, r *http.Request) (*Org, *Member) {
	o := s.lookupOrg(w, r)
	if o == nil {
		return nil, nil
	}
	uid, ok := pathID(w, r, "userId")
	if !ok {
		return nil, nil
	}
	m := s.st.member(o.ID, uid)
	if m == nil {
		writeError(w, http.StatusNotFound, "User not found")
	}
	return o, m
}

func (s *Server) updateOrgUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	o, m := s.orgMember(w, r)
	if m == nil {
		return false
	}
	var in struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if !validRole(in.Role) {
		writeError(w, http.StatusBadRequest, "Invalid role specified")
		return false
	}
	if m.Role == RoleAdmin && in.Role != RoleAdmin && s.admins(o.ID) == 1 {
		writeError(w, http.StatusBadRequest, "Cannot change role so that there is no organization admin left")
		return false
	}
	m.Role = in.Role
	msg(w, "Organization user updated")
	return true
}

func (s *Server) removeOrgUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	o, m := s.orgMember(w, r)
	if m == nil {
		return false
	}
	if m.Role == RoleAdmin && s.admins(o.ID) == 1 {
		writeError(w, http.StatusBadRequest, "Cannot remove last organization admin")
		return false
	}
	s.st.Members = slices.DeleteFunc(s.st.Members, func(x *Member) bool { return x == m })
	u := s.st.Users[m.UserID]
	if !s.switchOrg(u) {
		// Grafana deletes a user whose last organisation membership goes.
		delete(s.st.Users, u.ID)
		msg(w, "User deleted")
		return true
	}
	msg(w, "User removed from organization")
	return true
}

// switchOrg moves u's current org to one it still belongs to, reporting
// false when it belongs to none.
func (s *Server) switchOrg(u *User) bool {
	if s.st.member(u.OrgID, u.ID) != nil {
		return true
	}
	best := int64(0)
	for _, m := range s.st.Members {
		if m.UserID == u.ID && (best == 0 || m.OrgID < best) {
			best = m.OrgID
		}
	}
	u.OrgID = best
	return best != 0
}

func (s *Server) admins(orgID int64) int {
	n := 0
	for _, m := range s.st.Members {
		if m.OrgID == orgID && m.Role == RoleAdmin {
			n++
		}
	}
	return n
}
