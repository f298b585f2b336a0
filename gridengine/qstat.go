package gridengine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/shim/platform"
)

// CPUFlagComplex is the name of the BOOL complex that stands for one CPU
// feature flag, as "dmtcp-condor sge config --cpu-flags" defines them:
// cpuflag_avx2.
func CPUFlagComplex(flag string) string { return "cpuflag_" + flag }

// tool runs a Grid Engine client program as the job's owner. The commands
// get the job's environment, whose PATH may lack the clients: the cell's
// binary directory is tried too.
func (e jobEnv) tool(name string, args ...string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{e.getenv("SGE_BINARY_PATH"), filepath.Join(e.getenv("SGE_ROOT"), "bin", e.getenv("SGE_ARCH"))} {
			if p := filepath.Join(dir, name); dir != "" && exists(p) {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH or in $SGE_BINARY_PATH: make this host a submit host with the Grid Engine clients installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	// A user's ~/.sge_qstat (e.g. -ext) would change the columns read.
	cmd.Env = append(os.Environ(), "HOME=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// jobState is the job's (task's) state in qstat's listing ("r", "Rq",
// "dr", ...), or "" when the qmaster no longer knows it.
func jobState(e jobEnv) (string, error) {
	owner := firstOf(e.Config["job_owner"], e.getenv("USER"), "*")
	out, err := e.tool("qstat", "-u", owner)
	if err != nil {
		return "", err
	}
	return parseQstatState(out, e.JobID, e.Task, e.Array), nil
}

// parseQstatState finds a job's state in qstat's plain listing. Columns:
// job-ID prior name user state date time [queue] slots [ja-task-ID]; the
// queue is empty for pending jobs, and a pending array job shows a task
// range such as 1-10:1 or 3,5.
func parseQstatState(out, jobID, task string, array bool) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	state := ""
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != jobID {
			continue
		}
		if !array {
			return f[4]
		}
		if len(f) >= 9 && taskIn(f[len(f)-1], task) {
			return f[4]
		}
	}
	return state
}

// taskIn reports whether task is in a qstat task list: "3", "1-10:1",
// "2,4-6:2".
func taskIn(list, task string) bool {
	n, err := strconv.Atoi(task)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(list, ",") {
		rng, step, _ := strings.Cut(part, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		s := 1
		if step != "" {
			if v, err := strconv.Atoi(step); err == nil && v > 0 {
				s = v
			}
		}
		if err1 == nil && err2 == nil && n >= a && n <= b && (n-a)%s == 0 {
			return true
		}
	}
	return false
}

// pinOnce pins the job to this CPU's features unless it is pinned
// already. The features that matter are those of the CPU the job first
// ran on (a C library picks its code paths at start, and a restarted
// process keeps them), so the first pin stays; a later host's pins would
// only narrow the job to hosts like that one.
func pinOnce(e jobEnv, log *log) error {
	marker := filepath.Join(e.Dir(), pinnedName)
	if data, err := os.ReadFile(marker); err == nil {
		log.Printf("already pinned to the features of the CPU it first ran on (%s)", strings.TrimSpace(string(data)))
		return nil
	}
	list, err := pinCPU(e, log)
	if err != nil {
		return err
	}
	if err := writePrivate(marker, []byte(list+"\n")); err != nil {
		log.Errorf("remember the pin in %s: %v", marker, err)
	}
	return nil
}

// pinCPU adds cpuflag_<flag>=TRUE for this host's CPU features (those with
// a complex defined) to the job's hard resource list, keeping the rest of
// it: qalter -l replaces the whole list.
func pinCPU(e jobEnv, log *log) (string, error) {
	if e.Array {
		return "", errors.New("this is an array task, and qalter would pin every task of the job")
	}
	flags, err := platform.CPUFlags()
	if err != nil {
		return "", fmt.Errorf("read this CPU's flags: %w", err)
	}
	complexes, err := e.tool("qconf", "-sc")
	if err != nil {
		return "", err
	}
	defined := map[string]bool{}
	for _, line := range strings.Split(complexes, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "cpuflag_") {
			defined[f[0]] = true
		}
	}
	var pins []string
	for _, f := range platform.ISAFlags(flags) {
		if c := CPUFlagComplex(f); defined[c] {
			pins = append(pins, c)
		}
	}
	if len(pins) == 0 {
		return "", errors.New("no cpuflag_* complex matches this CPU's flags; define them (dmtcp-condor sge config --cpu-flags)")
	}
	info, err := e.tool("qstat", "-j", e.JobID)
	if err != nil {
		return "", err
	}
	list := mergeResources(hardResources(info), pins)
	if _, err := e.tool("qalter", "-l", list, e.JobID); err != nil {
		return "", err
	}
	log.Printf("pinned to hosts with this CPU's features: qalter -l %s", list)
	return list, nil
}

// hardResources is the job's "hard resource_list" from qstat -j.
func hardResources(qstatJ string) string {
	for _, line := range strings.Split(qstatJ, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "hard resource_list" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mergeResources sets each complex in pins to TRUE in a resource list
// "a=1,b=2", keeping the other requests, sorted for a stable result.
func mergeResources(list string, pins []string) string {
	req := map[string]string{}
	for _, r := range strings.Split(list, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(r), "="); ok && k != "" {
			req[k] = v
		}
	}
	for _, p := range pins {
		req[p] = "TRUE"
	}
	keys := make([]string, 0, len(req))
	for k := range req {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + req[k]
	}
	return strings.Join(parts, ",")
}
