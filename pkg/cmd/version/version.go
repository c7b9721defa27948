// Package version implements `karana version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdVersion returns `karana version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print karana's version, commit and build date",
		Example: "  $ karana version\n  $ karana version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(output); err != nil {
				return err
			}
			b := f.Build
			if output == "json" {
				return cmdutil.WriteJSON(f.IOStreams.Out, map[string]string{"version": b.Version, "commit": b.Commit, "date": b.Date})
			}
			_, err := fmt.Fprintf(f.IOStreams.Out, "karana %s (commit %s, built %s)\n", b.Version, b.Commit, b.Date)
			return err
		},
	}
	cmdutil.OutputFlag(cmd, &output)
	return cmd
}
