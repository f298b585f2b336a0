package shim

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/signals"
)

// ParseSignal reads a signal the shim can trap: a name with or without SIG
// (any case) or a number. The names are those of signals.Table.
func ParseSignal(s string) (syscall.Signal, error) {
	t := strings.TrimSpace(s)
	var sig signals.Signal
	if n, err := strconv.Atoi(t); err == nil {
		if n <= 0 || n > signals.MaxNum {
			return 0, fmt.Errorf("signal %q is not a signal number", s)
		}
		sig, _ = signals.ByNum(n)
	} else if v, ok := signals.ByName(t); ok {
		sig = v
	} else {
		return 0, fmt.Errorf("unknown signal %q; use a name such as SIGINT or SIGTERM, or a number", s)
	}
	if sig.Refused != "" {
		return 0, fmt.Errorf("signal %s %s; use SIGINT or SIGTERM", sig.Name, sig.Refused)
	}
	return syscall.Signal(sig.Num), nil
}

// SignalName is the SIGNAME form HTCondor stores in KillSig.
func SignalName(sig syscall.Signal) string { return signals.Name(int(sig)) }

// dieOfSignal ends the shim with the same signal that ended the job, so the
// scheduler sees ExitBySignal exactly as without the shim. It never returns:
// signals that do not end a process fall back to the shell's 128+N.
func dieOfSignal(sig syscall.Signal) {
	signal.Reset(sig)
	// No core file of the shim: the job's core, if any, is the useful one.
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{})
	// signal.Reset restores the disposition the shim started with, which is
	// "ignore" for SIGINT under a non-interactive shell's "&", and the Go
	// runtime would print a goroutine dump for SIGABRT or SIGSEGV. The
	// kernel's default action is what the job got, so ask for exactly that.
	setDefaultAction(sig)
	_ = syscall.Kill(os.Getpid(), sig)
	// Delivery is asynchronous for a multi-threaded process.
	time.Sleep(2 * time.Second)
	os.Exit(128 + int(sig))
}
