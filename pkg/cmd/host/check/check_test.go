package check

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/iostreams"
)

func TestNewCmdCheck(t *testing.T) {
	if got := cmdtest.MustParse(t, NewCmdCheck, []string{"-o", "json"}); got.Output != "json" || got.Check == nil {
		t.Errorf("options = %+v", got)
	}
	cmdtest.WantError(t, NewCmdCheck, []string{"-o", "yaml"}, `invalid --output "yaml"`, cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdCheck, []string{"extra"}, "unknown command", 0)
}

func report(missing ...string) host.Report {
	r := host.Report{Family: "debian", LXDInstalled: true, LXDAnswering: true}
	for _, p := range host.Required("debian", false) {
		ok := true
		for _, m := range missing {
			ok = ok && m != p.Name
		}
		r.Packages = append(r.Packages, host.PackageState{Name: p.Name, Program: p.Program, Installed: ok, Why: p.Why})
	}
	return r
}

func TestCheckRun(t *testing.T) {
	tests := []struct {
		name, output string
		r            host.Report
		err          error
		wantCode     int
		want         []string
	}{
		{"ready", "text", report(), nil, 0, []string{"lxd daemon", "answering", "haproxy", "installed"}},
		{"missing", "text", report("dnsmasq-base", "haproxy"), nil, cmdutil.ExitDrift, []string{"dnsmasq-base", "missing"}},
		{"json", "json", report("zstd"), nil, cmdutil.ExitDrift, []string{`"name": "zstd"`, `"installed": false`}},
		{"probe fails", "text", host.Report{}, errors.New("reading os-release: no"), cmdutil.ExitFailure, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, _ := iostreams.Test()
			err := checkRun(context.Background(), &Options{IO: ios, Output: tt.output,
				Check: func(context.Context) (host.Report, error) { return tt.r, tt.err }})
			if cmdutil.ExitCode(err) != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", cmdutil.ExitCode(err), err, tt.wantCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.output == "json" {
				var r host.Report
				if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Packages) != len(tt.r.Packages) {
					t.Errorf("json: %v %s", err, out)
				}
			}
		})
	}
}
