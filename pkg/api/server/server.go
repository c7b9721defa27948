// Package server is the management API's HTTP layer: the seed's endpoints
// (Tables 2 and 3) under /v1, bearer-token authentication, roles, and the
// request limits.
package server

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/store"
	"github.com/karana-project/karana/pkg/api/syncstate"
)

// Options are what a Server needs. Syncer nil means InfluxDB and Grafana
// are not configured.
type Options struct {
	Store          *store.Store
	Hasher         *auth.Hasher
	Tokens         *auth.Tokens
	Syncer         Syncer
	State          *syncstate.State // Grafana bindings and pending removals (sync_state.json)
	LoginResource  string
	TenantID       string // reported by /healthz, so a caller can tell which tenant answered
	CORSOrigins    []string
	TrustedProxies []*net.IPNet
	Log            *slog.Logger
	Now            func() time.Time
	// LoginLimit and AddrLimit limit login attempts per login name and per
	// client address; nil gets the defaults.
	LoginLimit, AddrLimit *auth.Limiter
	Observer              Observer // metrics (observe.go); nil: none
	// ClientBytes bounds the records one user owns (0: no bound).
	ClientBytes int
}

// Server serves the API.
type Server struct {
	Options
	log    *slog.Logger
	syncMu sync.Mutex // one sync run at a time
}

// New returns a Server.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LoginLimit == nil {
		o.LoginLimit = auth.NewLimiter(5, 12*time.Second, o.Now)
	}
	if o.AddrLimit == nil {
		o.AddrLimit = auth.NewLimiter(20, 3*time.Second, o.Now)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	return &Server{Options: o, log: o.Log}
}

// Handler returns the API's routes behind the CORS layer.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	health := []byte(`{"status":"ok"}` + "\n")
	if s.TenantID != "" {
		health, _ = json.Marshal(map[string]string{"status": "ok", "tenant": s.TenantID})
		health = append(health, '\n')
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, health)
	})
	mux.HandleFunc("POST /v1/sync/all/db", s.serve(s.authed(s.handleSync)))
	mux.HandleFunc("POST /v1/sync/all/reconcile", s.serve(s.authed(s.handleReconcile)))
	mux.HandleFunc("POST /v1/{res}/login", s.serve(s.observedLogin))
	mux.HandleFunc("POST /v1/{res}/new", s.serve(s.authed(s.handleCreate)))
	mux.HandleFunc("GET /v1/{res}", s.serve(s.authed(s.handleList)))
	mux.HandleFunc("GET /v1/{res}/{$}", s.serve(s.authed(s.handleList)))
	mux.HandleFunc("GET /v1/{res}/{id}", s.serve(s.authed(s.handleGet)))
	mux.HandleFunc("PUT /v1/{res}/{id}", s.serve(s.authed(s.handlePut)))
	mux.HandleFunc("PATCH /v1/{res}/{id}", s.serve(s.authed(s.handlePatch)))
	mux.HandleFunc("DELETE /v1/{res}/{id}", s.serve(s.authed(s.handleDelete)))
	mux.HandleFunc("POST /v1/{res}/{id}/password_influx", s.serve(s.authed(s.handleRegenerate)))
	for path, allow := range map[string]string{
		"/healthz": "GET", "/v1/sync/all/db": "POST", "/v1/sync/all/reconcile": "POST",
		"/v1/{res}": "GET", "/v1/{res}/{$}": "GET", "/v1/{res}/{id}": "GET, PUT, PATCH, DELETE",
		"/v1/{res}/{id}/password_influx": "POST",
	} {
		mux.HandleFunc(path, s.methodNotAllowed(allow))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNotFound(r.URL.Path))
	})
	return s.Observer.Middleware(s.accessLog(s.cors(mux)))
}

// accessLog logs each request at debug level: method, path, status and
// time; never headers or bodies (tokens, passwords).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start, sw := time.Now(), &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"ms", time.Since(start).Milliseconds(), "client", s.clientAddr(r))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, apierr.New(http.StatusMethodNotAllowed, "%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	}
}

// cors answers preflights and marks responses for the allowed origins, as
// the seed's responses show (access-control-allow-origin: http://localhost:3000).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.originDependent() {
			// Whether and how the CORS headers are sent depends on Origin,
			// for refused origins too: caches must key on it.
			h["Vary"] = varyOrigin
		}
		if origin := s.allowedOrigin(r.Header.Get("Origin")); origin != nil {
			h["Access-Control-Allow-Origin"] = origin
			h["Access-Control-Allow-Headers"] = allowHeaders
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Header values shared by all responses (never modified).
var (
	allowHeaders = []string{"content-type, authorization"}
	varyOrigin   = []string{"Origin"}
)

// originDependent reports whether responses differ by the Origin header:
// with a list of origins they do; with none or "*" they do not.
func (s *Server) originDependent() bool {
	return len(s.CORSOrigins) > 0 && !slices.Contains(s.CORSOrigins, "*")
}

// allowedOrigin returns the Access-Control-Allow-Origin value, or nil.
func (s *Server) allowedOrigin(origin string) []string {
	switch {
	case len(s.CORSOrigins) == 0:
		return nil
	case slices.Contains(s.CORSOrigins, "*"):
		return []string{"*"}
	case origin == "":
		return s.CORSOrigins[:1:1]
	case slices.Contains(s.CORSOrigins, origin):
		return []string{origin}
	}
	return nil
}

// clientAddr is the caller's address: the connection's peer, or the
// rightmost X-Forwarded-For hop when the peer is a trusted proxy.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || !s.trusted(ip) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	hops := strings.Split(xff[len(xff)-1], ",")
	if last := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(last) != nil {
		return last
	}
	return host
}

func (s *Server) trusted(ip net.IP) bool {
	for _, n := range s.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
