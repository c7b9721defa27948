package serve

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
)

func TestNewCmdServe(t *testing.T) {
	tests := []struct {
		args    string
		want    Options
		wantErr bool
	}{
		{"", Options{}, false},
		{"--test", Options{Test: true}, false},
		{"--start-empty", Options{StartEmpty: true}, false},
		{"--config /etc/x.yaml --listen 127.0.0.1:9 --data /tmp/d", Options{ConfigPath: "/etc/x.yaml", Listen: "127.0.0.1:9", DataDir: "/tmp/d"}, false},
		{"extra", Options{}, true},
		{"--port 1", Options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			io, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdServe(&cmdutil.Factory{IOStreams: io}, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tt.args))
			cmd.SetOut(io.Out)
			cmd.SetErr(io.ErrOut)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			g := [5]any{got.ConfigPath, got.Listen, got.DataDir, got.Test, got.StartEmpty}
			w := [5]any{tt.want.ConfigPath, tt.want.Listen, tt.want.DataDir, tt.want.Test, tt.want.StartEmpty}
			if g != w {
				t.Errorf("options: got %v, want %v", g, w)
			}
		})
	}
}

func TestServeRunAndStop(t *testing.T) {
	io, _, errOut := iostreams.Test()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serveRun(ctx, &Options{IO: io, Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), ConfigPath: writeConfig(t, dir), Test: true,
			Ready: func(a net.Addr) { ready <- a }})
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, errOut)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr.String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("a cancelled serve returns nil, got %v", err)
	}
	if !strings.Contains(errOut.String(), "shutting down") {
		t.Errorf("log lacks the shutdown:\n%s", errOut)
	}
}

func writeConfig(t *testing.T, dir string) string {
	p := filepath.Join(dir, "api.yaml")
	os.WriteFile(p, []byte("argon2: {memory_kib: 64, iterations: 1, parallelism: 1}\ngit: {disabled: true}\n"), 0o600)
	return p
}

func TestBadConfigExitsInvalid(t *testing.T) {
	io, _, _ := iostreams.Test()
	p := filepath.Join(t.TempDir(), "api.yaml")
	os.WriteFile(p, []byte("jwt: {lifetime: -1s}\n"), 0o600)
	err := serveRun(context.Background(), &Options{IO: io, ConfigPath: p})
	if cmdutil.ExitCode(err) != cmdutil.ExitInvalid || !strings.Contains(err.Error(), "jwt.lifetime") {
		t.Errorf("got %v (exit %d), want exit 3 naming jwt.lifetime", err, cmdutil.ExitCode(err))
	}
}
