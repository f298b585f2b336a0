// Package engine is the vocabulary shared by the shim and its checkpoint
// engines (DMTCP, and HTCondor's legacy checkpoint library): what to run,
// how it ended, and what a checkpoint produced. The interfaces themselves
// live with their user, package shim.
package engine

import (
	"os"
	"syscall"
	"time"
)

// Spec is a job to launch or restart.
type Spec struct {
	Argv []string // the program and its arguments
	Dir  string   // working directory
	Env  []string // the job's environment

	Stdin, Stdout, Stderr *os.File

	// CkptDir is where the engine writes checkpoints: the store's work
	// directory, committed into generations by the shim. Engines write
	// them uncompressed: the shim compresses complete generations itself.
	CkptDir string

	// LogLine receives the engine's helpers' output (DMTCP's coordinator),
	// a line at a time; LogPath is the log file, for tools that open it
	// themselves (DMTCP's diagnostics inside the job).
	LogLine func(string)
	LogPath string
}

// Status is how a job ended: an exit code, or a signal.
type Status struct {
	Code   int
	Signal syscall.Signal // non-zero: the job died of this signal
}

// Exited reports whether the job ended with an exit code.
func (s Status) Exited() bool { return s.Signal == 0 }

// StatusOf reads an exited process's wait status.
func StatusOf(ps *os.ProcessState) Status {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return Status{Code: -1, Signal: ws.Signal()}
	}
	return Status{Code: ps.ExitCode()}
}

// Checkpoint is what one complete checkpoint produced.
type Checkpoint struct {
	// Files are paths relative to Spec.CkptDir that make up the
	// checkpoint; Images are those the restart is given.
	Files  []string
	Images []string
	// Processes is how many processes the checkpoint holds.
	Processes int
	// Suspended is true when the atSuspend callback ran while the job was
	// suspended for this checkpoint.
	Suspended bool
	Duration  time.Duration
}
