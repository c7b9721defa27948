package cmdutil

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

// LockProject takes the project's lock for the rest of the command,
// telling on ErrOut when it waits for another karana command. `karana
// heal` checks the same lock and never acts while it is held.
func LockProject(ctx context.Context, io *iostreams.IOStreams, inv *inventory.Inventory) (*fsutil.Lock, error) {
	what := "karana " + strings.Join(os.Args[1:], " ")
	return fsutil.WaitLock(ctx, inv.LockPath(), what, func(holder string) {
		fmt.Fprintf(io.ErrOut, "waiting for %s, held by %s\n", inv.LockPath(), holder)
	})
}
