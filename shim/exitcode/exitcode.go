// Package exitcode holds shim_dmtcp's documented exit codes and the error
// type that carries one, so that every part of the shim (options, engines,
// the checkpoint store) reports a fatal failure with the code a submit file
// can act on.
//
// A job that ends by itself passes its own code through (or its own death
// signal), so the shim's own codes sit in a block, 240-251, that programs
// rarely use and that avoids DMTCP's 99 and Grid Engine's 99 and 100. A
// submit file holds the job on these codes instead of rerunning it:
// rerunning cannot fix a missing DMTCP or an incompatible checkpoint.
package exitcode

import (
	"errors"
	"fmt"
)

const (
	// CheckpointDefault is the default exit code after checkpoint-and-stop:
	// HTCondor's conventional checkpoint_exit_code.
	CheckpointDefault = 85

	// Usage: bad options or option values.
	Usage = 240
	// DMTCPNotFound: no DMTCP install, or one missing a needed piece.
	DMTCPNotFound = 241
	// Coordinator: the per-job coordinator did not come up.
	Coordinator = 242
	// Launch: DMTCP could not launch the program, or DMTCP itself failed
	// while the job ran (DMTCP_FAIL_RC is set to this code).
	Launch = 243
	// Restart: restarting from a checkpoint failed.
	Restart = 244
	// Incompatible: the checkpoint cannot run here (DMTCP major version,
	// architecture or CPU features differ).
	Incompatible = 245
	// MissingFiles: files the job had open outside its working directory at
	// checkpoint time are missing here.
	MissingFiles = 246
	// CheckpointFailed: a checkpoint requested on vacate or for
	// self-checkpointing did not complete.
	CheckpointFailed = 247
	// CheckpointDir: the checkpoint directory cannot be created, locked or
	// written.
	CheckpointDir = 248
	// Internal: a bug or an unexpected operating-system failure.
	Internal = 249
	// NoUsableCheckpoint: checkpoints exist but every generation failed
	// verification (each is kept aside as bad-gen-N). The job is not
	// started over unless the user asks for it (--fresh-start).
	NoUsableCheckpoint = 250
	// RestartTimeout: a restarted job was not running within
	// --restart-timeout (DMTCP hung); it was killed, the checkpoint kept.
	RestartTimeout = 251
)

// Codes lists the infrastructure-failure codes with a one-line reason each,
// for the help text, the README and submit files' on_exit_hold reasons.
var Codes = []struct {
	Code   int
	Reason string
}{
	{Usage, "shim_dmtcp usage error (bad option or value)"},
	{DMTCPNotFound, "DMTCP not found or incomplete on the execute node"},
	{Coordinator, "DMTCP coordinator failed to start"},
	{Launch, "DMTCP failed to launch or run the program"},
	{Restart, "restart from checkpoint failed"},
	{Incompatible, "checkpoint incompatible with this machine or DMTCP version"},
	{MissingFiles, "files the checkpointed job had open are missing"},
	{CheckpointFailed, "checkpoint did not complete"},
	{CheckpointDir, "checkpoint directory unusable"},
	{Internal, "internal error in shim_dmtcp"},
	{NoUsableCheckpoint, "every saved checkpoint is damaged (kept aside as bad-gen-N in the checkpoint directory); repair it, or allow a fresh start"},
	{RestartTimeout, "restart from checkpoint hung (not running within --restart-timeout)"},
}

// IsShimCode reports whether code is one of the shim's own failure codes.
func IsShimCode(code int) bool {
	for _, c := range Codes {
		if c.Code == code {
			return true
		}
	}
	return false
}

// Error is a fatal error with the exit code that reports it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf formats an error (%w works) that exits with code.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Of is the exit code for a fatal error: the innermost code wrapped in it,
// or Internal for an error that carries none.
func Of(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
