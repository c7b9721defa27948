package credentials_test

import (
	"context"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/karana"
)

// Cobra's argument errors become usage errors in pkg/karana.Run.
func TestCredentialsUsageExitCodes(t *testing.T) {
	for _, args := range [][]string{{"tenant", "credentials"}, {"tenant", "creds", "a", "b"}} {
		ios, out, errOut := iostreams.Test()
		code := karana.Run(context.Background(), &cmdutil.Factory{IOStreams: ios, InventoryFlag: "/nonexistent/inv.yaml"}, args)
		if code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "accepts 1 arg") || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
