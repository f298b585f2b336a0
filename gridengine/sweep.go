package gridengine

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SweepOptions say which checkpoint environment directory to sweep.
type SweepOptions struct {
	CkptDir string // the checkpoint environment's ckpt_dir
	// OlderThan protects what may still be in use: nothing touched more
	// recently is removed, whatever the qmaster says.
	OlderThan time.Duration
	DryRun    bool
	Now       time.Time           // zero: time.Now()
	Getenv    func(string) string // os.Getenv, or a map in tests
}

// SweepEntry is what Sweep did with one directory.
type SweepEntry struct {
	Name    string // below CkptDir
	Removed bool   // or would have been, with DryRun
	Recent  bool   // kept because it changed within OlderThan
	Why     string
}

// jobDirRE matches a job's directory (JOB.TASK) and one a first run moved
// aside (JOB.TASK.stale-TIME); nothing else in ckpt_dir is the sweep's.
var jobDirRE = regexp.MustCompile(`^([0-9]+)\.([0-9]+)(\.stale-[0-9]{8}T[0-9]{6})?$`)

// Sweep removes what the clean command could not: the directories of jobs
// the qmaster no longer knows (a job deleted while it waited to resume
// after a migration gets no clean run, nor does one that Grid Engine never
// restarts after a "when s" migration) and directories a first run moved
// aside. A job the qmaster lists, in any state, keeps its directory. If
// the qmaster cannot be asked, only the moved-aside directories go.
func Sweep(o SweepOptions) ([]SweepEntry, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	entries, err := os.ReadDir(o.CkptDir)
	if err != nil {
		return nil, fmt.Errorf("read the checkpoint directory: %w", err)
	}
	var out []SweepEntry
	var known map[string]bool
	var qstatErr error
	for _, de := range entries {
		m := jobDirRE.FindStringSubmatch(de.Name())
		if m == nil {
			continue
		}
		path := filepath.Join(o.CkptDir, de.Name())
		st, err := os.Lstat(path)
		if err != nil || !st.IsDir() {
			continue // a symlink or a file with a job's name is not ours to remove
		}
		e := SweepEntry{Name: de.Name()}
		age := now.Sub(newestIn(path, st.ModTime()))
		switch {
		case age < o.OlderThan:
			e.Recent, e.Why = true, fmt.Sprintf("changed %s ago, less than the minimum age %s", age.Round(time.Second), o.OlderThan)
		case m[3] != "":
			e.Removed, e.Why = true, "an earlier job's checkpoints that a new job with the same id moved aside"
		default:
			if known == nil && qstatErr == nil {
				known, qstatErr = knownJobs(o.Getenv)
			}
			switch {
			case qstatErr != nil:
				e.Why = "cannot ask the qmaster"
			case known[m[1]]:
				e.Why = "the qmaster still lists job " + m[1]
			default:
				e.Removed, e.Why = true, fmt.Sprintf("the qmaster no longer knows job %s and nothing changed for %s", m[1], age.Round(time.Second))
			}
		}
		if e.Removed && !o.DryRun {
			if err := os.RemoveAll(path); err != nil {
				e.Removed, e.Why = false, fmt.Sprintf("remove failed: %v", err)
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if qstatErr != nil {
		return out, fmt.Errorf("only moved-aside directories were swept: %w", qstatErr)
	}
	return out, nil
}

// newestIn is the latest change to a directory or anything directly in
// it, or in its checkpoint store (a running shim appends to its log and
// commits generations there).
func newestIn(dir string, t time.Time) time.Time {
	for _, d := range []string{dir, filepath.Join(dir, storeName)} {
		entries, _ := os.ReadDir(d)
		for _, de := range entries {
			if info, err := de.Info(); err == nil && info.ModTime().After(t) {
				t = info.ModTime()
			}
		}
	}
	return t
}

// knownJobs lists the job ids the qmaster knows, of every user and in
// every state.
func knownJobs(getenv func(string) string) (map[string]bool, error) {
	out, err := jobEnv{getenv: getenv}.tool("qstat", "-u", "*")
	if err != nil {
		return nil, err
	}
	return parseJobIDs(out)
}

// parseJobIDs reads the job ids of qstat's plain listing. Anything else
// than its header, rule and job lines means the listing is not what this
// reads, and nothing may be removed on its word.
func parseJobIDs(out string) (map[string]bool, error) {
	ids := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0, f[0] == "job-ID", strings.Trim(f[0], "-") == "":
		case len(f) >= 5 && isDigits(f[0]):
			ids[f[0]] = true
		default:
			return nil, fmt.Errorf("qstat -u '*' line %d is not a job line: %q", n, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("read qstat's listing: " + err.Error())
	}
	return ids, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
