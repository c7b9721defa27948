package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// OutputFlag adds the -o/--output flag ("text" or "json") to cmd.
func OutputFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "output", "o", "text", "output format: text or json")
}

// CheckOutput validates an -o value.
func CheckOutput(v string) error {
	if v != "text" && v != "json" {
		return UsageError(fmt.Errorf("invalid --output %q: want text or json", v))
	}
	return nil
}

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
