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
	def := s.Store.Resource(s.LoginResource)
	if def == nil || def.Login == "" {
		return apierr.New(http.StatusInternalServerError, "test mode: login resource %q cannot log in", s.LoginResource)
	}
	if _, ok := s.Store.Lookup(def.Name, def.LoginPath(), TestAdminLogin); ok {
		return nil
	}
	in := map[string]any{
		"name": "Admin", "email": TestAdminLogin, "role": "admin",
		def.Login: map[string]any{"login": TestAdminLogin, "password": resource.Secret(32)},
	}
	rec, verr := def.Create(in, s.Now())
	if verr != nil {
		return verr
	}
	h, err := s.Hasher.Hash(TestAdminPassword)
	if err != nil {
		return err
	}
	rec[def.Login].(map[string]any)["password"] = h
	id := rec["uuid"].(string)
	return s.write(def, id, nil, rec, "test mode: create the admin "+TestAdminLogin)
}
