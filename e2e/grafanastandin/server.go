// Package grafanastandin is an in-memory stand-in for the subset of
// Grafana's HTTP API that karana's sync uses (organisations, users, org
// membership, data sources, dashboards, /api/health) and the data-source
// proxy a user's queries go through. Grafana cannot be installed on the
// machines karana is built on, so the Grafana client is tested against this.
//
// It follows Grafana's documented behaviour where the client depends on it:
// Basic auth, server-admin checks on the admin API, membership checks on
// X-Grafana-Org-Id, org-Admin checks on data sources, 409/412/404 answers,
// {"message": ...} error bodies, new users landing in org 1 unless OrgId is
// given, removing a user's last org deleting the user, and the last org
// admin being kept.
package grafanastandin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Options configure a stand-in.
type Options struct {
	AdminUser     string // server admin login; "admin" when empty
	AdminPassword string // "admin" when empty
	Version       string // reported by /api/health
	// State to start from (a copy is taken); a fresh install when nil.
	State *State
	// Persist, when set, is called with a snapshot after every change. A
	// failing Persist turns the request into a 500 and rolls the change back.
	Persist func(*State) error
}

// Server is the stand-in. It is an http.Handler.
type Server struct {
	mu      sync.Mutex
	st      *State
	opts    Options
	mux     *http.ServeMux
	log     []Request
	faults  []fault
	version string
}

const maxLog = 10000

// Request is one request the stand-in answered.
type Request struct {
	Method string
	Path   string
	Status int
}

// Mutating reports whether the request could change state.
func (r Request) Mutating() bool { return r.Method != http.MethodGet && r.Method != http.MethodHead }

type fault struct {
	method, prefix string
	status         int
	left           int
}

// New returns a stand-in.
func New(opts Options) *Server {
	if opts.AdminUser == "" {
		opts.AdminUser = "admin"
	}
	if opts.AdminPassword == "" {
		opts.AdminPassword = "admin"
	}
	if opts.Version == "" {
		opts.Version = "11.0.0-karana-standin"
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), version: opts.Version}
	if opts.State != nil {
		s.st = opts.State.clone()
	} else {
		s.st = NewState(opts.AdminUser, opts.AdminPassword)
	}
	s.routes()
	return s
}

// Snapshot returns a deep copy of the current state.
func (s *Server) Snapshot() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetRequests forgets the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Fail makes the next times requests whose method matches (empty matches
// any) and whose path starts with prefix answer status with a Grafana-style
// error body, without touching state.
func (s *Server) Fail(method, prefix string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method: method, prefix: prefix, status: status, left: times})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mu.Lock()
	defer func() {
		if len(s.log) >= maxLog { // bounded for the long-running command
			s.log = append(s.log[:0], s.log[len(s.log)-maxLog/2:]...)
		}
		s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Status: rec.status})
		s.mu.Unlock()
	}()
	if f := s.takeFault(r); f != 0 {
		writeError(rec, f, "injected failure")
		return
	}
	if strings.HasPrefix(r.URL.Path, proxyPrefix) {
		s.proxy(rec, r) // releases the lock while InfluxDB answers
		return
	}
	s.mux.ServeHTTP(rec, r)
}

func (s *Server) takeFault(r *http.Request) int {
	for i := range s.faults {
		f := &s.faults[i]
		if f.left > 0 && (f.method == "" || f.method == r.Method) && strings.HasPrefix(r.URL.Path, f.prefix) {
			f.left--
			return f.status
		}
	}
	return 0
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// caller is the authenticated user of a request and the org it acts in.
type caller struct {
	user  *User
	orgID int64
	role  string // role in orgID
}

// handler is an API handler run with the state lock held.
type handler func(c *caller, w http.ResponseWriter, r *http.Request) (changed bool)

const (
	anyUser = iota
	serverAdmin
	orgAdmin
	orgViewer // any role in the org
	orgEditor // Editor or Admin in the org
)

// handle registers pattern behind Basic auth and the given permission. A
// handler that reports a change gets the state persisted; if that fails
// the change is rolled back and the client sees a 500.
func (s *Server) handle(pattern string, perm int, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		switch {
		case perm == serverAdmin && !c.user.IsAdmin, perm == orgAdmin && c.role != RoleAdmin,
			perm == orgViewer && c.role == "", perm == orgEditor && c.role != RoleEditor && c.role != RoleAdmin:
			writeError(w, http.StatusForbidden, "Permission denied")
			return
		}
		var before *State
		if r.Method != http.MethodGet {
			before = s.st.clone()
		}
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		if h(c, buf, r) && s.opts.Persist != nil && before != nil {
			if err := s.opts.Persist(s.st.clone()); err != nil {
				s.st = before
				writeError(w, http.StatusInternalServerError, "failed to save state: "+err.Error())
				return
			}
		}
		buf.flush(w)
	})
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	login, pw, ok := r.BasicAuth()
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return nil, false
	}
	u := s.st.userByLoginOrEmail(login)
	if u == nil || !u.checkPassword(pw) {
		writeError(w, http.StatusUnauthorized, "Invalid username or password")
		return nil, false
	}
	c := &caller{user: u, orgID: u.OrgID}
	if h := r.Header.Get("X-Grafana-Org-Id"); h != "" {
		id, err := strconv.ParseInt(h, 10, 64)
		if err != nil || s.st.member(id, u.ID) == nil {
			// Grafana refuses to sign a user into an org they do not belong to.
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return nil, false
		}
		c.orgID = id
	}
	if m := s.st.member(c.orgID, u.ID); m != nil {
		c.role = m.Role
	}
	return c, true
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"database": "ok", "version": s.version, "commit": "standin"})
	})
	s.handle("GET /api/user", anyUser, s.currentUser)
	s.orgRoutes()
	s.userRoutes()
	s.dataSourceRoutes()
	s.dashboardRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found")
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "statusCode": status})
}

func msg(w http.ResponseWriter, text string) {
	writeJSON(w, http.StatusOK, map[string]string{"message": text})
}

// decode reads a JSON body, answering 400 itself when it is malformed.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad request data")
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, name+" is invalid")
		return 0, false
	}
	return id, true
}

// bufferedWriter holds a handler's answer until the state is persisted.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header  { return b.header }
func (b *bufferedWriter) WriteHeader(code int) { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}

func (b *bufferedWriter) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}
