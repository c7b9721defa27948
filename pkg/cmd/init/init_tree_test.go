package initcmd_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/karana"
)

// Through the whole command tree, as an operator runs it: init, then
// validate accepts the file.
func TestInitThenValidate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "inventories", "local.yaml")
	run := func(args ...string) (int, string) {
		ios, stdout, stderr := iostreams.Test()
		code := karana.Run(context.Background(), &cmdutil.Factory{IOStreams: ios, Build: cmdutil.BuildInfo{Version: "1.2.3"}}, args)
		return code, stdout.String() + stderr.String()
	}
	if code, msg := run("init", "-i", out); code != 0 {
		t.Fatalf("init: exit %d: %s", code, msg)
	}
	if code, msg := run("inventory", "validate", "-i", out); code != 0 || !strings.Contains(msg, "valid (0 tenants)") {
		t.Errorf("validate: exit %d: %s", code, msg)
	}
	if code, msg := run("init", "-i", out); code != cmdutil.ExitFailure || !strings.Contains(msg, "already exists") {
		t.Errorf("second init: exit %d: %s", code, msg)
	}
}
