// Package iostreams carries a command's input and outputs and knows whether
// they are terminals: colour and spinners only there, plain lines in pipes
// and CI logs.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"
)

// IOStreams is what a command reads from and writes to. Data goes to Out,
// progress and diagnostics to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		outTTY: isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("CI") == "",
		errTTY: isTerminal(os.Stderr) && os.Getenv("NO_COLOR") == "" && os.Getenv("CI") == "",
	}
}

// Test returns streams backed by buffers, never terminals.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}, out, errOut
}

// IsStdoutTTY reports whether Out is an interactive terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether ErrOut is an interactive terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Styles used by human-readable output. On a non-terminal they render plain text.
type Styles struct {
	Bold, Ok, Warn, Err, Dim lipgloss.Style
}

// Styles returns the styles for ErrOut (status lines) or plain ones.
func (s *IOStreams) Styles() Styles {
	if !s.errTTY {
		p := lipgloss.NewStyle()
		return Styles{p, p, p, p, p}
	}
	return Styles{
		Bold: lipgloss.NewStyle().Bold(true),
		Ok:   lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		Warn: lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		Err:  lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Dim:  lipgloss.NewStyle().Faint(true),
	}
}
