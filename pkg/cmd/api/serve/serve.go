// Package serve implements `karana api serve`.
package serve

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/api/logging"
	"github.com/karana-project/karana/pkg/api/server"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/syncer"
)

// SeedMinLength is the password minimum in test mode, unless configured:
// the seed's examples use "admin" and "12345".
const SeedMinLength = 5

// Options of `karana api serve`.
type Options struct {
	IO *iostreams.IOStreams

	ConfigPath string
	Listen     string
	DataDir    string
	Test       bool
	StartEmpty bool

	// Ready is called with the listening address (tests listen on :0).
	Ready func(net.Addr)
}

// NewCmdServe returns `karana api serve`; runF replaces the run in tests.
func NewCmdServe(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the management API until SIGTERM",
		Long: cmdutil.Dedent(`
			Serve the management API (docs/api.md). The configuration is --config, else
			/etc/karana/api.yaml if it exists, else built-in defaults (no InfluxDB or
			Grafana: sync answers 503). A file ending in .ini is read as the old API's
			config.ini. Records live in memory and in the data folder's table_db.json,
			committed to git after each change.`),
		Example: cmdutil.Dedent(`
			$ karana api serve --test
			$ karana api serve --config /etc/karana/api.yaml
			$ karana api serve --listen 127.0.0.1:8000 --data ./storage`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ConfigPath, "config", "", "configuration file, YAML or the old config.ini (default /etc/karana/api.yaml if present)")
	fl.StringVar(&opts.Listen, "listen", "", "address to listen on (default from the config, else :8000)")
	fl.StringVar(&opts.DataDir, "data", "", "data folder holding table_db.json (default from the config, else ./storage)")
	fl.BoolVar(&opts.StartEmpty, "start-empty", false, "start with no records although the data folder's git history or tablestate_db.json says it had some (table_db.json lost); on purpose only")
	fl.BoolVar(&opts.Test, "test", false, "test mode: create the admin admin@example.com (password admin); accept 5-character passwords")
	return cmd
}

func serveRun(ctx context.Context, opts *Options) error {
	cfg, err := loadConfig(opts)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitInvalid, err)
	}
	level, _ := logging.Level(cfg.LogLevel) // checked by Validate
	log := logging.New(level, opts.IO.ErrOut)
	if opts.Test && !cfg.MinLengthSet {
		cfg.PasswordMinLength = SeedMinLength
		log.Warn("test mode: passwords of 5 characters are accepted, as in the seed's examples")
	}
	var sy server.Syncer
	if cfg.SyncConfigured() {
		s, err := syncer.New(syncer.Config{
			InfluxURL: cfg.InfluxDB.URL, InfluxUser: cfg.InfluxDB.User, InfluxPassword: cfg.InfluxDB.Password,
			GrafanaURL: cfg.Grafana.URL, GrafanaUser: cfg.Grafana.User, GrafanaPassword: cfg.Grafana.Password,
			TenantID: cfg.Tenant.ID,
		})
		if err != nil {
			return cmdutil.WithCode(cmdutil.ExitInvalid, err)
		}
		sy = Adapter{S: s}
	} else {
		log.Info("influxdb or grafana not configured: sync will answer 503")
	}
	app, err := api.Build(ctx, cfg, api.Options{Test: opts.Test, StartEmpty: opts.StartEmpty, Syncer: sy, Log: log})
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitInvalid, err)
	}
	return app.Serve(ctx, cfg.Listen, func(a net.Addr) {
		daemon.SdNotify(false, daemon.SdNotifyReady)
		if opts.Ready != nil {
			opts.Ready(a)
		}
	})
}

func loadConfig(opts *Options) (*config.Config, error) {
	path := opts.ConfigPath
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			path = config.DefaultPath
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if opts.Listen != "" {
		cfg.Listen = opts.Listen
	}
	if opts.DataDir != "" {
		cfg.DataDir = opts.DataDir
	}
	return cfg, cfg.Validate()
}

// Adapter lets the server use pkg/syncer.
type Adapter struct{ S *syncer.Syncer }

// SyncKarana implements server.Syncer.
func (a Adapter) SyncKarana(ctx context.Context, k server.SyncKarana) (bool, error) {
	return a.S.SyncKarana(ctx, syncer.Karana(k))
}

// SyncUser implements server.Syncer.
func (a Adapter) SyncUser(ctx context.Context, u server.SyncUser, ks []server.SyncKarana) (server.UserOutcome, error) {
	out := make([]syncer.Karana, len(ks))
	for i, k := range ks {
		out[i] = syncer.Karana(k)
	}
	o, err := a.S.Sync(ctx, syncer.User(u), out)
	return server.UserOutcome(o), err
}

// RemoveKarana implements server.Syncer.
func (a Adapter) RemoveKarana(ctx context.Context, id string) (bool, error) {
	return a.S.RemoveKarana(ctx, id)
}

// RemoveUser implements server.Syncer.
func (a Adapter) RemoveUser(ctx context.Context, u server.SyncUser, purge bool) (bool, error) {
	return a.S.RemoveUser(ctx, syncer.User(u), purge)
}

// Prune implements server.Syncer.
func (a Adapter) Prune(ctx context.Context, users, karanas []string) ([]server.Pruned, error) {
	ps, err := a.S.Prune(ctx, users, karanas)
	out := make([]server.Pruned, len(ps))
	for i, p := range ps {
		out[i] = server.Pruned(p)
	}
	return out, err
}
