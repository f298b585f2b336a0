// Package proctree reads the process tree from /proc: the shim needs a
// job's processes (all descendants of the one it started) to record what
// they have open, and so do the DMTCP test double and the tests.
package proctree

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// Stat is the part of /proc/PID/stat the callers need.
type Stat struct {
	State byte // R, S, T (stopped), Z (zombie), ...
	PPID  int
}

// Read reads /proc/PID/stat. The command name comes first and may itself
// contain spaces and parentheses, so fields are counted after its last ')'.
func Read(pid int) (Stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return Stat{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 || len(f[0]) == 0 {
		return Stat{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return Stat{}, false
	}
	return Stat{State: f[0][0], PPID: ppid}, true
}

// Descendants lists root and every process below it, root first; nil if
// root does not exist.
func Descendants(root int) []int {
	if _, ok := Read(root); !ok {
		return nil
	}
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := Read(pid); ok {
			children[st.PPID] = append(children[st.PPID], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
