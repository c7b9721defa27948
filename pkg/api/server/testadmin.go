package server

import (
	"net/http"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
)

// Test mode's admin, as the seed documents it.
const (
	TestAdminLogin    = "admin@example.com"
	TestAdminPassword = "admin"
)

// EnsureTestAdmin creates the seed's test admin unless its login exists.
// Its password is shorter than the minimum on purpose: it is the seed's.
func (s *Server) EnsureTestAdmin() error {
	_, err := s.EnsureAdmin(Admin{Login: TestAdminLogin, Email: TestAdminLogin, Password: TestAdminPassword}, "test mode: ")
	return err
}

// Admin is a first admin user to create.
type Admin struct {
	Login    string
	Email    string // "" means the login
	Name     string // "" means "Admin"
	Password string
}

// EnsureAdmin creates a, role admin, unless a record of the login
// resource already has its login: an existing admin, whatever its password
// or role is now, is left as it is. created tells whether it was made.
// The password is hashed as given, without the minimum length check
// (the caller's configuration checked it).
func (s *Server) EnsureAdmin(a Admin, msgPrefix string) (created bool, err error) {
	def := s.Store.Resource(s.LoginResource)
	if def == nil || def.Login == "" {
		return false, apierr.New(http.StatusInternalServerError, "%slogin resource %q cannot log in", msgPrefix, s.LoginResource)
	}
	if _, ok := s.Store.Lookup(def.Name, def.LoginPath(), a.Login); ok {
		return false, nil
	}
	if a.Email == "" {
		a.Email = a.Login
	}
	if a.Name == "" {
		a.Name = "Admin"
	}
	in := map[string]any{
		"name": a.Name, "email": a.Email, "role": "admin",
		def.Login: map[string]any{"login": a.Login, "password": resource.Secret(32)},
	}
	rec, verr := def.Create(in, s.Now())
	if verr != nil {
		return false, verr
	}
	h, err := s.Hasher.Hash(a.Password)
	if err != nil {
		return false, err
	}
	rec[def.Login].(map[string]any)["password"] = h
	id := rec["uuid"].(string)
	if err := s.write(def, id, nil, rec, msgPrefix+"create the admin "+a.Login); err != nil {
		return false, err
	}
	return true, nil
}
