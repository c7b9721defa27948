package reload

import (
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
)

func TestNewCmdReload(t *testing.T) {
	tests := []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: nil, want: Options{Output: "text"}},
		{args: []string{"--force"}, want: Options{Force: true, Output: "text"}},
		{args: []string{"--live"}, want: Options{Live: true, Output: "text"}},
		{args: []string{"--live", "--force"}, wantErr: "exclude each other"},
		{args: []string{"--drain-timeout", "2m", "--dry-run", "-o", "json"}, want: Options{DrainTimeout: 2 * time.Minute, DryRun: true, Output: "json"}},
		{args: []string{"--drain-timeout", "-1s"}, wantErr: "invalid --drain-timeout"},
		{args: []string{"--drain-timeout", "soon"}, wantErr: "invalid argument"},
		{args: []string{"-o", "yaml"}, wantErr: `invalid --output "yaml"`},
		{args: []string{"lb1"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdReload, tt.args, tt.wantErr, 0)
				return
			}
			got := cmdtest.MustParse(t, NewCmdReload, tt.args)
			if got.DrainTimeout != tt.want.DrainTimeout || got.DryRun != tt.want.DryRun || got.Force != tt.want.Force || got.Live != tt.want.Live || got.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	rep := &balancer.ReloadReport{Balancers: []balancer.BalancerReport{
		{Name: "lb1", Action: balancer.ActionReloaded, Changed: []string{"/etc/haproxy/karana/hosts.map"}, Seconds: 1.25, SessionsLeft: 2},
		{Name: "lb2", Action: balancer.ActionUnchanged},
	}}
	if err := writeText(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := "lb1\treloaded\t/etc/haproxy/karana/hosts.map\tout of rotation 1.2s, 2 session(s) left to the old worker\nlb2\tunchanged\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
