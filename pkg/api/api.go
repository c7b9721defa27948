// Package api assembles the management API from its configuration: the
// store and its git history, the password hasher, the token keys and the
// HTTP server. `karana api serve` runs it; tests and benchmarks build it
// in-process.
package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/api/history"
	"github.com/karana-project/karana/pkg/api/metrics"
	"github.com/karana-project/karana/pkg/api/server"
	"github.com/karana-project/karana/pkg/api/store"
	"github.com/karana-project/karana/pkg/api/syncstate"
)

// Options complete a configuration.
type Options struct {
	Test bool // create the seed's test admin (admin@example.com / admin)
	// StartEmpty starts without records even though the data folder's
	// history says it had some (table_db.json lost): on purpose only.
	StartEmpty bool
	Syncer     server.Syncer // nil: sync answers 503
	Log        *slog.Logger
}

// App is an assembled API.
type App struct {
	Server  *server.Server
	Store   *store.Store
	Handler http.Handler
	// Metrics is served on cfg.MetricsListen by Serve; nil when unset.
	Metrics       *metrics.Metrics
	metricsListen string
	git           *history.Git
	lock          *os.File
	log           *slog.Logger

	reconcileEvery time.Duration // 0: no periodic reconcile
}

// Build opens the data folder (locked against a second server), loads and
// validates the dump, and prepares the server.
func Build(ctx context.Context, cfg *config.Config, o Options) (app *App, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	defs, err := cfg.BuildResources()
	if err != nil {
		return nil, err
	}
	a := &App{log: log}
	if o.Syncer != nil {
		a.reconcileEvery = cfg.Sync.ReconcileInterval
	}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	if a.lock, err = lockDir(cfg.DataDir); err != nil {
		return nil, err
	}
	meta := map[string]any{"tenant_id": cfg.Tenant.ID, "tenant_customer_name": cfg.Tenant.Customer,
		"tenant_login_credentials_resource": cfg.Tenant.LoginResource, "tenant_login_credentials_field": cfg.Tenant.LoginField}
	st, upgraded, err := store.Open(store.Options{Dir: cfg.DataDir, Resources: defs, Meta: meta, StartEmpty: o.StartEmpty})
	if err != nil {
		return nil, err
	}
	if upgraded > 0 {
		log.Info("dump records completed with new fields", "records", upgraded)
	}
	a.Store = st
	if cfg.MetricsListen != "" {
		a.Metrics, a.metricsListen = metrics.New(cfg.Tenant.ID), cfg.MetricsListen
		st.SetWriteObserver(a.Metrics.StoreWrite)
	}
	state, err := syncstate.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	limitMemory(log)
	if !cfg.Git.Disabled {
		a.git, err = history.Open(ctx, cfg.DataDir, cfg.Git.Remote, []string{store.TableFile, store.StateFile}, log)
		if err != nil {
			return nil, err
		}
		a.git.SetRelease(st.Release)
		if a.Metrics != nil {
			a.git.SetObserver(a.Metrics.Commit)
		}
		st.SetCommitter(a.git)
	}
	if err := makePrivate(cfg.DataDir, log); err != nil {
		return nil, err
	}
	if a.Server, err = newServer(cfg, st, state, o, a.Metrics, log); err != nil {
		return nil, err
	}
	if o.Test {
		if err := a.Server.EnsureTestAdmin(); err != nil {
			return nil, err
		}
		log.Warn("test mode: admin@example.com / admin can log in as admin")
	}
	if err := ensureAdmin(cfg, a.Server, log); err != nil {
		return nil, err
	}
	a.Handler = a.Server.Handler()
	return a, nil
}

// ensureAdmin creates the configured first admin when its login is absent.
func ensureAdmin(cfg *config.Config, s *server.Server, log *slog.Logger) error {
	if cfg.Admin.Login == "" {
		return nil
	}
	pw, err := cfg.AdminPassword()
	if err != nil {
		return cfg.Wrap(err)
	}
	created, err := s.EnsureAdmin(server.Admin{Login: cfg.Admin.Login, Email: cfg.Admin.Email, Name: cfg.Admin.Name, Password: pw}, "")
	if err != nil {
		return fmt.Errorf("creating the admin %s (config admin.login): %w", cfg.Admin.Login, err)
	}
	if created {
		log.Info("admin created", "login", cfg.Admin.Login)
	}
	return nil
}

func newServer(cfg *config.Config, st *store.Store, state *syncstate.State, o Options, m *metrics.Metrics, log *slog.Logger) (*server.Server, error) {
	hasher, err := auth.NewHasher(cfg.Argon2)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	secret, err := cfg.JWTSecret()
	if err != nil {
		return nil, err
	}
	if secret == "" {
		secret = auth.Secret()
		log.Warn("no jwt secret configured: using a random one; tokens end with this process")
	}
	tokens, err := auth.NewTokens([]byte(secret), cfg.JWT.Lifetime, nil)
	if err != nil {
		return nil, err
	}
	var proxies []*net.IPNet
	for _, p := range cfg.TrustedProxies {
		_, n, _ := net.ParseCIDR(p) // checked by Validate
		proxies = append(proxies, n)
	}
	var obs server.Observer
	if m != nil {
		obs = m
	}
	return server.New(server.Options{
		Observer: obs, Store: st, State: state, Hasher: hasher, Tokens: tokens, Syncer: o.Syncer, Log: log, ClientBytes: cfg.Limits.ClientBytes,
		LoginResource: cfg.Tenant.LoginResource, TenantID: cfg.Tenant.ID, CORSOrigins: cfg.CORSOrigins, TrustedProxies: proxies,
	}), nil
}

// Close commits what git still lacks and releases the data folder.
func (a *App) Close(ctx context.Context) error {
	var err error
	if a.git != nil {
		err = a.git.Close(ctx)
	}
	if a.lock != nil {
		a.lock.Close()
	}
	return err
}

// FlushHistory waits until git has every change made so far (for tests).
func (a *App) FlushHistory() {
	if a.git != nil {
		a.git.Flush()
	}
}

// limitMemory returns the memory the load used to the system and sets the
// garbage collector's soft limit to three times the live heap (at least
// 40 MiB): 10,000 users then stay within 60 MB resident.
func limitMemory(log *slog.Logger) {
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	limit := max(int64(40<<20), 3*int64(m.HeapAlloc))
	if env := os.Getenv("GOMEMLIMIT"); env == "" {
		debug.SetMemoryLimit(limit)
	}
	log.Debug("memory", "heap_mb", m.HeapAlloc>>20, "limit_mb", limit>>20)
}

// makePrivate takes group and other permissions away from the data folder
// and everything in it, the git history included: it holds password
// hashes and InfluxDB passwords. Git keeps new files private itself
// (core.sharedRepository=0600); this tightens folders made by older
// versions or by hand.
func makePrivate(dir string, log *slog.Logger) error {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if mode := info.Mode().Perm(); mode&0o077 != 0 {
			n++
			return os.Chmod(path, mode&^0o077)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("making data folder %s private: %w", dir, err)
	}
	if n > 0 {
		log.Info("data folder made private (no group or other access)", "dir", dir, "entries", n)
	}
	return nil
}

// lockDir takes an exclusive lock on the data folder: two servers writing
// one dump would lose changes.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %s is in use by another karana api server", dir)
	}
	return f, nil
}

// reconcileLoop runs a full reconcile every reconcileEvery until ctx ends,
// so that a replaced InfluxDB or Grafana converges without a request.
func (a *App) reconcileLoop(ctx context.Context) {
	if a.reconcileEvery <= 0 {
		return
	}
	t := time.NewTicker(a.reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.Reconcile(ctx)
	}
}

// Reconcile runs one full reconcile and logs what it did.
func (a *App) Reconcile(ctx context.Context) []server.SyncResult {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	results := a.Server.Sync(ctx, true)
	changed, failed := 0, 0
	for _, r := range results {
		if r.Changed {
			changed++
		}
		if r.Error != "" {
			failed++
		}
	}
	lvl := slog.LevelInfo
	if failed > 0 {
		lvl = slog.LevelWarn
	}
	a.log.Log(ctx, lvl, "reconcile", "records", len(results), "changed", changed, "failed", failed, "ms", time.Since(start).Milliseconds())
	return results
}

// Serve listens on addr until ctx ends, then shuts down gracefully: requests
// in flight finish (up to 10 s) and git receives the last changes.
func (a *App) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      6 * time.Minute, // a sync may take minutes
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	rctx, stopReconcile := context.WithCancel(ctx)
	defer stopReconcile()
	go a.reconcileLoop(rctx)
	a.log.Info("listening", "addr", ln.Addr().String())
	if a.Metrics != nil {
		msrv, err := a.serveMetrics(errc)
		if err != nil {
			srv.Close()
			return err
		}
		defer msrv.Close()
	}
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Warn("shutdown", "err", err)
	}
	return a.Close(sctx)
}

// serveMetrics listens on the metrics address: /metrics only, on a port of
// its own so that it is never reachable through api.<domain>.
func (a *App) serveMetrics(errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", a.metricsListen)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics on %s: %w", a.metricsListen, err)
	}
	srv := &http.Server{Handler: a.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics: %w", err)
		}
	}()
	a.log.Info("serving metrics", "addr", ln.Addr().String()+"/metrics")
	return srv, nil
}
