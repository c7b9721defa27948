package drain

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
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
			ios, _, _ := iostreams.Test()
			var got *Options
			runF := func(_ context.Context, o *Options) error { got = o; return nil }
			cmd := NewCmdDrain(&cmdutil.Factory{IOStreams: ios}, runF)
			if tt.ready {
				cmd = NewCmdReady(&cmdutil.Factory{IOStreams: ios}, runF)
			}
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			if g.State != tt.want.State || g.Name != tt.want.Name || g.Force != tt.want.Force || g.Wait != tt.want.Wait || g.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", g, tt.want)
			}
		})
	}
}
