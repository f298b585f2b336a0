package shim

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dmtcp-condor/dmtcp-condor/internal/proctree"
)

// dmtcpProtectedFD is where DMTCP's own descriptors start inside a job's
// processes (PROTECTED_FD_START in DMTCP's sources); they are not the job's.
const dmtcpProtectedFD = 820

// openFiles lists the regular files the job's processes have open by an
// absolute path outside its working directory: DMTCP reopens them by that
// path on restart and aborts when one is missing, so the shim records them
// with the checkpoint and checks for them first.
func openFiles(root int, cwd string, exclude []string) []string {
	seen := map[string]bool{}
	skip := func(p string) bool {
		if within(p, cwd) {
			return true
		}
		for _, pre := range []string{"/proc", "/dev", "/sys"} {
			if within(p, pre) {
				return true
			}
		}
		for _, e := range exclude {
			if within(p, e) {
				return true
			}
		}
		return false
	}
	for _, pid := range proctree.Descendants(root) {
		fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			n, err := strconv.Atoi(fd.Name())
			if err != nil || n >= dmtcpProtectedFD {
				continue
			}
			target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !filepath.IsAbs(target) || strings.HasSuffix(target, " (deleted)") || skip(target) {
				continue
			}
			if st, err := os.Stat(filepath.Join(fdDir, fd.Name())); err != nil || !st.Mode().IsRegular() {
				continue
			}
			seen[target] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// fdOffset reads a descriptor's file position from /proc/PID/fdinfo.
func fdOffset(pid, fd int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "pos:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// threadReport describes every thread of the process tree under root: its
// command, state, the kernel function it waits in (wchan) and the system
// call it is in, which is what tells a hang apart (a futex, a socket read).
func threadReport(root int) []string {
	var out []string
	for _, pid := range proctree.Descendants(root) {
		dir := "/proc/" + strconv.Itoa(pid)
		tasks, _ := filepath.Glob(dir + "/task/*")
		for _, t := range tasks {
			stat, _ := os.ReadFile(t + "/stat")
			state := "?"
			if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
				state = string(stat[i+2])
			}
			out = append(out, fmt.Sprintf("pid %d tid %s (%s) state %s wchan %s syscall %s",
				pid, filepath.Base(t), procLine(t+"/comm"), state, procLine(t+"/wchan"), firstField(procLine(t+"/syscall"))))
		}
	}
	return out
}

func procLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	if s := strings.TrimSpace(string(data)); s != "" {
		return s
	}
	return "-"
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
