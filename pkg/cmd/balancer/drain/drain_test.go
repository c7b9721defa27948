package drain

import (
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
)

func TestNewCmdDrainReady(t *testing.T) {
	tests := []struct {
		ready   bool
		args    []string
		want    Options
		wantErr string
	}{
		{args: []string{"lb1"}, want: Options{State: "drain", Name: "lb1", Output: "text"}},
		{args: []string{"lb2", "--force", "--wait", "1m", "-o", "json"}, want: Options{State: "drain", Name: "lb2", Force: true, Wait: time.Minute, Output: "json"}},
		{args: []string{}, wantErr: "accepts 1 arg"},
		{args: []string{"lb1", "--wait", "-1s"}, wantErr: "invalid --wait"},
		{ready: true, args: []string{"lb1"}, want: Options{State: "ready", Name: "lb1", Output: "text"}},
		{ready: true, args: []string{"lb1", "--force"}, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			newCmd := cmdtest.NewCmd[Options](NewCmdDrain)
			if tt.ready {
				newCmd = NewCmdReady
			}
			if tt.wantErr != "" {
				cmdtest.WantError(t, newCmd, tt.args, tt.wantErr, 0)
				return
			}
			got := cmdtest.MustParse(t, newCmd, tt.args)
			g := *got
			if g.State != tt.want.State || g.Name != tt.want.Name || g.Force != tt.want.Force || g.Wait != tt.want.Wait || g.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", g, tt.want)
			}
		})
	}
}
