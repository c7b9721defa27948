package install

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/iostreams"
)

func TestNewCmdInstall(t *testing.T) {
	if got := cmdtest.MustParse(t, NewCmdInstall, nil); got.Ensure == nil {
		t.Error("no Ensure")
	}
	cmdtest.WantError(t, NewCmdInstall, []string{"now"}, "unknown command", 0)
}

func TestInstallRun(t *testing.T) {
	tests := []struct {
		name    string
		changed bool
		err     error
		want    string
		code    int
	}{
		{"installed", true, nil, "The host is ready", 0},
		{"ready", false, nil, "Nothing to do", 0},
		{"apt fails", true, errors.New("installing haproxy with apt-get: exit 100"), "", cmdutil.ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, _ := iostreams.Test()
			err := installRun(context.Background(), &Options{IO: ios,
				Ensure: func(context.Context, host.Progress) (bool, error) { return tt.changed, tt.err }})
			if cmdutil.ExitCode(err) != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d (%v), stdout %q", cmdutil.ExitCode(err), err, out)
			}
		})
	}
}
