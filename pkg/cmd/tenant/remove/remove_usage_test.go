package remove_test

import (
	"context"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/karana"
)

// Cobra's own argument errors carry no exit code; pkg/karana.Run makes
// them usage errors. Checked here through the whole command tree.
func TestRemoveUsageExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"tenant", "remove"}, "accepts 1 arg(s), received 0"},
		{[]string{"tenant", "rm", "a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"tenant", "remove", "Bad_Name"}, `"Bad_Name" cannot name a container`},
		{[]string{"tenant", "remove", "acme", "-o", "yaml"}, `invalid --output "yaml"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, out, errOut := iostreams.Test()
			code := karana.Run(context.Background(), &cmdutil.Factory{IOStreams: ios, InventoryFlag: "/nonexistent/inv.yaml"}, tt.args)
			if code != cmdutil.ExitUsage {
				t.Errorf("exit code %d, want %d; stderr %q", code, cmdutil.ExitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) || out.Len() != 0 {
				t.Errorf("stdout %q, stderr %q, want %q", out, errOut, tt.wantErr)
			}
		})
	}
}
