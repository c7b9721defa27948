// Package image implements `karana image`: build and list.
package image

import (
	"github.com/spf13/cobra"

	buildcmd "github.com/karana-project/karana/pkg/cmd/image/build"
	listcmd "github.com/karana-project/karana/pkg/cmd/image/list"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdImage returns `karana image`.
func NewCmdImage(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image <command>",
		Short: "Build and list the LXD images of the back end's containers",
	}
	cmd.AddCommand(
		buildcmd.NewCmdBuild(f, nil),
		listcmd.NewCmdList(f, nil),
	)
	return cmd
}
