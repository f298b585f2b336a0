package shim

import (
	"os"
	"strconv"
	"syscall"
)

// closeInheritedFDs marks every descriptor above 2 close-on-exec, so that
// the job, its coordinator and DMTCP's restarts get only 0-2, as HTCondor's
// starter gives a job. A descriptor the shim's parent left open (a shell's
// pipe) would otherwise reach every process of the job: DMTCP then
// checkpoints it as the job's, and DMTCP 4.2.0 hangs restarts that share
// one. The shim's own descriptors are close-on-exec already (Go opens
// everything so).
func closeInheritedFDs() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}
