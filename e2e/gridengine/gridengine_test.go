package gridengine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

// forEachInstall runs f against the test double and, when one is
// installed, a real DMTCP.
func forEachInstall(t *testing.T, f func(t *testing.T, inst dmtcptest.Install)) {
	skipUnlessCell(t)
	t.Run("double", func(t *testing.T) { f(t, suite.double) })
	t.Run("real", func(t *testing.T) {
		if !suite.real.Real {
			t.Skip("skipped: " + suite.realWhy)
		}
		f(t, suite.real)
	})
}

// jobDir is a fresh directory for one job, owned by the cell's user.
func jobDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(suite.work, "job-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 2000, 2000); err != nil {
		t.Fatal(err)
	}
	return dir
}

// counterJob writes a job script that runs the counter: n lines, delay ms
// apart, then exit code.
func counterJob(t *testing.T, dir string, n, delay, code int) string {
	t.Helper()
	script := filepath.Join(dir, "job.sh")
	body := fmt.Sprintf("#!/bin/sh\necho \"job starts, RESTARTED=$RESTARTED\" >&2\nexec %s %d %d %d\n", suite.counter, n, delay, code)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// counterOutput is what the counter prints when nothing interrupts it.
func counterOutput(n int) (stdout, progress string) {
	var o, e strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&o, "line %d\n", i)
		if i%10 == 0 {
			fmt.Fprintf(&e, "progress %d\n", i)
		}
	}
	o.WriteString("done\n")
	return o.String(), e.String()
}

// submit submits a job as the user and returns its id.
func submit(t *testing.T, dir string, inst dmtcptest.Install, args ...string) string {
	t.Helper()
	qsub := []string{"qsub", "-terse", "-cwd", "-v", "SHIM_DMTCP_DMTCP_PREFIX=" + inst.Prefix}
	id := strings.TrimSpace(asUser(t, dir, append(qsub, args...)...))
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("qsub printed %q, want a job id", id)
	}
	t.Cleanup(func() {
		// A failed test must not leave its job to the next one.
		cmd := exec.Command(suite.cellSh, "run", "qdel", "-f", id)
		cmd.Run()
	})
	return id
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sgeLog is the commands' log in the job's checkpoint directory.
func sgeLog(id string) string {
	data, _ := os.ReadFile(filepath.Join(suite.ckptDir, id+".1", "sge.log"))
	return string(data)
}

// finished waits until the qmaster has forgotten the job and its runs'
// accounting records are written, and returns the last run's exit_status.
func finished(t *testing.T, dir, id string, runs int, timeout time.Duration) int {
	t.Helper()
	waitFor(t, "job "+id+" to finish", timeout, func() bool {
		out := asUser(t, dir, "qstat", "-u", "*")
		return !regexp.MustCompile(`(?m)^\s*` + id + `\s`).MatchString(out)
	})
	var m [][]string
	waitFor(t, fmt.Sprintf("job %s's %d accounting records", id, runs), 30*time.Second, func() bool {
		out, _ := exec.Command(suite.cellSh, "run", "qacct", "-j", id).CombinedOutput()
		m = regexp.MustCompile(`(?m)^exit_status\s+(\d+)`).FindAllStringSubmatch(string(out), -1)
		return len(m) >= runs
	})
	// A migrated job has one record per run, in order; the last one counts.
	code, _ := strconv.Atoi(m[len(m)-1][1])
	return code
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkOutput compares a finished counter job's output files with an
// uninterrupted run's.
func checkOutput(t *testing.T, dir, id string, n int, restarts string) {
	t.Helper()
	wantOut, wantProgress := counterOutput(n)
	if got := readFile(t, filepath.Join(dir, "job.sh.o"+id)); got != wantOut {
		t.Errorf("stdout differs from an uninterrupted run (%d bytes, want %d); log:\n%s", len(got), len(wantOut), sgeLog(id))
	}
	// The script's first line runs once: a resumed job continues inside
	// the counter.
	if got, want := readFile(t, filepath.Join(dir, "job.sh.e"+id)), restarts+wantProgress; got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
	}
}

// TestMigrateResumes: a long job is checkpointed every min_cpu_interval
// (when m), migrated with qmod -sj (when x), resumes from its checkpoint
// with RESTARTED=2 and finishes with output identical to an uninterrupted
// run; clean then removes its checkpoint directory.
func TestMigrateResumes(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		dir := jobDir(t)
		const n = 600
		counterJob(t, dir, n, 25, 0)
		id := submit(t, dir, inst, "-ckpt", "dmtcp", "job.sh")
		waitFor(t, "a periodic checkpoint", time.Minute, func() bool {
			return strings.Contains(sgeLog(id), "dmtcp_checkpoint") && strings.Contains(sgeLog(id), "complete in")
		})
		asUser(t, dir, "qmod", "-sj", id)
		waitFor(t, "the migration", time.Minute, func() bool {
			return strings.Contains(sgeLog(id), "the job stopped")
		})
		waitFor(t, "the restart with RESTARTED=2", time.Minute, func() bool {
			return strings.Contains(sgeLog(id), "starting (RESTARTED=2)")
		})
		log := sgeLog(id)
		if code := finished(t, dir, id, 2, 2*time.Minute); code != 0 {
			t.Errorf("exit_status %d, want 0", code)
		}
		checkOutput(t, dir, id, n, "job starts, RESTARTED=0\n")
		if _, err := os.Stat(filepath.Join(suite.ckptDir, id+".1")); !os.IsNotExist(err) {
			t.Errorf("clean left the checkpoint directory (%v)", err)
		}
		t.Logf("commands' log:\n%s", log)
	})
}

// TestDeleteAndRerun: qdel of a checkpointed job removes its checkpoints;
// qmod -rj keeps them, and the rerun (RESTARTED=1) resumes from them.
func TestDeleteAndRerun(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		delDir, rerunDir := jobDir(t), jobDir(t)
		const n = 500
		counterJob(t, delDir, 100000, 25, 0)
		counterJob(t, rerunDir, n, 25, 0)
		del := submit(t, delDir, inst, "-r", "y", "-ckpt", "dmtcp", "job.sh")
		rerun := submit(t, rerunDir, inst, "-r", "y", "-ckpt", "dmtcp", "job.sh")
		for _, id := range []string{del, rerun} {
			waitFor(t, "a periodic checkpoint of "+id, time.Minute, func() bool {
				return strings.Contains(sgeLog(id), "complete in")
			})
		}
		asUser(t, delDir, "qdel", del)
		asUser(t, rerunDir, "qmod", "-rj", rerun)
		waitFor(t, "clean to remove the deleted job's checkpoints", time.Minute, func() bool {
			_, err := os.Stat(filepath.Join(suite.ckptDir, del+".1"))
			return os.IsNotExist(err)
		})
		waitFor(t, "the rerun with RESTARTED=1", time.Minute, func() bool {
			return strings.Contains(sgeLog(rerun), "starting (RESTARTED=1)")
		})
		if !strings.Contains(sgeLog(rerun), "keeping") {
			t.Errorf("clean did not say it kept the rerun's checkpoints:\n%s", sgeLog(rerun))
		}
		if code := finished(t, rerunDir, rerun, 2, 2*time.Minute); code != 0 {
			t.Errorf("exit_status %d, want 0", code)
		}
		checkOutput(t, rerunDir, rerun, n, "job starts, RESTARTED=0\n")
	})
}

// TestMigrateCPU: the dmtcp_cpu environment's migrate command pins the job
// to this host's CPU features before the migration.
func TestMigrateCPU(t *testing.T) {
	skipUnlessCell(t)
	dir := jobDir(t)
	const n = 400
	counterJob(t, dir, n, 25, 0)
	id := submit(t, dir, suite.double, "-ckpt", "dmtcp_cpu", "-l", "h_rt=01:00:00", "job.sh")
	flags, err := exec.Command(suite.cli, "sge", "config", "--cpu-flags", "--host-values").Output()
	if err != nil {
		t.Fatal(err)
	}
	checkPins := func(when string) {
		t.Helper()
		res := ""
		for _, line := range strings.Split(asUser(t, dir, "qstat", "-j", id), "\n") {
			if strings.HasPrefix(line, "hard resource_list:") {
				res = line
			}
		}
		for _, want := range append(strings.Split(strings.TrimSpace(string(flags)), ","), "h_rt=3600") {
			if !strings.Contains(res, want) {
				t.Errorf("%s: hard resource_list %q lacks %s", when, res, want)
			}
		}
	}
	// The first periodic checkpoint pins the job already: a rerun
	// (qmod -rj) resumes from it without any migration.
	waitFor(t, "a periodic checkpoint and its pin", time.Minute, func() bool {
		return strings.Contains(sgeLog(id), "complete in") && strings.Contains(sgeLog(id), "pinned to hosts")
	})
	checkPins("after the first checkpoint")
	asUser(t, dir, "qmod", "-sj", id)
	waitFor(t, "the restart with RESTARTED=2", time.Minute, func() bool {
		return strings.Contains(sgeLog(id), "starting (RESTARTED=2)")
	})
	checkPins("after the migration")
	if log := sgeLog(id); strings.Count(log, "pinned to hosts") != 1 || !strings.Contains(log, "already pinned") {
		t.Errorf("want one pin, at the first checkpoint, and the migration to keep it:\n%s", log)
	}
	if code := finished(t, dir, id, 2, 2*time.Minute); code != 0 {
		t.Errorf("exit_status %d, want 0", code)
	}
	checkOutput(t, dir, id, n, "job starts, RESTARTED=0\n")
}

// TestOtherJobsAsBuiltin: jobs outside the DMTCP environment start through
// dmtcp_starter exactly as through Grid Engine's built-in starter: script
// jobs (a login shell), binary jobs (through sh -c, shell syntax applies)
// and binary jobs with -shell no.
func TestOtherJobsAsBuiltin(t *testing.T) {
	skipUnlessCell(t)
	probe := "#!/bin/sh\n" +
		`printf 'cmdline:'; tr '\0' '|' < /proc/$$/cmdline | sed "s/job_scripts\/[0-9]*/job_scripts\/N/"; echo` + "\n" +
		`printf 'arg:[%s]\n' "$@"` + "\n" +
		`echo "pgid=$(($(ps -o pgid= -p $$) == $$)) login=${LOGIN_PROBE:-unset}"` + "\n"
	cases := []struct {
		name string
		args []string
	}{
		{"script", []string{"probe.sh", "a  b", "$HOME", ""}},
		{"binary", []string{"-b", "y", "/bin/echo", "x  y", "'$HOME'"}},
		{"binary, no shell", []string{"-b", "y", "-shell", "no", "/bin/echo", "x  y", "$HOME"}},
	}
	run := func(t *testing.T, starter string) map[string]string {
		if out, err := exec.Command(suite.cellSh, "set-starter", starter).CombinedOutput(); err != nil {
			t.Fatalf("set-starter: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, c := range cases {
			dir := jobDir(t)
			if err := os.WriteFile(filepath.Join(dir, "probe.sh"), []byte(probe), 0o755); err != nil {
				t.Fatal(err)
			}
			asUser(t, dir, append([]string{"qsub", "-terse", "-sync", "y", "-cwd", "-o", "out", "-e", "err"}, c.args...)...)
			got[c.name] = readFile(t, filepath.Join(dir, "out")) + "stderr:" + readFile(t, filepath.Join(dir, "err"))
		}
		return got
	}
	builtin := run(t, "NONE")
	ours := run(t, filepath.Join(suite.util, "dmtcp_starter"))
	if err := exec.Command(suite.cellSh, "set-starter", filepath.Join(suite.util, "dmtcp_starter")).Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Logf("%s: %q", c.name, ours[c.name])
		if builtin[c.name] != ours[c.name] {
			t.Errorf("%s: built-in starter gave\n%s\ndmtcp_starter gave\n%s", c.name, builtin[c.name], ours[c.name])
		}
	}
	if !strings.Contains(builtin["script"], "cmdline:-sh|") {
		t.Errorf("the script job's shell is not a login shell: %q", builtin["script"])
	}
}

// TestCommandFailuresReachTheUser: a checkpoint environment used on a
// queue whose starter is not dmtcp_starter cannot checkpoint; Grid Engine
// ignores the command's exit code, so the command says so in the job's
// stderr.
func TestCommandFailuresReachTheUser(t *testing.T) {
	skipUnlessCell(t)
	if out, err := exec.Command(suite.cellSh, "set-starter", "NONE").CombinedOutput(); err != nil {
		t.Fatalf("set-starter: %v\n%s", err, out)
	}
	defer exec.Command(suite.cellSh, "set-starter", filepath.Join(suite.util, "dmtcp_starter")).Run()
	dir := jobDir(t)
	counterJob(t, dir, 300, 20, 0)
	id := submit(t, dir, suite.double, "-ckpt", "dmtcp", "job.sh")
	errFile := filepath.Join(dir, "job.sh.e"+id)
	waitFor(t, "the checkpoint command's error in the job's stderr", time.Minute, func() bool {
		data, _ := os.ReadFile(errFile)
		return strings.Contains(string(data), "dmtcp_checkpoint")
	})
	got := readFile(t, errFile)
	if !strings.Contains(got, "does not run under dmtcp_starter") || !strings.Contains(got, "set the queue's starter_method to dmtcp_starter") {
		t.Errorf("job stderr does not say what is wrong and how to fix it:\n%s", got)
	}
}

// TestSweep: "dmtcp-condor sge sweep", run by root as cron would, asks the
// real qmaster which jobs it knows. A running job keeps its directory even
// with --older-than 0; a directory of a job id the qmaster never had and
// one a first run moved aside are removed; a dry run removes nothing.
func TestSweep(t *testing.T) {
	skipUnlessCell(t)
	dir := jobDir(t)
	counterJob(t, dir, 100000, 25, 0)
	id := submit(t, dir, suite.double, "-ckpt", "dmtcp", "job.sh")
	t.Cleanup(func() { asUser(t, dir, "qdel", id) })
	waitFor(t, "a periodic checkpoint", time.Minute, func() bool {
		return strings.Contains(sgeLog(id), "complete in")
	})
	gone := filepath.Join(suite.ckptDir, "987654.1")
	stale := filepath.Join(suite.ckptDir, "987655.1.stale-20261101T101010")
	for _, d := range []string{gone, stale} {
		if err := os.MkdirAll(filepath.Join(d, "ckpt", "gen-00000001"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, 2000, 2000); err != nil {
			t.Fatal(err)
		}
	}
	sweep := func(args ...string) string {
		t.Helper()
		full := append([]string{"run", suite.cli, "sge", "sweep", "--ckpt-dir", suite.ckptDir, "--older-than", "0s"}, args...)
		out, err := exec.Command(suite.cellSh, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("sge sweep %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := sweep("--dry-run")
	for _, d := range []string{gone, stale} {
		if !strings.Contains(out, "would remove "+d) {
			t.Errorf("the dry run does not name %s:\n%s", d, out)
		}
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the dry run removed %s", d)
		}
	}
	out = sweep()
	running := filepath.Join(suite.ckptDir, id+".1")
	if !strings.Contains(out, "kept "+running+": the qmaster still lists job "+id) {
		t.Errorf("sweep does not say it kept the running job's %s:\n%s", running, out)
	}
	if _, err := os.Stat(filepath.Join(running, "ckpt")); err != nil {
		t.Errorf("sweep removed the running job's checkpoints: %v", err)
	}
	for _, d := range []string{gone, stale} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("sweep left %s (%v):\n%s", d, err, out)
		}
	}
	t.Logf("sge sweep:\n%s", out)
}
