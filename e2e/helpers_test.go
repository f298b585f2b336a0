package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// pool is the running test pool of testdata/condor/pool.sh.
type pool struct {
	script string // pool.sh
	root   string // its chroot
	uid    int    // the submitting user
	gid    int
}

// command runs pool.sh MODE ARGS... ("run-as-user" or "run") in dir.
func (p *pool) command(ctx context.Context, mode, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.script, append([]string{mode}, args...)...)
	cmd.Dir = dir
	return cmd
}

// user runs an HTCondor tool in the chroot as the submitting user, in dir
// (under /tmp), and returns its stdout; an error carries its stderr.
func (p *pool) user(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := p.command(ctx, "run-as-user", dir, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %v\n%s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// executeDir is where the pool's jobs run, seen from the host.
func (p *pool) executeDir() string { return filepath.Join(p.root, "var", "lib", "condor", "execute") }

var keepJobs = os.Getenv("DMTCP_CONDOR_E2E_KEEP_JOBS") == "1"

// newJobDir makes a job directory under /tmp owned by the pool's user. It
// is removed at the end unless the test failed.
func newJobDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "dmtcp-condor-e2e-job-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, suite.pool.uid, suite.pool.gid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || keepJobs {
			t.Logf("job directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// put writes a file into a job directory, owned by the pool's user.
func put(t *testing.T, dir, name string, data []byte, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, suite.pool.uid, suite.pool.gid); err != nil {
		t.Fatal(err)
	}
}

// program is a test job: files copied into the job directory and its
// command line.
type program struct {
	name  string
	files []string // from testdata/jobs; "counter", "condor-ckpt" and "keep-files" are the compiled C programs
	argv  []string // as submitted
	fast  []string // the same job without its delays: the same output, sooner
	env   map[string]string
	// outputs are files the job keeps in its working directory across
	// an eviction (the description's output_files).
	outputs []string
}

// counter is testdata/jobs/counter.c: N lines to stdout, every tenth to
// stderr, exit code CODE.
func counter(n, delayMS, code int) program {
	a := func(d int) []string {
		return []string{"./counter", strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(code)}
	}
	return program{"c", []string{"counter"}, a(delayMS), a(0), nil, nil}
}

// condorCkpt is testdata/jobs/condor-ckpt.c, a program speaking HTCondor's
// old checkpoint-library protocol: N lines to stdout, its personality to
// stderr, exit code CODE. Run alone it needs -_condor_ckpt FILE; under the
// shim (engine condor-syscall) the shim adds it.
func condorCkpt(n, delayMS, code int) program {
	a := func(d int) []string {
		return []string{"./condor-ckpt", strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(code)}
	}
	return program{"condor-ckpt", []string{"condor-ckpt"}, a(delayMS), append(a(0), "-_condor_ckpt", "uninterrupted.ckpt"), nil, nil}
}

var (
	// pythonCounter forks: the parent writes stdout, the child stderr.
	pythonCounter = program{"python", []string{"counter.py", "dmtcp_double.py"},
		[]string{"./counter.py", "300", "200", "20"}, []string{"./counter.py", "300", "200", "0"}, nil, nil}
	// bashCounter is a bash parent and a bash child.
	bashCounter = program{"bash", []string{"parent-child.sh", "dmtcp_double.sh"},
		[]string{"./parent-child.sh", "300", "200", "0.02"}, []string{"./parent-child.sh", "300", "200", "0"}, nil, []string{"child.state"}}
)

// copyTo puts the program's files into dir.
func (p program) copyTo(t *testing.T, dir string) {
	t.Helper()
	for _, f := range p.files {
		src := filepath.Join(suite.repo, "testdata", "jobs", f)
		switch f {
		case "counter":
			src = suite.counter
		case "condor-ckpt":
			src = suite.ckptProg
		case "keep-files":
			src = suite.keepProg
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		put(t, dir, f, data, 0o755)
	}
}

var (
	expectMu sync.Mutex
	expected = map[string][2]string{}
)

// expect is the program's stdout and stderr in an uninterrupted run
// without DMTCP or HTCondor.
func (p program) expect(t *testing.T) (stdout, stderr string) {
	t.Helper()
	key := strings.Join(p.fast, "\x00")
	expectMu.Lock()
	defer expectMu.Unlock()
	if e, ok := expected[key]; ok {
		return e[0], e[1]
	}
	dir := t.TempDir()
	p.copyTo(t, dir)
	var out, errb bytes.Buffer
	for try := 1; ; try++ {
		cmd := exec.Command(p.fast[0], p.fast[1:]...)
		cmd.Dir = dir
		out.Reset()
		errb.Reset()
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		// A program just written is "busy" while a parallel test's fork
		// still holds the descriptor it was written through (until that
		// child execs): wait and run it again.
		if errors.Is(err, syscall.ETXTBSY) && try < 50 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("run %s without DMTCP: %v", p.name, err)
		}
		break
	}
	expected[key] = [2]string{out.String(), errb.String()}
	return out.String(), errb.String()
}

// desc is a job description, written as job.yaml.
type desc map[string]any

// describe is the description of p against inst in a checkpoint mode. The
// program's other files (the double's helpers) are its input files.
func describe(inst install, p program, mode string, interval any) desc {
	d := desc{
		"program":    p.argv[0],
		"arguments":  p.argv[1:],
		"checkpoint": map[string]any{"mode": mode, "interval": interval},
		"dmtcp":      map[string]any{"bundle": inst.bundle},
	}
	var inputs []string
	for _, f := range p.files {
		if "./"+f != p.argv[0] {
			inputs = append(inputs, f)
		}
	}
	if len(inputs) > 0 {
		d["input_files"] = inputs
	}
	if len(p.env) > 0 {
		d["environment"] = p.env
	}
	if len(p.outputs) > 0 {
		d["output_files"] = p.outputs
	}
	return d
}

// render writes job.yaml and turns it into job.sub with dmtcp-condor render,
// as a user would.
func render(t *testing.T, dir string, d desc) {
	t.Helper()
	data, err := yaml.Marshal(map[string]any(d))
	if err != nil {
		t.Fatal(err)
	}
	put(t, dir, "job.yaml", data, 0o644)
	renderFile(t, dir, "job.yaml")
}

// renderFile runs dmtcp-condor render on a description in dir, writing
// dir/job.sub.
func renderFile(t *testing.T, dir, name string) {
	t.Helper()
	cmd := exec.Command(suite.cli, "render", name, "-o", "job.sub")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		t.Fatalf("dmtcp-condor render %s: %v\n%s\n%s:\n%s", name, err, out, name, data)
	}
	if err := os.Chown(filepath.Join(dir, "job.sub"), suite.pool.uid, suite.pool.gid); err != nil {
		t.Fatal(err)
	}
}

// job is one submitted cluster.
type job struct {
	t       *testing.T
	p       *pool
	dir     string
	cluster int
	diag    string // diagnose's report, made once
}

var clusterRE = regexp.MustCompile(`^(\d+)\.\d+`)

// submit runs condor_submit job.sub as the pool's user and removes the
// cluster at the end of the test.
func submit(t *testing.T, dir string) *job {
	t.Helper()
	p := suite.pool
	out, err := p.user(dir, "condor_submit", "-terse", "job.sub")
	if err != nil {
		sub, _ := os.ReadFile(filepath.Join(dir, "job.sub"))
		t.Fatalf("condor_submit: %v\njob.sub:\n%s", err, sub)
	}
	m := clusterRE.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		t.Fatalf("condor_submit -terse printed %q, not a job id", out)
	}
	j := &job{t: t, p: p, dir: dir}
	j.cluster, _ = strconv.Atoi(m[1])
	t.Cleanup(func() { p.user(dir, "condor_rm", strconv.Itoa(j.cluster)) })
	t.Logf("submitted cluster %d from %s", j.cluster, dir)
	return j
}

// startJob renders d in a fresh job directory holding p's files and
// submits it.
func startJob(t *testing.T, p program, d desc) *job {
	t.Helper()
	dir := newJobDir(t)
	p.copyTo(t, dir)
	render(t, dir, d)
	return submit(t, dir)
}

// Names the generator gives the job's files for process 0 (see submitgen).
func (j *job) stdoutName() string  { return fmt.Sprintf("job.%d.0.out", j.cluster) }
func (j *job) stderrName() string  { return fmt.Sprintf("job.%d.0.err", j.cluster) }
func (j *job) shimLogName() string { return fmt.Sprintf("dmtcp.%d.0.log", j.cluster) }
func (j *job) shimOutName() string { return fmt.Sprintf("shim.%d.0.out", j.cluster) }
func (j *job) shimErrName() string { return fmt.Sprintf("shim.%d.0.err", j.cluster) }
func (j *job) eventLogName() string {
	return fmt.Sprintf("job.%d.log", j.cluster)
}

// read returns a file of the job directory ("" if missing).
func (j *job) read(name string) string {
	data, _ := os.ReadFile(filepath.Join(j.dir, name))
	return string(data)
}

// event is one entry of the job's event log.
type event struct {
	code int
	proc int
	text string // the header line and the body
}

var eventRE = regexp.MustCompile(`^(\d{3}) \((\d+)\.(\d+)\.\d+\) `)

// Event codes (HTCondor's ULogEventNumber).
const (
	evExecute    = 1
	evEvicted    = 4
	evTerminated = 5
	evAborted    = 9
	evHeld       = 12
	evReleased   = 13
)

func (j *job) events() []event {
	var evs []event
	var cur *event
	for _, l := range strings.Split(j.read(j.eventLogName()), "\n") {
		if m := eventRE.FindStringSubmatch(l); m != nil {
			code, _ := strconv.Atoi(m[1])
			proc, _ := strconv.Atoi(m[3])
			evs = append(evs, event{code: code, proc: proc, text: l})
			cur = &evs[len(evs)-1]
			continue
		}
		if l == "..." {
			cur = nil
		} else if cur != nil {
			cur.text += "\n" + l
		}
	}
	return evs
}

func count(evs []event, code int) int {
	n := 0
	for _, e := range evs {
		if e.code == code {
			n++
		}
	}
	return n
}

var scratchRE = regexp.MustCompile(`CondorScratchDir = "([^"]+)"`)

// scratchDirs are the directories the job ran in, from its execute events.
func (j *job) scratchDirs() []string {
	var dirs []string
	for _, e := range j.events() {
		if m := scratchRE.FindStringSubmatch(e.text); e.code == evExecute && m != nil {
			dirs = append(dirs, m[1])
		}
	}
	return dirs
}

// waitFor polls cond (cheap: files) until it holds. It fails at once, with
// the reason, when the job is held or removed, or ends before cond holds.
func (j *job) waitFor(what string, timeout time.Duration, cond func() bool) {
	j.t.Helper()
	j.wait(what, timeout, 100*time.Millisecond, false, cond)
}

// waitQueue is waitFor for a cond that asks the schedd (condor_q): it polls
// less often.
func (j *job) waitQueue(what string, timeout time.Duration, cond func() bool) {
	j.t.Helper()
	j.wait(what, timeout, 500*time.Millisecond, false, cond)
}

func (j *job) wait(what string, timeout, every time.Duration, endOK bool, cond func() bool) {
	j.t.Helper()
	start := time.Now()
	lastQ := start
	for {
		if cond() {
			return
		}
		evs := j.events()
		held := count(evs, evHeld) > count(evs, evReleased)
		if !held && time.Since(lastQ) > 2*time.Second {
			// A hold is not always in the event log (a schedd that crashed
			// while holding the job never writes it).
			lastQ = time.Now()
			held = attr(j.queueAd(), "JobStatus") == "5"
		}
		switch {
		case held:
			j.fatalf("the job was held while waiting for %s", what)
		case count(evs, evAborted) > 0:
			j.fatalf("the job was removed while waiting for %s", what)
		case !endOK && count(evs, evTerminated) > 0 && !cond():
			j.fatalf("the job ended while waiting for %s", what)
		case time.Since(start) > timeout:
			j.fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(every)
	}
}

// waitDone waits for the job to end and returns its condor_history ad.
func (j *job) waitDone(timeout time.Duration) map[string]any {
	j.t.Helper()
	j.waitFor("the job to end", timeout, func() bool { return count(j.events(), evTerminated) > 0 })
	var ad map[string]any
	j.wait("the job in condor_history", time.Minute, 500*time.Millisecond, true, func() bool {
		ad = j.history()
		return ad != nil
	})
	return ad
}

// waitHeld waits for the job to be held and returns its condor_q ad.
func (j *job) waitHeld(timeout time.Duration) map[string]any {
	j.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := j.events()
		if count(evs, evHeld) > count(evs, evReleased) {
			break
		}
		if ad := j.queueAd(); attr(ad, "JobStatus") == "5" {
			return ad
		}
		switch {
		case count(evs, evTerminated) > 0:
			j.fatalf("the job ended instead of being held")
		case time.Now().After(deadline):
			j.fatalf("timed out after %s waiting for the job to be held", timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return j.queueAd()
}

// queryJSON runs a condor_q or condor_history -json query for the cluster
// and returns its first ad, or nil.
func (j *job) queryJSON(tool string, extra ...string) map[string]any {
	out, err := j.p.user(j.dir, append([]string{tool, strconv.Itoa(j.cluster), "-json"}, extra...)...)
	if err != nil || strings.TrimSpace(out) == "" {
		return nil
	}
	var ads []map[string]any
	if err := json.Unmarshal([]byte(out), &ads); err != nil || len(ads) == 0 {
		return nil
	}
	return ads[0]
}

func (j *job) history() map[string]any { return j.queryJSON("condor_history", "-limit", "1") }
func (j *job) queueAd() map[string]any { return j.queryJSON("condor_q") }

// attr reads an attribute of a JSON ad as text ("undefined" if absent).
func attr(ad map[string]any, name string) string {
	v, ok := ad[name]
	if !ok || v == nil {
		return "undefined"
	}
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// vacate evicts the job as condor_vacate_job does for a machine's owner.
func (j *job) vacate() {
	j.t.Helper()
	if out, err := j.p.user(j.dir, "condor_vacate_job", fmt.Sprintf("%d.0", j.cluster)); err != nil {
		j.fatalf("condor_vacate_job: %v%s", err, out)
	}
}

// sandboxFile finds name in the job's current scratch directory, other
// than the excluded ones, and returns the directory.
func (j *job) sandboxFile(name string, exclude []string) string {
	paths, _ := filepath.Glob(filepath.Join(j.p.executeDir(), "dir_*", name))
	for _, p := range paths {
		dir := filepath.Dir(p)
		skip := false
		for _, e := range exclude {
			skip = skip || e == dir
		}
		if !skip {
			return dir
		}
	}
	return ""
}

// evictAfter waits until the job, running in a scratch directory other
// than the excluded ones, has written n lines to its stdout or to its
// stderr, whichever comes first, evicts it, and returns that directory. It
// logs how far each file had got.
//
// Counting both keeps every eviction in the middle of a two-process job
// (the parent of the Python and bash jobs writes stdout, their child
// stderr). DMTCP 4.2.0 does not restore a child that had exited but was
// not yet reaped at the checkpoint, and a restarted parent's wait can then
// block, so a child that ends long before its parent is a DMTCP hazard
// these tests do not set out to measure. (The bash job's parent learns that
// its child finished from child.state, which the description lists in
// output_files so that it survives the eviction.)
func (j *job) evictAfter(n int, exclude []string) string {
	j.t.Helper()
	var dir string
	var out, errs int
	j.waitFor(fmt.Sprintf("%d lines of output in a new scratch directory", n), 3*time.Minute, func() bool {
		if dir = j.sandboxFile(j.stdoutName(), exclude); dir == "" {
			return false
		}
		out, errs = countLines(filepath.Join(dir, j.stdoutName())), countLines(filepath.Join(dir, j.stderrName()))
		return out >= n || errs >= n
	})
	j.vacate()
	j.t.Logf("evicted the run in %s at %d lines of stdout, %d of stderr", dir, out, errs)
	return dir
}

// countLines counts the lines of a file (0 if missing).
func countLines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

// fatalf fails the test with what HTCondor and the shim say about the job.
func (j *job) fatalf(format string, args ...any) {
	j.t.Helper()
	j.t.Fatalf("cluster %d: %s\n%s", j.cluster, fmt.Sprintf(format, args...), j.diagnose())
}

// errorf reports a failure with the diagnosis (once per job).
func (j *job) errorf(format string, args ...any) {
	j.t.Helper()
	j.t.Errorf("cluster %d: %s\n%s", j.cluster, fmt.Sprintf(format, args...), j.diagnose())
}

// diagnose gathers what explains a failure: the queue's view (hold reason,
// condor_q -better-analyze), the end of the event log, the shim's log and
// stderr, the job's stdout and stderr (from the job directory, or the
// scratch directory while the job runs).
func (j *job) diagnose() string {
	if j.diag != "" {
		return "(diagnosis above)"
	}
	var b strings.Builder
	section := func(title, body string) {
		body = strings.TrimRight(body, "\n")
		if body == "" {
			body = "(empty)"
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", title, body)
	}
	if ad := j.queueAd(); ad != nil {
		section("condor_q", fmt.Sprintf("JobStatus=%s NumJobStarts=%s HoldReasonCode=%s HoldReasonSubCode=%s HoldReason=%s",
			attr(ad, "JobStatus"), attr(ad, "NumJobStarts"), attr(ad, "HoldReasonCode"), attr(ad, "HoldReasonSubCode"), attr(ad, "HoldReason")))
		out, _ := j.p.user(j.dir, "condor_q", strconv.Itoa(j.cluster), "-better-analyze")
		section("condor_q -better-analyze", tail(out, 40))
	} else if ad := j.history(); ad != nil {
		section("condor_history", fmt.Sprintf("JobStatus=%s ExitCode=%s ExitBySignal=%s ExitSignal=%s NumJobStarts=%s",
			attr(ad, "JobStatus"), attr(ad, "ExitCode"), attr(ad, "ExitBySignal"), attr(ad, "ExitSignal"), attr(ad, "NumJobStarts")))
	}
	section("event log "+j.eventLogName()+" (end)", tail(j.read(j.eventLogName()), 40))
	for _, f := range []struct {
		name  string
		lines int
	}{{j.shimLogName(), 60}, {j.shimErrName(), 10}, {j.stdoutName(), 5}, {j.stderrName(), 10}} {
		text, from := j.read(f.name), filepath.Join(j.dir, f.name)
		if sb := j.sandboxFile(f.name, nil); sb != "" {
			data, _ := os.ReadFile(filepath.Join(sb, f.name))
			text, from = string(data), filepath.Join(sb, f.name)
		}
		section(from+" (end)", tail(text, f.lines))
	}
	if sb := j.sandboxFile(j.shimLogName(), nil); sb != "" {
		section("processes running in "+sb, sandboxProcesses(sb))
	}
	j.diag = b.String()
	return j.diag
}

// sandboxProcesses lists the processes whose working directory is dir (a
// scratch directory, as the host sees it), each thread with its state,
// kernel wait channel and system call number: what a hung job waits for.
// A process in DMTCP shows its checkpoint thread beside the program's.
func sandboxProcesses(dir string) string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var b strings.Builder
	for _, p := range procs {
		if cwd, err := os.Readlink(p + "/cwd"); err != nil || cwd != dir {
			continue
		}
		fmt.Fprintf(&b, "pid %s %s:", filepath.Base(p), procText(p+"/comm"))
		tasks, _ := filepath.Glob(p + "/task/[0-9]*")
		for _, t := range tasks {
			state := procText(t + "/stat")
			if i := strings.LastIndexByte(state, ')'); i >= 0 && i+2 < len(state) {
				state = state[i+2 : i+3]
			}
			sys, _, _ := strings.Cut(procText(t+"/syscall"), " ")
			fmt.Fprintf(&b, " [tid %s %s wchan=%s syscall=%s]", filepath.Base(t), state, procText(t+"/wchan"), sys)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// procText reads a small /proc file ("?" if it cannot).
func procText(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(data))
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// assertOutput compares the job's stdout and stderr files with an
// uninterrupted run.
func (j *job) assertOutput(stdoutName, stderrName, wantOut, wantErr string) {
	j.t.Helper()
	for _, f := range []struct{ name, want string }{{stdoutName, wantOut}, {stderrName, wantErr}} {
		if got := j.read(f.name); got != f.want {
			j.errorf("%s differs from an uninterrupted run: %s", f.name, firstDiff(f.want, got))
		}
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: want %q, got %q (want %d lines, got %d)", i+1, wl, gl, len(w), len(g))
		}
	}
	return "(same lines)"
}

// splitArgs splits a job ad's Arguments, in HTCondor's "V2 raw" syntax,
// into argv: whitespace separates arguments, a pair of single quotes
// groups (two single quotes in a row inside stand for one), and everything
// else is literal.
func splitArgs(s string) ([]string, error) {
	var (
		argv   []string
		cur    strings.Builder
		inArg  bool
		quoted bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				cur.WriteByte('\'')
				i++
			} else {
				quoted = false
			}
		case quoted:
			cur.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inArg {
				argv = append(argv, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '\'':
			quoted, inArg = true, true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inArg {
		argv = append(argv, cur.String())
	}
	return argv, nil
}

// matchTime does to an ad's value what the shadow does when the job starts:
// $$(DOLLARDOLLAR) becomes $$. Other $$(...) are left for the test to see.
func matchTime(s string) string { return strings.ReplaceAll(s, "$$(DOLLARDOLLAR)", "$$") }

// programArgv is what follows "--" in the shim's argv: the program and its
// arguments.
func programArgv(shimArgv []string) ([]string, bool) {
	for i, a := range shimArgv {
		if a == "--" {
			return shimArgv[i+1:], true
		}
	}
	return nil, false
}

// dryRun runs condor_submit -dry-run on job.sub in dir and returns the
// Arguments of each job, by process number.
func dryRun(t *testing.T, dir string) []string {
	t.Helper()
	p := suite.pool
	out, err := p.user(dir, "condor_submit", "-dry-run", "ads.txt", "job.sub")
	if err != nil {
		sub, _ := os.ReadFile(filepath.Join(dir, "job.sub"))
		t.Fatalf("condor_submit -dry-run: %v\njob.sub:\n%s", err, sub)
	}
	if !strings.Contains(out, "dry-run to cluster") {
		t.Fatalf("condor_submit -dry-run printed %q", out)
	}
	// condor_q -af prints a string's value itself, unquoted and unescaped.
	out, err = p.user(dir, "condor_q", "-jobads", "ads.txt", "-af:t", "ProcId", "Arguments")
	if err != nil {
		t.Fatal(err)
	}
	type proc struct {
		id   int
		args string
	}
	var procs []proc
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		id, args, _ := strings.Cut(l, "\t")
		n, err := strconv.Atoi(id)
		if err != nil {
			t.Fatalf("condor_q -jobads -af:t ProcId Arguments printed %q", l)
		}
		procs = append(procs, proc{n, args})
	}
	sort.Slice(procs, func(a, b int) bool { return procs[a].id < procs[b].id })
	args := make([]string, len(procs))
	for i, p := range procs {
		args[i] = p.args
	}
	return args
}
