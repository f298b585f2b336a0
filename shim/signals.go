package shim

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// signalNames are the signals a scheduler may send as kill_sig, by the names
// HTCondor and Grid Engine use.
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"ABRT": syscall.SIGABRT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM, "TSTP": syscall.SIGTSTP,
	"XCPU": syscall.SIGXCPU, "XFSZ": syscall.SIGXFSZ, "PWR": syscall.SIGPWR,
	"KILL": syscall.SIGKILL, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
	"CHLD": syscall.SIGCHLD, "SEGV": syscall.SIGSEGV,
}

// ParseSignal reads a signal the shim can trap: a name with or without SIG
// (any case) or a number.
func ParseSignal(s string) (syscall.Signal, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	var sig syscall.Signal
	if n, err := strconv.Atoi(t); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("signal %q is not a signal number", s)
		}
		sig = syscall.Signal(n)
	} else if v, ok := signalNames[strings.TrimPrefix(t, "SIG")]; ok {
		sig = v
	} else {
		return 0, fmt.Errorf("unknown signal %q; use a name such as SIGINT or SIGTERM, or a number", s)
	}
	switch sig {
	case syscall.SIGKILL, syscall.SIGSTOP:
		return 0, fmt.Errorf("signal %s cannot be trapped; use SIGINT or SIGTERM", SignalName(sig))
	case syscall.SIGUSR2:
		return 0, fmt.Errorf("signal SIGUSR2 is DMTCP's own checkpoint signal; use SIGINT or SIGTERM")
	case syscall.SIGCHLD, syscall.SIGCONT, syscall.SIGSEGV:
		return 0, fmt.Errorf("signal %s cannot ask a job to leave; use SIGINT or SIGTERM", SignalName(sig))
	}
	return sig, nil
}

// SignalName is the SIGNAME form HTCondor stores in KillSig.
func SignalName(sig syscall.Signal) string {
	for name, v := range signalNames {
		if v == sig {
			return "SIG" + name
		}
	}
	return strconv.Itoa(int(sig))
}

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
