package cmdutil

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"

	"github.com/charmbracelet/lipgloss/table"
	"github.com/karana-project/karana/pkg/converge"
)

// WriteTable writes rows under headers: a lipgloss table on a terminal,
// plain aligned columns elsewhere (logs, pipes, tests).
func WriteTable(w io.Writer, tty bool, headers []string, rows [][]string) error {
	if tty {
		t := table.New().Border(lipgloss.NormalBorder()).Headers(headers...).Rows(rows...).
			StyleFunc(func(row, col int) lipgloss.Style {
				s := lipgloss.NewStyle().Padding(0, 1)
				if row == table.HeaderRow {
					return s.Bold(true)
				}
				return s
			})
		_, err := fmt.Fprintln(w, t.Render())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// WriteSummary writes the closing table of a converge run and one line
// saying whether anything changed.
func WriteSummary(w io.Writer, tty bool, r *converge.Report, dryRun bool) error {
	var rows [][]string
	for _, x := range r.Rows() {
		rows = append(rows, []string{x.Kind, x.Object, x.Result(), dash(x.Health)})
	}
	if err := WriteTable(w, tty, []string{"GROUP", "OBJECT", "RESULT", "HEALTH"}, rows); err != nil {
		return err
	}
	changed, unchanged := 0, 0
	for _, x := range r.Rows() {
		if x.Changed() {
			changed++
		} else {
			unchanged++
		}
	}
	switch {
	case changed == 0 && dryRun:
		_, err := fmt.Fprintf(w, "Nothing to do: all %d objects are as the inventory says.\n", unchanged)
		return err
	case changed == 0:
		_, err := fmt.Fprintf(w, "Nothing changed: all %d objects were already as the inventory says.\n", unchanged)
		return err
	case dryRun:
		_, err := fmt.Fprintf(w, "Dry run: %d object(s) would change, %d already right. Nothing was touched.\n", changed, unchanged)
		return err
	}
	_, err := fmt.Fprintf(w, "%d object(s) changed, %d already right.\n", changed, unchanged)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
