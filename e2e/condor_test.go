package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// resumedMsg is what the shim logs when it restarts the job from a
// checkpoint instead of starting it afresh.
const resumedMsg = "resuming from checkpoint generation"

// TestEvictedTwiceResumes is the project's promise: a job evicted with
// condor_vacate_job mid-run, twice, lands in a new scratch directory each
// time, resumes from the checkpoint the shim wrote on eviction, and ends
// with the output of an uninterrupted run.
func TestEvictedTwiceResumes(t *testing.T) {
	needPool(t)
	t.Parallel()
	cases := []struct {
		name     string
		mode     string // the description's checkpoint.mode
		interval any
		prog     program
		at       [2]int // lines of output written before each eviction (see evictAfter)
	}{
		{"c/evict", "evict", 0, counter(300, 20, 0), [2]int{40, 130}},
		{"c/both", "both", "1h", counter(300, 20, 0), [2]int{40, 130}},
		{"python/evict", "evict", 0, pythonCounter, [2]int{40, 130}},
		{"bash/evict", "evict", 0, bashCounter, [2]int{40, 130}},
	}
	forEachInstall(t, func(t *testing.T, inst install) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				wantOut, wantErr := c.prog.expect(t)
				j := startJob(t, c.prog, describe(inst, c.prog, c.mode, c.interval))
				var seen []string
				for _, n := range c.at {
					seen = append(seen, j.evictAfter(n, seen))
				}
				ad := j.waitDone(2 * time.Minute)
				if attr(ad, "ExitCode") != "0" || attr(ad, "ExitBySignal") != "false" {
					j.errorf("condor_history: ExitCode %s, ExitBySignal %s; want 0, false", attr(ad, "ExitCode"), attr(ad, "ExitBySignal"))
				}
				if dirs := j.scratchDirs(); len(dirs) != 3 || dirs[0] == dirs[1] || dirs[1] == dirs[2] || dirs[0] == dirs[2] {
					j.errorf("want three runs in three scratch directories, got %q", dirs)
				}
				if n := strings.Count(j.read(j.shimLogName()), resumedMsg); n != 2 {
					j.errorf("the shim resumed the job from a checkpoint %d times, want 2 (once after each eviction): "+
						"the checkpoint did not come back with the job", n)
				}
				j.assertOutput(j.stdoutName(), j.stderrName(), wantOut, wantErr)
			})
		}
	})
}

// personalityNoRandomize is how condor-ckpt reports a personality with
// ADDR_NO_RANDOMIZE (setarch -R), the shim's default for engine
// condor-syscall.
const personalityNoRandomize = "personality 0x0040000"

// TestCondorSyscallEvictedTwice is issue 7 on the pool: a program speaking
// HTCondor's old checkpoint-library protocol, described with engine:
// condor-syscall and sent with a bundle that holds the shim and no DMTCP,
// is evicted twice with condor_vacate_job. Each time it checkpoints itself
// (SIGTSTP), the shim exits with the checkpoint exit code, and the job
// resumes in a new scratch directory with -_condor_restart FILE
// -_condor_relocatable. Every run has address randomisation off, the stdout
// is that of an uninterrupted run, and the program's own exit code reaches
// condor_history.
func TestCondorSyscallEvictedTwice(t *testing.T) {
	needPool(t)
	t.Parallel()
	cases := []struct {
		mode     string // the description's checkpoint.mode
		interval any
	}{
		{"evict", 0},
		{"both", "1h"},
	}
	const code = 7
	prog := condorCkpt(300, 20, code)
	// The program reports its personality on stderr at each start: once
	// started afresh, then once per restart. The shim cuts stderr back to
	// its size at each checkpoint, so that is all stderr holds.
	wantErr := personalityNoRandomize + "\n" + strings.Repeat(personalityNoRandomize+" (restarted, relocatable)\n", 2)
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			wantOut, _ := prog.expect(t)
			d := describe(install{bundle: suite.noDMTCP}, prog, c.mode, c.interval)
			d["engine"] = "condor-syscall"
			j := startJob(t, prog, d)
			var seen []string
			for _, n := range []int{40, 130} {
				seen = append(seen, j.evictAfter(n, seen))
			}
			ad := j.waitDone(2 * time.Minute)
			if attr(ad, "ExitCode") != strconv.Itoa(code) || attr(ad, "ExitBySignal") != "false" {
				j.errorf("condor_history: ExitCode %s, ExitBySignal %s; want the program's own %d, false", attr(ad, "ExitCode"), attr(ad, "ExitBySignal"), code)
			}
			if n := count(j.events(), evEvicted); n != 2 {
				j.errorf("%d eviction events in %s, want 2", n, j.eventLogName())
			}
			if dirs := j.scratchDirs(); len(dirs) != 3 || dirs[0] == dirs[1] || dirs[1] == dirs[2] || dirs[0] == dirs[2] {
				j.errorf("want three runs in three scratch directories, got %q", dirs)
			}
			if n := strings.Count(j.read(j.shimLogName()), resumedMsg); n != 2 {
				j.errorf("the shim resumed the program from a checkpoint %d times, want 2 (once after each eviction): "+
					"the checkpoint did not come back with the job", n)
			}
			if got := j.read(j.stdoutName()); got != wantOut {
				j.errorf("%s differs from an uninterrupted run: %s", j.stdoutName(), firstDiff(wantOut, got))
			}
			if got := j.read(j.stderrName()); got != wantErr {
				j.errorf("%s = %q, want %q: one personality line per run, each with ADDR_NO_RANDOMIZE (0x0040000), "+
					"the second and third restarted from the checkpoint", j.stderrName(), got, wantErr)
			}
		})
	}
}

// TestSelfCheckpointing is HTCondor's checkpoint_exit_code protocol: the
// shim checkpoints every interval and exits 85, HTCondor saves the
// checkpoint files and runs the same command again; after an eviction it
// restores them in a new scratch directory; the job's own exit code ends it.
func TestSelfCheckpointing(t *testing.T) {
	needPool(t)
	t.Parallel()
	const minCycles = 3
	for _, mode := range []string{"self", "both"} {
		t.Run(mode, func(t *testing.T) {
			forEachInstall(t, func(t *testing.T, inst install) {
				prog := counter(300, 20, 3)
				wantOut, wantErr := prog.expect(t)
				j := startJob(t, prog, describe(inst, prog, mode, "1s"))
				// Two cycles, then an eviction between checkpoints.
				j.waitFor("two self-checkpoint cycles", 3*time.Minute, func() bool {
					dir := j.sandboxFile(j.shimLogName(), nil)
					if dir == "" {
						return false
					}
					data, _ := os.ReadFile(filepath.Join(dir, j.shimLogName()))
					return strings.Count(string(data), resumedMsg) >= 2
				})
				j.vacate()
				ad := j.waitDone(3 * time.Minute)
				if attr(ad, "ExitCode") != "3" || attr(ad, "ExitBySignal") != "false" {
					j.errorf("condor_history: ExitCode %s, ExitBySignal %s; want the job's own 3, false", attr(ad, "ExitCode"), attr(ad, "ExitBySignal"))
				}
				if n := strings.Count(j.read(j.shimLogName()), resumedMsg); n < minCycles {
					j.errorf("the shim resumed the job %d times, want at least %d", n, minCycles)
				}
				if n, _ := strconv.Atoi(attr(ad, "CheckpointNumber")); n < 1 {
					j.errorf("HTCondor counted %s checkpoints (CheckpointNumber), want some", attr(ad, "CheckpointNumber"))
				}
				if dirs := j.scratchDirs(); len(dirs) != 2 || dirs[0] == dirs[1] {
					j.errorf("want two runs (before and after the eviction) in two scratch directories, got %q", dirs)
				}
				j.assertOutput(j.stdoutName(), j.stderrName(), wantOut, wantErr)
				t.Logf("%s checkpoints, %d resumptions", attr(ad, "CheckpointNumber"), strings.Count(j.read(j.shimLogName()), resumedMsg))
			})
		})
	}
}

// pythonKill is a program that dies of signal sig.
func pythonKill(sig string) []string {
	return []string{"/usr/bin/python3", "-c", "import os, signal; os.kill(os.getpid(), signal." + sig + ")"}
}

// TestExitStatus: how the job ended reaches condor_history unchanged,
// through the shim and DMTCP.
func TestExitStatus(t *testing.T) {
	needPool(t)
	t.Parallel()
	cases := []struct {
		name     string
		argv     []string
		code     string // ExitCode
		bySignal string // ExitBySignal
		signal   string // ExitSignal
	}{
		{"exit code 0", []string{"./counter", "5", "1", "0"}, "0", "false", "undefined"},
		{"exit code 42", []string{"./counter", "5", "1", "42"}, "42", "false", "undefined"},
		{"killed by SIGKILL", pythonKill("SIGKILL"), "undefined", "true", "9"},
		{"killed by SIGUSR1", pythonKill("SIGUSR1"), "undefined", "true", "10"},
	}
	forEachInstall(t, func(t *testing.T, inst install) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				prog := counter(5, 1, 0)
				prog.argv = c.argv
				d := describe(inst, prog, "evict", 0)
				if !strings.HasPrefix(c.argv[0], "./") {
					d["program_installed"] = true
				}
				j := startJob(t, prog, d)
				ad := j.waitDone(2 * time.Minute)
				got := [3]string{attr(ad, "ExitCode"), attr(ad, "ExitBySignal"), attr(ad, "ExitSignal")}
				if want := [3]string{c.code, c.bySignal, c.signal}; got != want {
					j.errorf("condor_history ExitCode, ExitBySignal, ExitSignal = %q, want %q", got, want)
				}
				if s := attr(ad, "NumJobStarts"); s != "1" {
					j.errorf("NumJobStarts = %s, want 1", s)
				}
				if e := j.read(j.shimErrName()); e != "" {
					j.errorf("the shim wrote to its stderr for the job's own end: %q", e)
				}
			})
		}
	})
}

// TestShimFailureHolds: when the shim itself fails, HTCondor holds the job
// with the shim's reason instead of rerunning it or calling it done.
func TestShimFailureHolds(t *testing.T) {
	needPool(t)
	t.Parallel()
	double := suite.installs[0]
	cases := []struct {
		name   string
		bundle string
		prog   program
		code   int
		reason string // in HoldReason
		stderr string // in the shim's stderr, returned as shim.C.P.err
	}{
		{"DMTCP missing from the bundle", suite.noDMTCP, counter(5, 1, 0), 241, "DMTCP is missing", "DMTCP not found"},
		{"program missing on the machine", double.bundle, program{name: "missing", argv: []string{"/no-such-program"}}, 243, "DMTCP failed to launch", "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := describe(install{bundle: c.bundle}, c.prog, "both", "1h")
			if len(c.prog.files) == 0 {
				d["program_installed"] = true
			}
			dir := newJobDir(t)
			c.prog.copyTo(t, dir)
			render(t, dir, d)
			j := submit(t, dir)
			ad := j.waitHeld(2 * time.Minute)
			if attr(ad, "HoldReasonCode") != "3" || attr(ad, "HoldReasonSubCode") != strconv.Itoa(c.code) {
				j.errorf("HoldReasonCode %s, HoldReasonSubCode %s; want 3 (the job's on_exit_hold) and %d",
					attr(ad, "HoldReasonCode"), attr(ad, "HoldReasonSubCode"), c.code)
			}
			prefix := fmt.Sprintf("shim_dmtcp exit code %d: ", c.code)
			if r := attr(ad, "HoldReason"); !strings.HasPrefix(r, prefix) || !strings.Contains(r, c.reason) || !strings.Contains(r, j.shimLogName()) {
				j.errorf("HoldReason %q: want %q, %q and the shim log's name", r, prefix, c.reason)
			}
			if e := j.read(j.shimErrName()); !strings.HasPrefix(e, "shim_dmtcp: error: ") || !strings.Contains(e, c.stderr) {
				j.errorf("%s = %q: want the shim's one-line error mentioning %q", j.shimErrName(), e, c.stderr)
			}
			// Held means not rerun: it stays held, started once.
			time.Sleep(3 * time.Second)
			if ad := j.queueAd(); attr(ad, "JobStatus") != "5" || attr(ad, "NumJobStarts") != "1" {
				j.errorf("3 s later: JobStatus %s, NumJobStarts %s; want still held (5) after one start", attr(ad, "JobStatus"), attr(ad, "NumJobStarts"))
			}
		})
	}
}

// TestSeparateFiles: the shim's log, the job's stdout and the job's stderr
// come back as three files, none mixed into another, and the shim's own
// stdout and stderr (HTCondor's output and error) stay empty.
func TestSeparateFiles(t *testing.T) {
	needPool(t)
	t.Parallel()
	cases := []struct {
		name           string
		mode           string
		stdout, stderr string // the description's names ("" for the default)
	}{
		{"default names, mode both", "both", "", ""},
		{"names with spaces, mode evict", "evict", "out put {cluster}.txt", "err put {cluster}.txt"},
	}
	forEachInstall(t, func(t *testing.T, inst install) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				prog := counter(60, 5, 0)
				wantOut, wantErr := prog.expect(t)
				d := describe(inst, prog, c.mode, "1h")
				if c.stdout != "" {
					d["stdout"], d["stderr"] = c.stdout, c.stderr
				}
				j := startJob(t, prog, d)
				ad := j.waitDone(2 * time.Minute)
				if attr(ad, "ExitCode") != "0" {
					j.errorf("ExitCode %s, want 0", attr(ad, "ExitCode"))
				}
				outName, errName := j.stdoutName(), j.stderrName()
				if c.stdout != "" {
					cl := strconv.Itoa(j.cluster)
					outName, errName = strings.ReplaceAll(c.stdout, "{cluster}", cl), strings.ReplaceAll(c.stderr, "{cluster}", cl)
				}
				j.assertOutput(outName, errName, wantOut, wantErr)
				log := j.read(j.shimLogName())
				if !strings.Contains(log, "shim_dmtcp") || !strings.Contains(log, "exit 0") {
					j.errorf("%s does not look like the shim's log:\n%s", j.shimLogName(), tail(log, 20))
				}
				for _, l := range strings.Split(log, "\n") {
					if strings.HasSuffix(l, "line 3") || strings.HasSuffix(l, "progress 10") {
						j.errorf("the job's output is in the shim's log: %q", l)
						break
					}
				}
				for _, name := range []string{j.shimOutName(), j.shimErrName()} {
					if st, err := os.Stat(filepath.Join(j.dir, name)); err != nil || st.Size() != 0 {
						j.errorf("%s (HTCondor's output/error, the shim's own stdout/stderr) should exist and be empty: %v %q", name, err, j.read(name))
					}
				}
			})
		}
	})
}

// pinAttrs are the machine attributes the shim records at the first
// checkpoint, and the job attributes it records them in.
var pinAttrs = [][2]string{
	{"Arch", "DMTCPCkptArch"},
	{"OpSys", "DMTCPCkptOpSys"},
	{"OpSysAndVer", "DMTCPCkptOpSysAndVer"},
	{"Microarch", "DMTCPCkptMicroarch"},
}

// TestPinToFirstCheckpoint: with platform.same_as_first_checkpoint, the
// shim writes the machine's platform into the job ad with condor_chirp at
// the first checkpoint, and Requirements then keep the job on machines like
// it: with one attribute changed by hand the stopped job matches no slot,
// with the right value it runs again and finishes.
func TestPinToFirstCheckpoint(t *testing.T) {
	p := needPool(t)
	t.Parallel()
	out, err := p.user("/tmp", "condor_status", "-af", "Arch", "OpSys", "OpSysAndVer", "Microarch")
	machine := strings.Fields(out)
	if err != nil || len(machine) < 4 {
		t.Fatalf("condor_status: %v %q", err, out)
	}
	forEachInstall(t, func(t *testing.T, inst install) {
		prog := counter(400, 20, 0)
		d := describe(inst, prog, "self", "1s")
		d["platform"] = map[string]any{"same_as_first_checkpoint": true}
		j := startJob(t, prog, d)
		var ad map[string]any
		j.waitQueue("the DMTCPCkpt* attributes in the job ad", 3*time.Minute, func() bool {
			ad = j.queueAd()
			return ad != nil && attr(ad, "DMTCPCkptMicroarch") != "undefined"
		})
		for i, a := range pinAttrs {
			if got := attr(ad, a[1]); got != machine[i] {
				j.errorf("%s = %q, want the machine's %s %q", a[1], got, a[0], machine[i])
			}
		}
		req, err := p.user(j.dir, "condor_q", strconv.Itoa(j.cluster), "-af:r", "Requirements")
		if err != nil {
			j.fatalf("condor_q -af:r Requirements: %v", err)
		}
		for _, a := range pinAttrs {
			if !strings.Contains(req, "TARGET."+a[0]+" =?= MY."+a[1]) {
				j.errorf("Requirements do not compare TARGET.%s with MY.%s: %s", a[0], a[1], req)
			}
		}

		// A checkpoint from another OS must not restart here. Held, the job
		// stops (and, self-checkpointing, goes back to its last
		// checkpoint), so the shim cannot record the platform again
		// before the edit is seen.
		id := strconv.Itoa(j.cluster)
		if _, err := p.user(j.dir, "condor_hold", id); err != nil {
			j.fatalf("condor_hold: %v", err)
		}
		j.waitHeld(time.Minute)
		// The schedd keeps the slot's claim a moment for another job, and a
		// job released onto a kept claim starts there without a new match.
		// Real pins are checked at matching: let the claim go first.
		time.Sleep(3 * time.Second)
		if _, err := p.user(j.dir, "condor_qedit", id, "DMTCPCkptOpSysAndVer", `"Debian99"`); err != nil {
			j.fatalf("condor_qedit: %v", err)
		}
		starts := count(j.events(), evExecute)
		if _, err := p.user(j.dir, "condor_release", id); err != nil {
			j.fatalf("condor_release: %v", err)
		}
		time.Sleep(4 * time.Second) // several negotiation cycles
		if n := count(j.events(), evExecute); n != starts || attr(j.queueAd(), "JobStatus") != "1" {
			j.fatalf("the job ran again on a machine unlike its checkpoint's (DMTCPCkptOpSysAndVer = \"Debian99\")")
		}
		analysis, _ := p.user(j.dir, "condor_q", id, "-better-analyze")
		if !pinRejects(analysis) {
			j.errorf("condor_q -better-analyze does not show the DMTCPCkptOpSysAndVer clause matching no slot:\n%s", analysis)
		}

		// The right platform again: it resumes and finishes.
		if _, err := p.user(j.dir, "condor_qedit", id, "DMTCPCkptOpSysAndVer", strconv.Quote(machine[2])); err != nil {
			j.fatalf("condor_qedit: %v", err)
		}
		ad = j.waitDone(3 * time.Minute)
		if attr(ad, "ExitCode") != "0" || attr(ad, "DMTCPCkptOpSysAndVer") != machine[2] {
			j.errorf("ExitCode %s, DMTCPCkptOpSysAndVer %s; want 0, %s", attr(ad, "ExitCode"), attr(ad, "DMTCPCkptOpSysAndVer"), machine[2])
		}
		if !strings.Contains(j.read(j.shimLogName()), resumedMsg) {
			j.errorf("the job did not resume from its checkpoint after the eviction")
		}
	})
}

// pinRejects reads condor_q -better-analyze: the clause on
// DMTCPCkptOpSysAndVer matches 0 slots.
func pinRejects(analysis string) bool {
	for _, l := range strings.Split(analysis, "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && strings.HasPrefix(f[0], "[") && f[1] == "0" && strings.Contains(l, "DMTCPCkptOpSysAndVer") {
			return true
		}
	}
	return false
}
