package add_test

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
func TestAddUsageExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"tenant", "add", "--domain", "acme.example.org"}, "accepts 1 arg(s), received 0"},
		{[]string{"tenant", "add", "acme"}, `required flag(s) "domain" not set`},
		{[]string{"tenant", "add", "Bad_Name", "--domain", "acme.example.org"}, `"Bad_Name" cannot name a container`},
		{[]string{"tenant", "add", "acme", "--domain", "a.example.org\nx"}, "--domain: "},
		{[]string{"tenant", "add", "acme", "--domain", "acme.example.org", "--nope"}, "unknown flag: --nope"},
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
