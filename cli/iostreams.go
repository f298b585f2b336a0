// Package cli holds the dmtcp-condor commands. Each command is built by a
// NewCmdX constructor from an IOStreams and an optional run function, with an
// options struct holding its inputs, so tests run commands with arguments and
// buffers (or call the run function directly) and nothing lives in package
// state. cmd/dmtcp-condor only calls Execute.
package cli

import (
	"io"
	"os"
)

// IOStreams are the standard streams a command reads and writes. Commands
// never touch os.Stdin/os.Stdout directly so tests can substitute buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// streamsOf returns the streams cobra was given for cmd (or inherited from
// its root through SetIn/SetOut/SetErr), which default to the process's.
func streamsOf(cmd interface {
	InOrStdin() io.Reader
	OutOrStdout() io.Writer
	ErrOrStderr() io.Writer
}) *IOStreams {
	return &IOStreams{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr()}
}

// System returns the process's real standard streams.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}
