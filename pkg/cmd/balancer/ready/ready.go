// Package ready implements `karana balancer ready`, drain's inverse.
package ready

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/balancer/drain"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdReady returns `karana balancer ready LB`.
func NewCmdReady(f *cmdutil.Factory, runF func(context.Context, *drain.Options) error) *cobra.Command {
	return drain.NewCmdReady(f, runF)
}
