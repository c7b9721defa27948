package karana

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: io, Build: cmdutil.BuildInfo{Version: "1.2.3", Commit: "abc", Date: "2026-11-24"}}
	code = Run(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func writeInventory(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	good := writeInventory(t, "tenants:\n  - {name: acme, domain: acme.test}\n")
	bad := writeInventory(t, "tenants:\n  - name: acme\n    domain: \"a.example.org\\n  server evil 1.2.3.4:80\"\n")
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{"version", []string{"version"}, nil, 0, "karana 1.2.3 (commit abc, built 2026-11-24)", ""},
		{"version json", []string{"version", "-o", "json"}, nil, 0, `"version": "1.2.3"`, ""},
		{"bad output format", []string{"version", "-o", "yaml"}, nil, cmdutil.ExitUsage, "", "invalid --output \"yaml\""},
		{"unknown command", []string{"frobnicate"}, nil, cmdutil.ExitUsage, "", "unknown command"},
		{"unknown flag", []string{"version", "--nope"}, nil, cmdutil.ExitUsage, "", "unknown flag"},
		{"extra argument", []string{"version", "x"}, nil, cmdutil.ExitUsage, "", "unknown command"},
		{"validate good", []string{"inventory", "validate", "-i", good}, nil, 0, "valid (1 tenant)", ""},
		{"validate from env", []string{"inventory", "validate"}, map[string]string{"KARANA_INVENTORY": good}, 0, good + ": valid", ""},
		{"validate injection", []string{"inventory", "validate", "-i", bad}, nil, cmdutil.ExitInvalid, "", bad + ":3: tenants[0].domain"},
		{"validate json", []string{"inventory", "validate", "-i", bad, "-o", "json"}, nil, cmdutil.ExitInvalid, `"valid": false`, ""},
		{"validate missing file", []string{"inventory", "validate", "-i", "/nonexistent/inv.yaml"}, nil, cmdutil.ExitFailure, "", "no such file"},
		{"missing required flag", []string{"tenant", "add", "acme", "-i", good}, nil, cmdutil.ExitUsage, "", `required flag(s) "domain" not set`},
		{"completion", []string{"completion", "bash"}, nil, 0, "__start_karana", ""},
		{"completion bad shell", []string{"completion", "tcsh"}, nil, cmdutil.ExitUsage, "", "unknown shell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := run(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.wantErrOut)
			}
		})
	}
}

func TestValidateJSONListsProblems(t *testing.T) {
	bad := writeInventory(t, "tenants:\n  - {name: a, domain: a.org}\n  - {name: a, domain: a.org}\n")
	_, out, _ := run(t, "inventory", "validate", "-i", bad, "-o", "json")
	var res struct {
		Valid    bool
		Problems []struct {
			Line int
			Path string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Valid || len(res.Problems) != 2 || res.Problems[0].Line != 3 {
		t.Fatalf("unexpected result: %+v", res)
	}
}

func TestEveryCommandHasHelpAndExamples(t *testing.T) {
	io, _, _ := iostreams.Test()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Short == "" {
			t.Errorf("%q has no short help", c.CommandPath())
		}
		if c.Runnable() && c.Example == "" {
			t.Errorf("%q has no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root.NewCmdRoot(&cmdutil.Factory{IOStreams: io}))
}
