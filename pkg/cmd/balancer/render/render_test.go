package render

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/tlsgen"
)

func TestNewCmdRender(t *testing.T) {
	tests := []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: nil, want: Options{Output: "text"}},
		{args: []string{"--check"}, want: Options{Check: true, Output: "text"}},
		{args: []string{"--out", "/tmp/r", "-o", "json"}, want: Options{Dir: "/tmp/r", Output: "json"}},
		{args: []string{"-o", "yaml"}, wantErr: `invalid --output "yaml"`},
		{args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdRender, tt.args, tt.wantErr, 0)
				return
			}
			got := cmdtest.MustParse(t, NewCmdRender, tt.args)
			if got.Dir != tt.want.Dir || got.Check != tt.want.Check || got.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

const inventoryYAML = `lxd:
  network:
    ipv4: 10.0.12.1/24
tenants:
  - name: demo
    domain: demo.karana.test
  - name: acme
    domain: acme.example.org
`

type env struct {
	dir, inv, rendered, certs string
}

func newEnv(t *testing.T, yaml string) env {
	t.Helper()
	dir := t.TempDir()
	e := env{dir: dir, inv: filepath.Join(dir, "inv.yaml"), rendered: filepath.Join(dir, "rendered"), certs: filepath.Join(dir, "certs")}
	if err := os.WriteFile(e.inv, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// run executes `karana balancer render args...` against e's inventory.
func run(t *testing.T, e env, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, InventoryFlag: e.inv}
	cmd := NewCmdRender(f, nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), cmdutil.ExitCode(err)
}

func requireHAProxy(t *testing.T) {
	t.Helper()
	if _, err := haproxy.Find(); err != nil {
		t.Skip(err)
	}
}

func TestRenderRun(t *testing.T) {
	requireHAProxy(t)
	e := newEnv(t, inventoryYAML)

	// --check before anything exists: drift, and nothing generated or written.
	out, _, code := run(t, e, "--check")
	if code != cmdutil.ExitDrift || !strings.Contains(out, "missing certificate "+filepath.Join(e.certs, "demo.karana.test.pem")) {
		t.Errorf("first --check: exit %d, stdout:\n%s", code, out)
	}
	for _, p := range []string{e.certs, e.rendered} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("--check created %s", p)
		}
	}

	out, errOut, code := run(t, e)
	if code != 0 {
		t.Fatalf("render: exit %d\n%s", code, errOut)
	}
	for _, w := range []string{"created outer.cfg", "created inner.cfg", "created karana/hosts.map", "created karana/certs/acme.example.org.pem"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errOut, "generated self-signed certificate "+filepath.Join(e.certs, "default.pem")) {
		t.Errorf("stderr does not report the generated certificates:\n%s", errOut)
	}

	if out, _, code = run(t, e, "--check"); code != 0 || !strings.Contains(out, "is up to date") {
		t.Errorf("--check after render: exit %d\n%s", code, out)
	}

	// Hand edit: drift with a diff naming the file and the line.
	cfg := filepath.Join(e.rendered, "inner.cfg")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "check inter 5s", "check inter 50s", 1)), 0o644)
	out, errOut, code = run(t, e, "--check")
	if code != cmdutil.ExitDrift || !strings.Contains(out, "--- "+cfg) || !strings.Contains(out, "+    server acme-api 10.0.12.15:8000 weight 0 check inter 5s") {
		t.Errorf("--check after a hand edit: exit %d\n%s", code, out)
	}
	if !strings.Contains(errOut, "run `karana balancer render`") {
		t.Errorf("drift error does not say what to do: %s", errOut)
	}
	after, _ := os.ReadFile(cfg)
	if string(after) == string(b) {
		t.Error("--check repaired the file: it must write nothing")
	}

	// Missing file: drift; render repairs it and only it.
	os.Remove(filepath.Join(e.rendered, "outer.cfg"))
	if out, _, code = run(t, e, "--check"); code != cmdutil.ExitDrift || !strings.Contains(out, "only rendered: outer.cfg") {
		t.Errorf("--check with outer.cfg missing: exit %d\n%s", code, out)
	}
	if out, _, code = run(t, e); code != 0 || out != "updated inner.cfg\ncreated outer.cfg\n" {
		t.Errorf("repairing render: exit %d, stdout %q", code, out)
	}
}

func TestRenderRunJSON(t *testing.T) {
	requireHAProxy(t)
	e := newEnv(t, inventoryYAML)
	out, errOut, code := run(t, e, "-o", "json", "--out", filepath.Join(e.dir, "elsewhere"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res jsonResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if res.Dir != filepath.Join(e.dir, "elsewhere") || !res.Changed || len(res.Generated) != 3 || len(res.Files) != 8 { // with karana/acme.map
		t.Errorf("result = %+v", res)
	}
	for _, f := range res.Files {
		if len(f.SHA256) != 64 || f.Status != "added" || !f.Changed {
			t.Errorf("file %+v", f)
		}
	}
	out, _, code = run(t, e, "-o", "json", "--check", "--out", filepath.Join(e.dir, "elsewhere"))
	if code != 0 || !strings.Contains(out, `"changed": false`) {
		t.Errorf("--check -o json: exit %d\n%s", code, out)
	}
}

func TestRenderRunErrors(t *testing.T) {
	requireHAProxy(t)
	t.Run("injected domain", func(t *testing.T) {
		e := newEnv(t, "tenants:\n  - name: a\n    domain: \"a.example.org\\n  server evil 1.2.3.4:80\"\n")
		_, errOut, code := run(t, e)
		if code != cmdutil.ExitInvalid || !strings.Contains(errOut, e.inv+":3: tenants[0].domain") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("haproxy not installed", func(t *testing.T) {
		e := newEnv(t, inventoryYAML)
		t.Setenv(haproxy.Env, filepath.Join(e.dir, "no-haproxy"))
		_, errOut, code := run(t, e)
		if code != cmdutil.ExitUnavailable || !strings.Contains(errOut, "haproxy is not installed") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		if _, err := os.Stat(e.rendered); !os.IsNotExist(err) {
			t.Error("rendered folder written without a check")
		}
	})
	t.Run("haproxy refuses a certificate", func(t *testing.T) {
		e := newEnv(t, inventoryYAML)
		// A certificate with another certificate's key: well-formed PEM
		// that only HAProxy's check catches.
		a, _ := tlsgen.SelfSigned([]string{"demo.karana.test"}, time.Now())
		b, _ := tlsgen.SelfSigned([]string{"demo.karana.test"}, time.Now())
		mixed := string(a[:strings.Index(string(a), "-----BEGIN PRIVATE KEY")]) + string(b[strings.Index(string(b), "-----BEGIN PRIVATE KEY"):])
		os.MkdirAll(e.certs, 0o700)
		os.WriteFile(filepath.Join(e.certs, "demo.karana.test.pem"), []byte(mixed), 0o600)
		_, errOut, code := run(t, e)
		if code != cmdutil.ExitInvalid || !strings.Contains(errOut, "haproxy refuses inner.cfg") || !strings.Contains(errOut, "demo.karana.test.pem") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		if _, err := os.Stat(e.rendered); !os.IsNotExist(err) {
			t.Error("an invalid configuration was written")
		}
	})
}
