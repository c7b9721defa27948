package grafanastandin

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Server) userRoutes() {
	s.handle("POST /api/admin/users", serverAdmin, s.createUser)
	s.handle("PUT /api/admin/users/{id}/password", serverAdmin, s.setPassword)
	s.handle("DELETE /api/admin/users/{id}", serverAdmin, s.deleteUser)
	s.handle("GET /api/users/lookup", serverAdmin, s.lookupUserByLogin)
	s.handle("GET /api/users/{id}", serverAdmin, s.getUser)
	s.handle("PUT /api/users/{id}", serverAdmin, s.updateUser)
	s.handle("GET /api/users/{id}/orgs", serverAdmin, s.userOrgs)
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "login": u.Login, "email": u.Email, "name": u.Name, "orgId": u.OrgID,
		"isGrafanaAdmin": u.IsAdmin, "isDisabled": false, "isExternal": false, "theme": "",
	}
}

func (s *Server) currentUser(c *caller, w http.ResponseWriter, _ *http.Request) bool {
	writeJSON(w, http.StatusOK, userJSON(c.user))
	return false
}

func (s *Server) createUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	var in struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Login    string `json:"login"`
		Password string `json:"password"`
		OrgID    int64  `json:"OrgId"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if in.Login == "" {
		in.Login = in.Email
	}
	if in.Email == "" {
		in.Email = in.Login
	}
	if in.Login == "" {
		writeError(w, http.StatusBadRequest, "login or email is required")
		return false
	}
	if len(in.Password) < 4 {
		writeError(w, http.StatusBadRequest, "Password is missing or too short")
		return false
	}
	if s.st.userByLoginOrEmail(in.Login) != nil || s.st.userByLoginOrEmail(in.Email) != nil {
		writeError(w, http.StatusPreconditionFailed, "User with email '"+in.Email+"' or username '"+in.Login+"' already exists")
		return false
	}
	orgID := int64(1) // auto_assign_org = true, auto_assign_org_id = 1
	if in.OrgID != 0 {
		if s.st.Orgs[in.OrgID] == nil {
			writeError(w, http.StatusBadRequest, "Organization not found")
			return false
		}
		orgID = in.OrgID
	}
	u := &User{ID: s.st.NextUserID, Login: in.Login, Email: in.Email, Name: in.Name, OrgID: orgID}
	s.st.NextUserID++
	u.setPassword(in.Password)
	s.st.Users[u.ID] = u
	// auto_assign_org_role = Viewer
	s.st.Members = append(s.st.Members, &Member{OrgID: orgID, UserID: u.ID, Role: RoleViewer})
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "uid": "", "message": "User created"})
	return true
}

func (s *Server) lookupUser(w http.ResponseWriter, r *http.Request) *User {
	id, ok := pathID(w, r, "id")
	if !ok {
		return nil
	}
	u := s.st.Users[id]
	if u == nil {
		writeError(w, http.StatusNotFound, "user not found")
	}
	return u
}

func (s *Server) setPassword(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	u := s.lookupUser(w, r)
	if u == nil {
		return false
	}
	var in struct {
		Password string `json:"password"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if len(in.Password) < 4 {
		writeError(w, http.StatusBadRequest, "New password is too short")
		return false
	}
	u.setPassword(in.Password)
	msg(w, "User password updated")
	return true
}

func (s *Server) deleteUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	u := s.lookupUser(w, r)
	if u == nil {
		return false
	}
	delete(s.st.Users, u.ID)
	s.st.Members = slices.DeleteFunc(s.st.Members, func(m *Member) bool { return m.UserID == u.ID })
	msg(w, "User deleted")
	return true
}

func (s *Server) lookupUserByLogin(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	u := s.st.userByLoginOrEmail(r.URL.Query().Get("loginOrEmail"))
	if u == nil || r.URL.Query().Get("loginOrEmail") == "" {
		writeError(w, http.StatusNotFound, "user not found")
		return false
	}
	writeJSON(w, http.StatusOK, userJSON(u))
	return false
}

func (s *Server) getUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	if u := s.lookupUser(w, r); u != nil {
		writeJSON(w, http.StatusOK, userJSON(u))
	}
	return false
}

func (s *Server) updateUser(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	u := s.lookupUser(w, r)
	if u == nil {
		return false
	}
	var in struct {
		Login string `json:"login"`
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if !decode(w, r, &in) {
		return false
	}
	if in.Login == "" {
		in.Login = in.Email
	}
	if in.Email == "" {
		in.Email = in.Login
	}
	if in.Login == "" {
		writeError(w, http.StatusBadRequest, "Validation error, need to specify either username or email")
		return false
	}
	for _, other := range s.st.Users {
		if other.ID != u.ID && (strings.EqualFold(other.Login, in.Login) || strings.EqualFold(other.Email, in.Email) ||
			strings.EqualFold(other.Login, in.Email) || strings.EqualFold(other.Email, in.Login)) {
			writeError(w, http.StatusConflict, "User with that login or email already exists")
			return false
		}
	}
	u.Login, u.Email, u.Name = in.Login, in.Email, in.Name
	msg(w, "User updated")
	return true
}

func (s *Server) userOrgs(_ *caller, w http.ResponseWriter, r *http.Request) bool {
	u := s.lookupUser(w, r)
	if u == nil {
		return false
	}
	out := []map[string]any{}
	for _, m := range s.st.Members {
		if o := s.st.Orgs[m.OrgID]; m.UserID == u.ID && o != nil {
			out = append(out, map[string]any{"orgId": o.ID, "name": o.Name, "role": m.Role})
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return int(a["orgId"].(int64) - b["orgId"].(int64)) })
	writeJSON(w, http.StatusOK, out)
	return false
}
