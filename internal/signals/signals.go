// Package signals is the one table of the signals a scheduler may send to
// ask a job to leave (HTCondor's kill_sig, Grid Engine's), by name and
// Linux number: render checks a description's checkpoint.signal against
// it, and the shim its --signal.
package signals

import (
	"strconv"
	"strings"
)

// Signal is one signal of the table.
type Signal struct {
	Name string // "SIGINT"
	Num  int    // Linux's number: the shim and the execute nodes are Linux
	// Refused says why the shim cannot trap it to checkpoint and stop the
	// job; "" when it can.
	Refused string
	// Odd marks a signal the shim traps when a scheduler is set up to send
	// it, but that render does not offer: it means a fault or job control.
	Odd bool
}

// Evict says whether render offers s as a job's eviction signal.
func (s Signal) Evict() bool { return s.Refused == "" && !s.Odd }

// The reasons a signal is refused.
const (
	untrappable = "cannot be trapped"
	dmtcps      = "is DMTCP's own checkpoint signal"
	notLeave    = "cannot ask a job to leave"
)

// Table is every signal known by name, in number order.
var Table = []Signal{
	{Name: "SIGHUP", Num: 1},
	{Name: "SIGINT", Num: 2},
	{Name: "SIGQUIT", Num: 3},
	{Name: "SIGABRT", Num: 6, Odd: true},
	{Name: "SIGKILL", Num: 9, Refused: untrappable},
	{Name: "SIGUSR1", Num: 10},
	{Name: "SIGSEGV", Num: 11, Refused: notLeave},
	{Name: "SIGUSR2", Num: 12, Refused: dmtcps},
	{Name: "SIGALRM", Num: 14},
	{Name: "SIGTERM", Num: 15},
	{Name: "SIGCHLD", Num: 17, Refused: notLeave},
	{Name: "SIGCONT", Num: 18, Refused: notLeave},
	{Name: "SIGSTOP", Num: 19, Refused: untrappable},
	{Name: "SIGTSTP", Num: 20, Odd: true},
	{Name: "SIGXCPU", Num: 24},
	{Name: "SIGXFSZ", Num: 25, Odd: true},
	{Name: "SIGPWR", Num: 30, Odd: true},
}

// MaxNum is the largest Linux signal number.
const MaxNum = 64

// ByName finds a signal by name, in any case, with or without SIG.
func ByName(name string) (Signal, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	for _, s := range Table {
		if name == s.Name || "SIG"+name == s.Name {
			return s, true
		}
	}
	return Signal{}, false
}

// ByNum finds a signal by number; a number the table does not name gives
// a Signal with only Num, which the shim may trap.
func ByNum(n int) (Signal, bool) {
	for _, s := range Table {
		if n == s.Num {
			return s, true
		}
	}
	return Signal{Num: n}, false
}

// Name is the SIGNAME form HTCondor stores in KillSig, or the number for
// a signal the table does not name.
func Name(n int) string {
	if s, ok := ByNum(n); ok {
		return s.Name
	}
	return strconv.Itoa(n)
}
