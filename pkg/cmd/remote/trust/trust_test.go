package trust

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

func TestNewCmdTrust(t *testing.T) {
	got := cmdtest.MustParse(t, NewCmdTrust, []string{"TOKEN", "-o", "json"})
	if got.Token != "TOKEN" || got.Output != "json" || got.Trust == nil || got.Inventory == nil {
		t.Errorf("options = %+v", got)
	}
	cmdtest.WantError(t, NewCmdTrust, nil, "accepts 1 arg", 0)
	cmdtest.WantError(t, NewCmdTrust, []string{"a", "b"}, "accepts 1 arg", 0)
	cmdtest.WantError(t, NewCmdTrust, []string{"a", "-o", "yaml"}, `invalid --output "yaml"`, cmdutil.ExitUsage)
}

func load(t *testing.T, lxdYAML string) func() (*inventory.Inventory, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(p, []byte("lxd: "+lxdYAML+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() (*inventory.Inventory, error) { return inventory.Load(p) }
}

func TestTrustRun(t *testing.T) {
	const remote = `{endpoint: "https://10.0.0.2:8443", client_cert: c.crt, client_key: c.key, server_cert: s.crt}`
	tests := []struct {
		name     string
		lxd      string
		trustErr error
		already  bool
		wantOut  string
		wantErr  string
		wantCode int
		called   bool
	}{
		{name: "trusts", lxd: remote, called: true, wantOut: "now trusts"},
		{name: "again", lxd: remote, already: true, called: true, wantOut: "already trusted"},
		{name: "local endpoint", lxd: `{endpoint: unix}`, wantErr: "trust is for a remote daemon", wantCode: cmdutil.ExitInvalid},
		{name: "no server_cert", lxd: `{endpoint: "https://10.0.0.2:8443", client_cert: c.crt, client_key: c.key}`,
			wantErr: "lxd.server_cert is not set", wantCode: cmdutil.ExitInvalid},
		{name: "bad token", lxd: remote, trustErr: lxd.ErrToken, called: true, wantErr: "invalid trust token", wantCode: cmdutil.ExitUsage},
		{name: "daemon refuses", lxd: remote, trustErr: errors.New("refused the token"), called: true, wantErr: "refused", wantCode: cmdutil.ExitUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, _ := iostreams.Test()
			var gotCfg inventory.LXD
			called := false
			opts := &Options{IO: ios, Inventory: load(t, tt.lxd), Token: "TOK", Output: "text",
				Trust: func(_ context.Context, cfg inventory.LXD, token string) (*lxd.TrustResult, error) {
					called, gotCfg = true, cfg
					if token != "TOK" {
						t.Errorf("token %q", token)
					}
					if tt.trustErr != nil {
						return nil, tt.trustErr
					}
					return &lxd.TrustResult{Endpoint: cfg.Endpoint, Fingerprint: "0123456789abcdef", ClientCert: cfg.ClientCert,
						ServerCert: cfg.ServerCert, AlreadyTrusted: tt.already, ServerVersion: "5.0.2"}, nil
				}}
			err := trustRun(context.Background(), opts)
			if called != tt.called {
				t.Errorf("Trust called = %v, want %v", called, tt.called)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || cmdutil.ExitCode(err) != tt.wantCode {
					t.Fatalf("err = %v (exit %d), want %q exit %d", err, cmdutil.ExitCode(err), tt.wantErr, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(out.String(), "0123456789ab") {
				t.Errorf("output %q, want %q", out, tt.wantOut)
			}
			if !filepath.IsAbs(gotCfg.ClientCert) || !filepath.IsAbs(gotCfg.ServerCert) || filepath.Base(gotCfg.ClientKey) != "c.key" {
				t.Errorf("paths not resolved against the inventory: %+v", gotCfg)
			}
		})
	}
}
