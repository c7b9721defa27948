// Command grafana-standin serves the Grafana HTTP API stand-in
// (e2e/grafanastandin) the way grafana-server would run on a tenant's
// Grafana container: it reads /etc/grafana/grafana.ini ([security]
// admin_user/admin_password on first start only, [server] http_addr,
// http_port and root_url, [paths] data) and keeps its state in
// <data>/grafana-standin.json, written atomically after every change, so
// it survives restarts. It exists because Grafana cannot be installed on
// the machines karana is built and tested on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/fsutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "grafana-standin:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, when set, is told the listening address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("grafana-standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/grafana/grafana.ini", "grafana.ini to read")
	statePath := fs.String("state", "", "state file (default <[paths] data>/grafana-standin.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *statePath == "" {
		*statePath = filepath.Join(cfg.DataDir, "grafana-standin.json")
	}
	st, err := loadState(*statePath, cfg)
	if err != nil {
		return err
	}
	srv := grafanastandin.New(grafanastandin.Options{
		State:   st,
		Persist: func(st *grafanastandin.State) error { return saveState(*statePath, st) },
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.HTTPAddr, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return fmt.Errorf("listening on [server] http_addr/http_port: %w", err)
	}
	fmt.Fprintf(stderr, "grafana-standin: serving the Grafana API stand-in on %s (root_url %q, state %s)\n",
		ln.Addr(), cfg.RootURL, *statePath)
	if ready != nil {
		ready(ln.Addr().String())
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadState reads the state file, or starts a fresh install with the admin
// from grafana.ini (which, as in Grafana, only matters on first start).
func loadState(path string, cfg config) (*grafanastandin.State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		st := grafanastandin.NewState(cfg.AdminUser, cfg.AdminPassword)
		return st, saveState(path, st)
	}
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	st, err := grafanastandin.ParseState(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (move it away to start fresh)", path, err)
	}
	return st, nil
}

func saveState(path string, st *grafanastandin.State) error {
	data, err := grafanastandin.MarshalState(st)
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("creating state folder: %w", err)
	}
	return fsutil.WriteFile(path, data, 0o600)
}
