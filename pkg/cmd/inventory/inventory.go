// Package inventory implements `karana inventory validate`.
package inventory

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	inv "github.com/karana-project/karana/pkg/inventory"
)

// NewCmdInventory returns `karana inventory`.
func NewCmdInventory(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory <command>",
		Short: "Work with the inventory file",
	}
	cmd.AddCommand(newCmdValidate(f))
	return cmd
}

func newCmdValidate(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the inventory and report every problem with file:line",
		Example: cmdutil.Dedent(`
			  $ karana inventory validate
			  $ karana inventory validate -i inventories/prod.yaml -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(output); err != nil {
				return err
			}
			path := f.InventoryPath()
			i, err := inv.Load(path)
			var ve *inv.ValidationError
			if output == "json" {
				res := struct {
					File     string        `json:"file"`
					Valid    bool          `json:"valid"`
					Tenants  int           `json:"tenants"`
					Problems []inv.Problem `json:"problems"`
				}{File: path, Valid: err == nil, Problems: []inv.Problem{}}
				if i != nil {
					res.Tenants = len(i.Tenants)
				}
				if errors.As(err, &ve) {
					res.Problems = ve.Problems
				} else if err != nil {
					return err
				}
				if werr := cmdutil.WriteJSON(f.IOStreams.Out, res); werr != nil {
					return werr
				}
				if err != nil {
					return &cmdutil.SilentError{Code: cmdutil.ExitInvalid}
				}
				return nil
			}
			if err != nil {
				return cmdutil.InventoryError(err)
			}
			fmt.Fprintf(f.IOStreams.Out, "%s: valid (%s)\n", path, plural(len(i.Tenants), "tenant"))
			return nil
		},
	}
	cmdutil.OutputFlag(cmd, &output)
	return cmd
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
