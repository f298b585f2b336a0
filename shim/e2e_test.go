package shim_test

// End-to-end tests: the shim_dmtcp binary, run as a scheduler would run it,
// against the DMTCP test double and, when one is installed, a real DMTCP.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
	"github.com/dmtcp-condor/dmtcp-condor/internal/proctree"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

var (
	shimBin    string // the built shim_dmtcp
	counterBin string // testdata/jobs/counter.c, compiled
	condorBin  string // testdata/jobs/condor-ckpt.c, compiled
	jobsDir    string // testdata/jobs
	double     dmtcptest.Install
	real       dmtcptest.Install
	realWhy    string // why there is no real DMTCP
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "shim-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shimBin = filepath.Join(dir, "shim_dmtcp")
	build := exec.Command("go", "build", "-o", shimBin, "github.com/dmtcp-condor/dmtcp-condor/cmd/shim_dmtcp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build shim_dmtcp: %v\n%s", err, out)
		return 1
	}
	if double, err = dmtcptest.BuildDouble(filepath.Join(dir, "double")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	jobsDir, _ = filepath.Abs(filepath.Join("..", "testdata", "jobs"))
	counterBin = filepath.Join(dir, "counter")
	if out, err := exec.Command("gcc", "-O", "-o", counterBin, filepath.Join(jobsDir, "counter.c")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "compile counter.c: %v\n%s", err, out)
		return 1
	}
	condorBin = filepath.Join(dir, "condor-ckpt")
	if out, err := exec.Command("gcc", "-O", "-o", condorBin, filepath.Join(jobsDir, "condor-ckpt.c")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "compile condor-ckpt.c: %v\n%s", err, out)
		return 1
	}
	real, realWhy = dmtcptest.Real()
	if !real.Real {
		fmt.Printf("real DMTCP: %s; the tests against it are skipped\n", realWhy)
	} else {
		fmt.Printf("real DMTCP: %s\n", real.Prefix)
	}
	return m.Run()
}

// forEachInstall runs f against the double and against a real DMTCP, or
// reports the real one as skipped.
func forEachInstall(t *testing.T, f func(t *testing.T, inst dmtcptest.Install)) {
	t.Run("double", func(t *testing.T) { f(t, double) })
	t.Run("real", func(t *testing.T) {
		if !real.Real {
			t.Skip("skipped: " + realWhy)
		}
		f(t, real)
	})
}

// job is a test program, copied into each job directory.
type job struct {
	name  string
	files []string // from testdata/jobs; "counter" is the compiled counter.c
	argv  []string
}

var jobs = []job{
	{"c", []string{"counter"}, []string{"./counter", "150", "20", "0"}},
	{"python", []string{"counter.py", "dmtcp_double.py"}, []string{"./counter.py", "120", "90", "20"}},
	{"bash", []string{"parent-child.sh", "dmtcp_double.sh"}, []string{"./parent-child.sh", "120", "90", "0.02"}},
}

// setup makes a fresh job directory holding j's files.
func (j job) setup(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range j.files {
		src := filepath.Join(jobsDir, f)
		switch f {
		case "counter":
			src = counterBin
		case "condor-ckpt":
			src = condorBin
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	expectMu sync.Mutex
	expected = map[string][2]string{}
)

// expect is what j writes to stdout and stderr when run without DMTCP.
func (j job) expect(t *testing.T) (stdout, stderr string) {
	t.Helper()
	expectMu.Lock()
	defer expectMu.Unlock()
	if e, ok := expected[j.name]; ok {
		return e[0], e[1]
	}
	dir := t.TempDir()
	j.setup(t, dir)
	cmd := exec.Command(j.argv[0], j.argv[1:]...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %s without DMTCP: %v\n%s", j.name, err, errb.String())
	}
	expected[j.name] = [2]string{out.String(), errb.String()}
	return out.String(), errb.String()
}

// shimRun is one start of shim_dmtcp.
type shimRun struct {
	cmd    *exec.Cmd
	dir    string
	stderr bytes.Buffer
	done   chan struct{}
	// logFrom is shim.log's size when this run started: what it logs
	// comes after.
	logFrom int64
}

// startShim starts the shim in dir with the usual HTCondor-style options.
func startShim(t *testing.T, inst dmtcptest.Install, dir string, opts []string, argv []string, env ...string) *shimRun {
	t.Helper()
	return startShimWith(t, inst, dir, opts, argv, nil, env...)
}

// startShimWith is startShim with descriptors the parent leaves open in
// the shim (fd 3 onwards), as a careless shell does.
func startShimWith(t *testing.T, inst dmtcptest.Install, dir string, opts []string, argv []string, extra []*os.File, env ...string) *shimRun {
	t.Helper()
	args := append([]string{"--dmtcp-prefix", inst.Prefix, "--log", "shim.log", "--stdout", "job.out", "--stderr", "job.err"}, opts...)
	args = append(append(args, "--"), argv...)
	r := &shimRun{cmd: exec.Command(shimBin, args...), dir: dir, done: make(chan struct{}),
		logFrom: sizeOf(filepath.Join(dir, "shim.log"))}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), append([]string{"DMTCP_TMPDIR=" + tmpDir(t)}, env...)...)
	r.cmd.Stderr = &r.stderr
	r.cmd.ExtraFiles = extra
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			killTree(r.cmd.Process.Pid)
			<-r.done
		}
	})
	return r
}

var tmpDirs sync.Map

// tmpDir is one DMTCP_TMPDIR per test, outside the job directories. It is
// keyed by the test itself, not its name: with -count=N each run of a test
// has the same name, and an earlier run's directory is gone.
func tmpDir(t *testing.T) string {
	if d, ok := tmpDirs.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	tmpDirs.Store(t, d)
	return d
}

// wait returns the shim's exit code, or -signal if it died of a signal.
func (r *shimRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		killTree(r.cmd.Process.Pid)
		<-r.done
		t.Fatalf("shim did not finish within %s; log:\n%s", timeout, r.log())
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -int(ws.Signal())
	}
	return ws.ExitStatus()
}

// waitLog waits until this run of the shim has logged what; it fails if
// the shim ends first, or after a minute.
func (r *shimRun) waitLog(t *testing.T, what string) {
	t.Helper()
	waitFor(t, what, time.Minute, func() bool {
		select {
		case <-r.done:
			t.Fatalf("the shim ended before logging %q; log:\n%s", what, r.log())
		default:
		}
		data, _ := os.ReadFile(filepath.Join(r.dir, "shim.log"))
		return int64(len(data)) > r.logFrom && strings.Contains(string(data[r.logFrom:]), what)
	})
}

func (r *shimRun) log() string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "shim.log"))
	return string(data) + "\n--- shim stderr:\n" + r.stderr.String()
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

func fileContains(path, s string) bool {
	data, _ := os.ReadFile(path)
	return strings.Contains(string(data), s)
}

// killTree SIGKILLs pid and every process below it.
func killTree(pid int) {
	for _, p := range proctree.Descendants(pid) {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

func assertSameOutput(t *testing.T, dir, wantOut, wantErr string) {
	t.Helper()
	gotOut, _ := os.ReadFile(filepath.Join(dir, "job.out"))
	gotErr, _ := os.ReadFile(filepath.Join(dir, "job.err"))
	if string(gotOut) != wantOut {
		t.Errorf("job.out differs from an uninterrupted run:\n%s", diffLines(wantOut, string(gotOut)))
	}
	if string(gotErr) != wantErr {
		// What the job wrote beyond the expected lines (a traceback, a
		// shell's report of a signal) says what went wrong.
		t.Errorf("job.err differs from an uninterrupted run:\n%s\nits last lines:\n%s",
			diffLines(wantErr, string(gotErr)), lastLines(string(gotErr), 15))
	}
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// diffLines shows the first differing line.
func diffLines(want, got string) string {
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

// TestVacateAndResumeElsewhere is the heart of the shim: a job is asked to
// leave twice, each time resumed in a new directory (a new HTCondor scratch
// directory; the old one is gone), and still writes exactly what an
// uninterrupted run writes.
func TestVacateAndResumeElsewhere(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		for _, j := range jobs {
			t.Run(j.name, func(t *testing.T) {
				wantOut, wantErr := j.expect(t)
				base := t.TempDir()
				dir := filepath.Join(base, "scratch1")
				j.setup(t, dir)
				for i, atLines := range []int{30, 70} {
					r := startShim(t, inst, dir, nil, j.argv)
					waitFor(t, fmt.Sprintf("%d lines of output", atLines), time.Minute, func() bool {
						return lines(filepath.Join(dir, "job.out")) >= atLines
					})
					if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
					if code := r.wait(t, time.Minute); code != 85 {
						t.Fatalf("vacate %d: exit %d, want 85; log:\n%s", i+1, code, r.log())
					}
					assertPrivate(t, filepath.Join(dir, "dmtcp_checkpoints"))
					next := filepath.Join(base, fmt.Sprintf("scratch%d", i+2))
					if err := os.Rename(dir, next); err != nil {
						t.Fatal(err)
					}
					dir = next
				}
				r := startShim(t, inst, dir, nil, j.argv)
				if code := r.wait(t, 2*time.Minute); code != 0 {
					t.Fatalf("final run: exit %d, want 0; log:\n%s", code, r.log())
				}
				if !fileContains(filepath.Join(dir, "shim.log"), "resuming from checkpoint generation") {
					t.Errorf("the final run did not resume from a checkpoint; log:\n%s", r.log())
				}
				assertSameOutput(t, dir, wantOut, wantErr)
				// The directory stays (transfer_output_files names it), empty.
				if left, err := os.ReadDir(filepath.Join(dir, "dmtcp_checkpoints")); err != nil || len(left) != 0 {
					t.Errorf("after the job finished the checkpoint directory holds %v (%v), want it empty", left, err)
				}
			})
		}
	})
}

// TestRefusedCheckpointIsAskedAgain: DMTCP refuses a checkpoint while a
// process of the job is still joining ("not in running state", exit 2),
// which a job that forks often meets at any moment. A vacate must still
// end with a checkpoint, not with the job stopped without one. The double
// refuses the first requests as DMTCP would; a real DMTCP cannot be made
// to refuse on cue.
func TestRefusedCheckpointIsAskedAgain(t *testing.T) {
	j := jobs[0]
	wantOut, wantErr := j.expect(t)
	dir := t.TempDir()
	j.setup(t, dir)
	// Twenty refusals, each followed by a moment of RUNNING=no: asked
	// again only after seconds of RUNNING=yes, they would outlast the
	// wait below.
	r := startShim(t, double, dir, nil, j.argv, "DMTCP_DOUBLE_REFUSE_CHECKPOINTS=20")
	waitFor(t, "30 lines of output", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) >= 30 })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("vacate: exit %d, want 85 (checkpointed); log:\n%s", code, r.log())
	}
	if !strings.Contains(r.log(), "took the checkpoint request after 20 refusal(s)") {
		t.Errorf("the log does not say the coordinator took the request after 20 refusals; log:\n%s", r.log())
	}
	r = startShim(t, double, dir, nil, j.argv)
	if code := r.wait(t, time.Minute); code != 0 {
		t.Fatalf("resumed run: exit %d, want 0; log:\n%s", code, r.log())
	}
	if !strings.Contains(r.log(), "resuming from checkpoint generation") {
		t.Errorf("the second run did not resume from the checkpoint; log:\n%s", r.log())
	}
	assertSameOutput(t, dir, wantOut, wantErr)
}

// TestJobEndsAsCheckpointBegins: a job that ends by itself just as a
// checkpoint begins takes its coordinator with it (--exit-on-last). Its
// own exit code is the result, not a failed checkpoint. The double's
// suspend delay opens the window; a real DMTCP cannot be timed into it.
// Which the shim hears of first, the job's end or its coordinator's, is a
// race (the pool met the coordinator first, about one self-checkpointing
// job in 40 under a real DMTCP); either order must give the job's code.
func TestJobEndsAsCheckpointBegins(t *testing.T) {
	dir := t.TempDir()
	r := startShim(t, double, dir, []string{"--ckptint", "1s", "--exit-after-checkpoint"},
		[]string{"/bin/sh", "-c", "sleep 1.3; exit 3"}, "DMTCP_DOUBLE_SUSPEND_DELAY=1s")
	if code := r.wait(t, time.Minute); code != 3 {
		t.Fatalf("exit %d, want the job's own 3; log:\n%s", code, r.log())
	}
	if !strings.Contains(r.log(), "periodic checkpoint") {
		t.Errorf("no checkpoint began before the job ended, so this tested nothing; log:\n%s", r.log())
	}
}

// TestCondorSyscallUnwrittenCheckpoint: under engine condor-syscall a
// program ends itself to checkpoint, so one that ends on SIGTSTP without
// writing its file has failed to checkpoint (exit 247, the previous
// checkpoint kept); it has not finished, whatever its exit code.
func TestCondorSyscallUnwrittenCheckpoint(t *testing.T) {
	dir := t.TempDir()
	r := startShim(t, double, dir, []string{"--engine", "condor-syscall"},
		[]string{"/bin/sh", "-c", `trap "exit 0" TSTP; echo started; while :; do sleep 0.05; done`})
	waitFor(t, "the program to start", time.Minute, func() bool { return fileContains(filepath.Join(dir, "job.out"), "started") })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, time.Minute); code != 247 {
		t.Fatalf("exit %d, want 247 (checkpoint failed); log:\n%s", code, r.log())
	}
	if !strings.Contains(r.log(), "without writing") {
		t.Errorf("the log does not say the program ended without writing its checkpoint:\n%s", r.log())
	}
}

// TestCondorSyscallStdinResumes: a program that ends to checkpoint leaves
// no process whose stdin offset could be read; the shim's own descriptor
// of --stdin shares it, so the resumed program reads on from the right
// line, in another directory.
func TestCondorSyscallStdinResumes(t *testing.T) {
	j := job{"condor-stdin", []string{"condor-stdin.sh"}, []string{"./condor-stdin.sh"}}
	base := t.TempDir()
	dir := filepath.Join(base, "a")
	j.setup(t, dir)
	var in, want strings.Builder
	const n = 60
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "line %d\n", i)
		fmt.Fprintf(&want, "%d: line %d\n", i, i)
	}
	fmt.Fprintf(&want, "done %d\n", n)
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []string{"--engine", "condor-syscall", "--stdin", "in.txt"}
	r := startShim(t, double, dir, opts, j.argv)
	waitFor(t, "15 lines", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) >= 15 })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("vacate: exit %d, want 85; log:\n%s", code, r.log())
	}
	next := filepath.Join(base, "b")
	if err := os.Rename(dir, next); err != nil {
		t.Fatal(err)
	}
	r = startShim(t, double, next, opts, j.argv)
	if code := r.wait(t, time.Minute); code != 0 {
		t.Fatalf("resumed run: exit %d, want 0; log:\n%s", code, r.log())
	}
	got, _ := os.ReadFile(filepath.Join(next, "job.out"))
	if string(got) != want.String() {
		t.Errorf("output differs from reading stdin once, in order:\n%s", diffLines(want.String(), string(got)))
	}
}

// TestCondorSyscallOpenFiles: the files a condor-syscall program has open
// outside its directory are listed before it ends itself to checkpoint, so
// a restart where one is missing says which, instead of leaving the
// program to fail on it.
func TestCondorSyscallOpenFiles(t *testing.T) {
	dir, ext := t.TempDir(), filepath.Join(t.TempDir(), "reference.dat")
	if err := os.WriteFile(ext, []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// bash -c SCRIPT gets the shim's -_condor_* arguments as $0 and $1.
	script := `f=$1; trap 'echo 0 > "$f.tmp" && mv "$f.tmp" "$f"; exit 0' TSTP; exec 3<"$EXT"; echo started; while :; do sleep 0.05; done`
	argv := []string{"/bin/bash", "-c", script}
	opts := []string{"--engine", "condor-syscall"}
	r := startShim(t, double, dir, opts, argv, "EXT="+ext)
	waitFor(t, "the program to start", time.Minute, func() bool { return fileContains(filepath.Join(dir, "job.out"), "started") })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("vacate: exit %d, want 85; log:\n%s", code, r.log())
	}
	os.Remove(ext)
	r = startShim(t, double, dir, opts, argv, "EXT="+ext)
	if code := r.wait(t, time.Minute); code != exitcode.MissingFiles {
		t.Fatalf("restart without %s: exit %d, want %d; log:\n%s", ext, code, exitcode.MissingFiles, r.log())
	}
	if !strings.Contains(r.log(), ext) {
		t.Errorf("the log does not name the missing %s:\n%s", ext, r.log())
	}
}

// assertPrivate checks that checkpoint directories are 0700 and images 0600.
func assertPrivate(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		mode := info.Mode()
		switch {
		case info.IsDir() && mode.Perm() != 0o700:
			t.Errorf("%s has mode %v, want 0700", path, mode.Perm())
		case mode.IsRegular() && strings.HasSuffix(path, ".dmtcp") && mode.Perm() != 0o600:
			t.Errorf("%s has mode %v, want 0600", path, mode.Perm())
		}
		return nil
	})
}

// TestKillAtRandomMoments SIGKILLs the shim and the job at arbitrary
// moments, many during checkpoints; every next start must resume from a
// complete generation (or start afresh when none was complete yet), and the
// job still ends with the output of an uninterrupted run.
func TestKillAtRandomMoments(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		dir := t.TempDir()
		j.setup(t, dir)
		// Long enough (15 s) not to finish during the kills.
		argv := []string{"./counter", "1500", "10", "0"}
		wantOut, wantErr := expectArgv(t, j, argv)
		// A checkpoint every second (the shortest interval allowed),
		// killed at moments that fall before, during and after them.
		delays := []time.Duration{1300, 2100, 1700, 2500, 1150, 2900, 1900}
		resumed := 0
		for i, d := range delays {
			r := startShim(t, inst, dir, []string{"--ckptint", "1"}, argv)
			time.Sleep(d * time.Millisecond)
			killTree(r.cmd.Process.Pid)
			r.wait(t, time.Minute)
			// Whatever the moment, what is on disk is usable.
			st, err := ckptstore.Open(filepath.Join(dir, "dmtcp_checkpoints"))
			if err != nil {
				t.Fatalf("kill %d: open store: %v", i, err)
			}
			gen, skipped, err := st.Latest()
			st.Close()
			if err != nil {
				t.Fatalf("kill %d: %v", i, err)
			}
			if gen == nil && fileContains(filepath.Join(dir, "shim.log"), "complete:") {
				t.Fatalf("kill %d: a checkpoint had completed, but no complete generation is left (skipped: %v)", i, skipped)
			}
			if fileContains(filepath.Join(dir, "shim.log"), "resuming from checkpoint generation") {
				resumed++
			}
		}
		r := startShim(t, inst, dir, nil, argv)
		if code := r.wait(t, 2*time.Minute); code != 0 {
			t.Fatalf("final run: exit %d; log:\n%s", code, r.log())
		}
		if resumed == 0 {
			t.Errorf("no start resumed from a checkpoint; log:\n%s", r.log())
		}
		assertSameOutput(t, dir, wantOut, wantErr)
	})
}

// expectArgv runs argv from j's files without DMTCP.
func expectArgv(t *testing.T, j job, argv []string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	j.setup(t, dir)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	return out.String(), errb.String()
}

// TestSelfCheckpointing is HTCondor's checkpoint_exit_code protocol: the
// shim checkpoints every interval, exits 85, is started again with the
// same command line, resumes, and finally exits with the job's own code.
func TestSelfCheckpointing(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		argv := []string{"./counter", "200", "20", "3"}
		wantOut, wantErr := expectArgv(t, j, argv)
		dir := t.TempDir()
		j.setup(t, dir)
		cycles := 0
		for {
			r := startShim(t, inst, dir, []string{"--ckptint", "1s", "--exit-after-checkpoint"}, argv)
			code := r.wait(t, time.Minute)
			if code == 85 {
				cycles++
				if cycles > 20 {
					t.Fatalf("still exiting 85 after %d cycles", cycles)
				}
				continue
			}
			if code != 3 {
				t.Fatalf("exit %d after %d cycles, want the job's 3; log:\n%s", code, cycles, r.log())
			}
			break
		}
		if cycles < 2 {
			t.Errorf("only %d checkpoint cycles", cycles)
		}
		assertSameOutput(t, dir, wantOut, wantErr)
	})
}

// TestExitStatus: the job's own end passes through the shim unchanged.
func TestExitStatus(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		for _, tc := range []struct {
			name   string
			argv   []string
			want   int    // negative: death by that signal
			status string // what --status-file says
		}{
			{"code 0", []string{"./counter", "5", "1", "0"}, 0, "exit 0"},
			{"code 42", []string{"./counter", "5", "1", "42"}, 42, "exit 42"},
			{"killed by SIGKILL", []string{"/bin/sh", "-c", "kill -KILL $$"}, -int(syscall.SIGKILL), "signal SIGKILL"},
			{"killed by SIGABRT", []string{"/bin/sh", "-c", "kill -ABRT $$"}, -int(syscall.SIGABRT), "signal SIGABRT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				jobs[0].setup(t, dir)
				r := startShim(t, inst, dir, []string{"--ckptint", "1h", "--status-file", "run.status"}, tc.argv)
				if got := r.wait(t, time.Minute); got != tc.want {
					t.Fatalf("shim ended with %d, want %d; log:\n%s", got, tc.want, r.log())
				}
				if got, _ := os.ReadFile(filepath.Join(dir, "run.status")); strings.TrimSpace(string(got)) != tc.status {
					t.Errorf("--status-file says %q, want %q", got, tc.status)
				}
				if r.stderr.Len() != 0 {
					t.Errorf("the shim wrote to its stderr for a job's own end: %q", r.stderr.String())
				}
			})
		}
	})
}

// TestInfrastructureFailures: each failure of the shim's own gets its
// documented exit code, one clear line on the real stderr and details in
// the log, and loses no checkpoint.
func TestInfrastructureFailures(t *testing.T) {
	type tc struct {
		name    string
		prepare func(t *testing.T, inst dmtcptest.Install, dir string) // may leave a checkpoint behind
		opts    []string
		env     []string
		argv    []string
		code    int
		stderr  string // must appear in the shim's stderr
		double  bool   // only the test double can fake this failure
		status  string // with --status-file, what it must say
	}
	cases := []tc{
		{name: "no DMTCP", opts: []string{"--dmtcp-prefix", "/nonexistent/dmtcp"}, code: 241, stderr: "DMTCP not found"},
		// The libraries name no flag; the shim adds its own.
		{name: "no DMTCP names the flag", opts: []string{"--dmtcp-prefix", "/nonexistent/dmtcp"}, code: 241, stderr: "or give --dmtcp-prefix DIR"},
		{name: "ckpt dir in use", prepare: func(t *testing.T, inst dmtcptest.Install, dir string) {
			st, err := ckptstore.Open(filepath.Join(dir, "dmtcp_checkpoints"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
		}, code: 248, stderr: "locked by another shim_dmtcp (pid " + strconv.Itoa(os.Getpid()) + "); give each job its own --ckpt-dir"},
		{name: "coordinator fails", env: []string{"DMTCP_DOUBLE_COORD_FAIL=1"}, code: 242, stderr: "coordinator", double: true},
		{name: "program missing", argv: []string{"./no-such-program"}, code: 243, stderr: "not found", status: "failed 243"},
		{name: "bad interval", opts: []string{"--ckptint", "-5"}, code: 240, stderr: "negative"},
		{name: "ckpt dir is a file", prepare: func(t *testing.T, inst dmtcptest.Install, dir string) {
			os.WriteFile(filepath.Join(dir, "dmtcp_checkpoints"), []byte("x"), 0o644)
		}, code: 248, stderr: "checkpoint directory"},
		{name: "incompatible DMTCP version", prepare: func(t *testing.T, inst dmtcptest.Install, dir string) {
			checkpointOnce(t, inst, dir)
			editManifest(t, dir, func(m map[string]any) { m["platform"].(map[string]any)["dmtcp_version"] = "3.1.0" })
		}, code: 245, stderr: "DMTCP 3.1.0"},
		{name: "open file missing", prepare: func(t *testing.T, inst dmtcptest.Install, dir string) {
			checkpointOnce(t, inst, dir)
			editManifest(t, dir, func(m map[string]any) { m["open_files"] = []string{"/nonexistent/input.dat"} })
		}, code: 246, stderr: "/nonexistent/input.dat"},
		{name: "checkpoint hangs", prepare: checkpointOnce,
			opts: []string{"--ckptint", "1", "--exit-after-checkpoint", "--ckpt-timeout", "2s"}, env: []string{"DMTCP_DOUBLE_WRITE_TIME=1h"},
			argv: []string{"./counter", "3000", "10", "0"}, code: 247, stderr: "--ckpt-timeout 2s", double: true, status: "failed 247"},
		{name: "restart hangs", prepare: checkpointOnce, opts: []string{"--restart-timeout", "2s"}, env: []string{"DMTCP_DOUBLE_RESTART_HANG=1"},
			code: 251, stderr: "--restart-timeout 2s", double: true, status: "failed 251"},
		{name: "interval below a second", opts: []string{"--ckptint", "0.5s"}, code: 240, stderr: "shorter than 1s"},
		{name: "interval of a millisecond", opts: []string{"--ckptint", "1ms"}, code: 240, stderr: "shorter than 1s"},
	}
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.double && inst.Real {
					t.Skip("only the test double can be made to fail this way")
				}
				dir := t.TempDir()
				jobs[0].setup(t, dir)
				var before []string
				if c.prepare != nil {
					c.prepare(t, inst, dir)
					before = listTree(t, filepath.Join(dir, "dmtcp_checkpoints"))
				}
				argv := c.argv
				if argv == nil {
					argv = []string{"./counter", "50", "10", "0"}
				}
				opts := c.opts
				if c.status != "" {
					opts = append(opts[:len(opts):len(opts)], "--status-file", "run.status")
				}
				r := startShim(t, inst, dir, opts, argv, c.env...)
				code := r.wait(t, time.Minute)
				if code != c.code {
					t.Fatalf("exit %d, want %d; log:\n%s", code, c.code, r.log())
				}
				if c.status != "" {
					if got, _ := os.ReadFile(filepath.Join(dir, "run.status")); strings.TrimSpace(string(got)) != c.status {
						t.Errorf("--status-file says %q, want %q", got, c.status)
					}
				}
				first, _, _ := strings.Cut(r.stderr.String(), "\n")
				if !strings.HasPrefix(first, "shim_dmtcp: error: ") || !strings.Contains(r.stderr.String(), c.stderr) {
					t.Errorf("stderr %q: want one 'shim_dmtcp: error:' line mentioning %q", r.stderr.String(), c.stderr)
				}
				if before != nil {
					if after := listTree(t, filepath.Join(dir, "dmtcp_checkpoints")); strings.Join(after, "\n") != strings.Join(before, "\n") {
						t.Errorf("the failure changed the checkpoints:\nbefore %v\nafter  %v", before, after)
					}
				}
			})
		}
	})
}

// checkpointOnce leaves one complete checkpoint of the counter in dir.
func checkpointOnce(t *testing.T, inst dmtcptest.Install, dir string) {
	t.Helper()
	before := lines(filepath.Join(dir, "job.out"))
	r := startShim(t, inst, dir, nil, []string{"./counter", "300", "10", "0"})
	// New output: the shim is up and the job (re)started.
	waitFor(t, "output", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) > before+5 })
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("checkpoint: exit %d; log:\n%s", code, r.log())
	}
}

func editManifest(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "manifest.json"))
	if len(paths) != 1 {
		t.Fatalf("want one manifest, found %v", paths)
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// listTree lists the generations' files with sizes, to show nothing was
// lost.
func listTree(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dir, path)
		if err == nil && info.Mode().IsRegular() && strings.HasPrefix(rel, "gen-") {
			out = append(out, fmt.Sprintf("%s %d", rel, info.Size()))
		}
		return nil
	})
	return out
}

// TestUsage: bad command lines say what was wrong and how to call it.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "need at least one argument, the program to run"},
		{[]string{"--stdin", "--stdout", "job.out", "./a.out"}, "--stdin needs a file name"},
		{[]string{"--signal", "SIGKILL", "./a.out"}, "cannot be trapped"},
		{[]string{"--signal", "USR2", "./a.out"}, "DMTCP's own checkpoint signal"},
		{[]string{"--ckptint", "soon", "./a.out"}, "is not a duration"},
		{[]string{"--checkpoint-exit-code", "243", "./a.out"}, "shim's own code"},
		{[]string{"--frobnicate", "./a.out"}, "unknown option --frobnicate"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(shimBin, tc.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 240 {
				t.Fatalf("exit %v, want 240", err)
			}
			if !strings.Contains(stderr.String(), tc.want) || !strings.Contains(stderr.String(), "shim_dmtcp --help") {
				t.Errorf("stderr %q: want %q and a pointer to --help", stderr.String(), tc.want)
			}
		})
	}
	out, err := exec.Command(shimBin, "--help").Output()
	if err != nil || !strings.Contains(string(out), "--ckptint") || !strings.Contains(string(out), "244") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}

// TestStdinResumesWhereItWas: a job reading --stdin goes on from the line it
// had reached at the checkpoint, in a new directory.
func TestStdinResumesWhereItWas(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := job{"stdin", []string{"echo-stdin.sh", "dmtcp_double.sh"}, []string{"./echo-stdin.sh"}}
		var in strings.Builder
		for i := 0; i < 80; i++ {
			fmt.Fprintf(&in, "input line %d with some text\n", i)
		}
		base := t.TempDir()
		dir := filepath.Join(base, "a")
		j.setup(t, dir)
		if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte(in.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := exec.Command("bash", "-c", "cd "+dir+" && ./echo-stdin.sh < in.txt").Output()
		if err != nil {
			t.Fatal(err)
		}
		opts := []string{"--stdin", "in.txt"}
		r := startShim(t, inst, dir, opts, j.argv)
		waitFor(t, "20 lines", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) >= 20 })
		r.cmd.Process.Signal(syscall.SIGINT)
		if code := r.wait(t, time.Minute); code != 85 {
			t.Fatalf("vacate: exit %d; log:\n%s", code, r.log())
		}
		next := filepath.Join(base, "b")
		if err := os.Rename(dir, next); err != nil {
			t.Fatal(err)
		}
		r = startShim(t, inst, next, opts, j.argv)
		if code := r.wait(t, time.Minute); code != 0 {
			t.Fatalf("resume: exit %d; log:\n%s", code, r.log())
		}
		assertSameOutput(t, next, string(want), "")
	})
}

// TestCondorSyscallEngine: a program speaking HTCondor's old checkpoint
// library protocol runs with address randomisation off, is asked to leave
// (SIGTSTP to it, exit 85 from the shim), resumes in a new directory with
// -_condor_restart, takes a checkpoint on demand (SIGUSR2), and finishes
// with the output of an uninterrupted run.
func TestCondorSyscallEngine(t *testing.T) {
	j := job{"condor-ckpt", []string{"condor-ckpt"}, []string{"./condor-ckpt", "150", "20", "7"}}
	base := t.TempDir()
	dir := filepath.Join(base, "a")
	j.setup(t, dir)
	want, err := exec.Command(condorBin, "150", "1", "7", "-_condor_ckpt", filepath.Join(base, "unused")).Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("uninterrupted run: %v", err)
	}
	opts := []string{"--engine", "condor-syscall"}
	r := startShim(t, double, dir, opts, j.argv)
	waitFor(t, "30 lines", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) >= 30 })
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("vacate: exit %d, want 85; log:\n%s", code, r.log())
	}
	// A checkpoint-and-exit ends the program, so the output sizes the
	// shim records are exact: no warning that lines may repeat.
	if strings.Contains(r.log(), "too quick") || !strings.Contains(r.log(), "checkpoint-library protocol") {
		t.Errorf("want the log to name the engine and no \"too quick\" warning after a checkpoint-and-exit; log:\n%s", r.log())
	}
	errOut, _ := os.ReadFile(filepath.Join(dir, "job.err"))
	if !strings.HasPrefix(string(errOut), "personality 0x0040000") {
		t.Errorf("the program ran with %q, want ADDR_NO_RANDOMIZE (0x0040000)", errOut)
	}
	gens, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "condor-ckpt.ckpt"))
	if len(gens) != 1 {
		t.Fatalf("want one committed checkpoint file, have %v", gens)
	}
	// A leftover FILE.tmp is never restarted from.
	os.WriteFile(gens[0]+".tmp", []byte("999999\n"), 0o600)

	next := filepath.Join(base, "b")
	if err := os.Rename(dir, next); err != nil {
		t.Fatal(err)
	}
	r = startShim(t, double, next, opts, j.argv)
	waitFor(t, "a restart", time.Minute, func() bool {
		data, _ := os.ReadFile(filepath.Join(next, "job.err"))
		return strings.Contains(string(data), "(restarted, relocatable)")
	})
	r.cmd.Process.Signal(syscall.SIGUSR2)
	waitFor(t, "an on-demand checkpoint", time.Minute, func() bool {
		return fileContains(filepath.Join(next, "shim.log"), "checkpoint generation 2 complete")
	})
	if code := r.wait(t, time.Minute); code != 7 {
		t.Fatalf("final run: exit %d, want the program's 7; log:\n%s", code, r.log())
	}
	got, _ := os.ReadFile(filepath.Join(next, "job.out"))
	if string(got) != string(want) {
		t.Errorf("output differs from an uninterrupted run:\n%s", diffLines(string(want), string(got)))
	}
}
