package server

import (
	"net/http"
	"strings"
	"time"
)

// Observer is told what the API does, for its metrics (pkg/api/metrics);
// Options.Observer nil tells nobody.
type Observer interface {
	// Middleware wraps the whole handler (it sees the ServeMux's pattern).
	Middleware(next http.Handler) http.Handler
	// Login is called once per login attempt: "ok", "failed" or "refused".
	Login(result string)
	// RateLimited is called when the "login" or "address" limit refuses.
	RateLimited(limit string)
	// SyncRun is called after each sync run; failed: a record failed.
	SyncRun(d time.Duration, failed bool)
}

type noObserver struct{}

func (noObserver) Middleware(next http.Handler) http.Handler { return next }
func (noObserver) Login(string)                              {}
func (noObserver) RateLimited(string)                        {}
func (noObserver) SyncRun(time.Duration, bool)               {}

// refusedBy takes a token from the address limit, then the login's, and
// names the one that refused ("" if none did) and how long until it would
// not. The login limit counts per login and client address: a stranger
// guessing a login's password locks only their own address out of it,
// never the owner.
func (s *Server) refusedBy(r *http.Request, res, user string) (string, time.Duration) {
	addr := s.clientAddr(r)
	if wait := s.AddrLimit.Take(addr); wait > 0 {
		return "address", wait
	}
	if wait := s.LoginLimit.Take(res + "\x00" + strings.ToLower(user) + "\x00" + addr); wait > 0 {
		return "login", wait
	}
	return "", 0
}

// observedLogin is handleLogin with its outcome told to the Observer.
func (s *Server) observedLogin(w http.ResponseWriter, r *http.Request) error {
	err := s.handleLogin(w, r)
	switch {
	case err == nil:
		s.Observer.Login("ok")
	case err == errLogin:
		s.Observer.Login("failed")
	case err == errTooManyLogins:
		s.Observer.Login("refused")
	}
	return err
}

// observeSync tells the Observer of a sync run that began at start.
func (s *Server) observeSync(start time.Time, results []SyncResult) {
	failed := false
	for _, r := range results {
		failed = failed || r.Error != ""
	}
	s.Observer.SyncRun(time.Since(start), failed)
}
