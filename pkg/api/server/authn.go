package server

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
)

// Caller is who a request comes from.
type Caller struct {
	Res, ID, Role string
}

// Admin reports whether the caller manages everything.
func (c Caller) Admin() bool { return c.Role == "admin" }

// authedFunc is a handler that needs a caller.
type authedFunc func(w http.ResponseWriter, r *http.Request, c Caller) error

// authed requires a valid bearer token of a record that still exists. The
// role is taken from the record, so a demotion takes effect at once.
func (s *Server) authed(h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			return apierr.New(http.StatusUnauthorized, "an Authorization: Bearer <token> header is required (POST /v1/%s/login gives one)", s.LoginResource)
		}
		claims, err := s.Tokens.Verify(tok)
		if err != nil {
			s.log.Debug("token refused", "path", r.URL.Path, "reason", errors.Unwrap(err))
			return apierr.New(http.StatusUnauthorized, "invalid or expired token; log in again")
		}
		if s.Store.Resource(claims.Res) == nil {
			return apierr.New(http.StatusUnauthorized, "the token names a resource this server does not have; log in again")
		}
		e, found := s.Store.Get(claims.Res, claims.Subject)
		if !found {
			return apierr.New(http.StatusUnauthorized, "the token's %s record no longer exists", claims.Res)
		}
		if claims.Cred != e.Cred {
			return apierr.New(http.StatusUnauthorized, "the login, password or role changed since this token was issued; log in again")
		}
		role := claims.Role
		if e.Role != "" {
			role = e.Role
		}
		return h(w, r, Caller{Res: claims.Res, ID: claims.Subject, Role: role})
	}
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// handleLogin: POST /v1/{res}/login with {"user"|"login": ..., "password": ...}.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	def, err := s.resource(r)
	if err != nil {
		return err
	}
	if def.Login == "" {
		return apierr.NotFound("%s cannot log in", def.Name)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	user, password, err := loginFields(body)
	if err != nil {
		return err
	}
	if limit, wait := s.refusedBy(r, def.Name, user); limit != "" {
		s.Observer.RateLimited(limit)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errTooManyLogins
	}
	e, found := s.Store.Lookup(def.Name, def.LoginPath(), user)
	if !found {
		s.Hasher.VerifyDummy(password)
		return errLogin
	}
	hash, _ := resource.Get(e.Rec(), def.PasswordPath())
	hs, _ := hash.(string)
	ok, rehash, verr := s.Hasher.Verify(password, hs)
	if verr != nil {
		s.log.Warn("stored password hash refused", "resource", def.Name, "id", e.ID, "err", verr)
	}
	if !ok {
		return errLogin
	}
	if rehash {
		s.rehash(def, e.ID, password, hs)
		if cur, ok := s.Store.Get(def.Name, e.ID); ok {
			e = cur // the new hash: the token must carry its fingerprint
		}
	}
	tok, err := s.Tokens.Issue(def.Name, e.ID, e.Role, e.Cred)
	if err != nil {
		return err
	}
	s.log.Info("login", "resource", def.Name, "id", e.ID)
	writeJSON(w, http.StatusOK, map[string]any{"results": []any{map[string]string{"token": tok}}})
	return nil
}

var (
	errLogin         = apierr.New(http.StatusUnauthorized, "wrong login or password")
	errTooManyLogins = apierr.New(http.StatusTooManyRequests, "too many login attempts from this address; wait as long as Retry-After says")
)

func loginFields(body map[string]any) (user, password string, err error) {
	u, ok := body["user"]
	if !ok {
		u, ok = body["login"]
	}
	if user, _ = u.(string); !ok || user == "" {
		return "", "", apierr.Field("user", "is required (or login), a string")
	}
	if password, _ = body["password"].(string); password == "" {
		return "", "", apierr.Field("password", "is required, a string")
	}
	for k := range body {
		if k != "user" && k != "login" && k != "password" {
			return "", "", apierr.Field(k, "is not a login field (user or login, password)")
		}
	}
	return user, password, nil
}

// rehash replaces an old-format hash after a successful login. A failure
// only means the old hash stays; the login succeeds regardless.
func (s *Server) rehash(def *resource.Resource, id, password, old string) {
	h, err := s.Hasher.Hash(password)
	if err != nil {
		s.log.Error("rehashing password", "resource", def.Name, "id", id, "err", err)
		return
	}
	patch := map[string]any{def.Login: map[string]any{"password": h}}
	err = s.update(def, id, "upgrade the password hash of "+def.Name+" "+id, func(cur map[string]any) (map[string]any, error) {
		if v, _ := resource.Get(cur, def.PasswordPath()); v != old {
			return nil, errors.New("the password changed meanwhile")
		}
		return resource.Merge(cur, patch), nil
	})
	if err != nil {
		s.log.Warn("keeping the old password hash", "resource", def.Name, "id", id, "err", err)
		return
	}
	s.log.Info("password hash upgraded to argon2id", "resource", def.Name, "id", id)
}
