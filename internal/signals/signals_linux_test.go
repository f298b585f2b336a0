package signals

import (
	"syscall"
	"testing"
)

// The table's numbers are Linux's, which the shim passes to the kernel.
func TestNumbersAreLinuxs(t *testing.T) {
	want := map[string]syscall.Signal{
		"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGQUIT": syscall.SIGQUIT,
		"SIGABRT": syscall.SIGABRT, "SIGKILL": syscall.SIGKILL, "SIGUSR1": syscall.SIGUSR1,
		"SIGSEGV": syscall.SIGSEGV, "SIGUSR2": syscall.SIGUSR2, "SIGALRM": syscall.SIGALRM,
		"SIGTERM": syscall.SIGTERM, "SIGCHLD": syscall.SIGCHLD, "SIGCONT": syscall.SIGCONT,
		"SIGSTOP": syscall.SIGSTOP, "SIGTSTP": syscall.SIGTSTP, "SIGXCPU": syscall.SIGXCPU,
		"SIGXFSZ": syscall.SIGXFSZ, "SIGPWR": syscall.SIGPWR,
	}
	if len(want) != len(Table) {
		t.Errorf("the table has %d signals, the test knows %d", len(Table), len(want))
	}
	last := 0
	for _, s := range Table {
		if w, ok := want[s.Name]; !ok || int(w) != s.Num {
			t.Errorf("%s is %d in the table, %d on Linux", s.Name, s.Num, w)
		}
		if s.Num <= last {
			t.Errorf("%s (%d) is out of number order", s.Name, s.Num)
		}
		last = s.Num
	}
}

func TestLookups(t *testing.T) {
	for _, in := range []string{"SIGINT", "int", " Int ", "sigint"} {
		if s, ok := ByName(in); !ok || s.Num != 2 {
			t.Errorf("ByName(%q) = %+v, %v", in, s, ok)
		}
	}
	if _, ok := ByName("FOO"); ok {
		t.Error("ByName(FOO) found a signal")
	}
	if Name(15) != "SIGTERM" || Name(34) != "34" {
		t.Errorf("Name(15) = %s, Name(34) = %s", Name(15), Name(34))
	}
}
