package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keptFiles are the files testdata/jobs/keep-files.c keeps open, one in a
// directory, and the output_files that name them.
var keptFiles = []string{"results/log.txt", "summary.txt"}

// keepFiles is testdata/jobs/keep-files.c: N entries into each kept file,
// N lines to stdout, every tenth to stderr, exit code CODE.
func keepFiles(n, delayMS, code int) program {
	a := func(d int) []string {
		return []string{"./keep-files", strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(code)}
	}
	return program{name: "keep-files", files: []string{"keep-files"}, argv: a(delayMS), fast: a(0), outputs: keptFiles}
}

// expectFiles runs the program uninterrupted, without DMTCP or HTCondor,
// and returns the content of each of names it leaves behind.
func (p program) expectFiles(t *testing.T, names []string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	p.copyTo(t, dir)
	cmd := exec.Command(p.fast[0], p.fast[1:]...)
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run %s without DMTCP: %v", p.name, err)
		}
	}
	files := map[string]string{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("an uninterrupted run of %s left no %s: %v", p.name, n, err)
		}
		files[n] = string(data)
	}
	return files
}

// TestSelfCheckpointKeepsNamedFiles is issue 13's data loss: a
// self-checkpointing job (modes self and both) that keeps a file open in a
// directory (results/log.txt) and a top-level file (summary.txt), both in
// output_files, goes through at least two exit-85 cycles and an eviction
// and ends with stdout, stderr and both files identical to an
// uninterrupted run. keep-files fails its restart (exit 66) when a file
// it had open is missing or not the one of its checkpoint, as DMTCP does
// (shim exit 243), so a file left out of transfer_checkpoint_files, or
// flattened out of its directory, fails the job rather than the
// comparison alone.
func TestSelfCheckpointKeepsNamedFiles(t *testing.T) {
	needPool(t)
	t.Parallel()
	const code = 3
	for _, mode := range []string{"self", "both"} {
		t.Run(mode, func(t *testing.T) {
			forEachInstall(t, func(t *testing.T, inst install) {
				prog := keepFiles(300, 20, code)
				wantOut, wantErr := prog.expect(t)
				wantFiles := prog.expectFiles(t, keptFiles)
				j := startJob(t, prog, describe(inst, prog, mode, "1s"))
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
				if attr(ad, "ExitCode") != strconv.Itoa(code) || attr(ad, "ExitBySignal") != "false" {
					j.errorf("condor_history: ExitCode %s, ExitBySignal %s; want the job's own %d, false", attr(ad, "ExitCode"), attr(ad, "ExitBySignal"), code)
				}
				if n := count(j.events(), evEvicted); n != 1 {
					j.errorf("%d eviction events, want 1", n)
				}
				if dirs := j.scratchDirs(); len(dirs) != 2 || dirs[0] == dirs[1] {
					j.errorf("want two runs (before and after the eviction) in two scratch directories, got %q", dirs)
				}
				resumed := strings.Count(j.read(j.shimLogName()), resumedMsg)
				if resumed < 3 {
					j.errorf("the shim resumed the job %d times, want at least 3 (two exit-85 cycles, the eviction)", resumed)
				}
				j.assertOutput(j.stdoutName(), j.stderrName(), wantOut, wantErr)
				for _, name := range keptFiles {
					if got, err := os.ReadFile(filepath.Join(j.dir, name)); err != nil {
						j.errorf("%s did not come back at exit: %v", name, err)
					} else if string(got) != wantFiles[name] {
						j.errorf("%s differs from an uninterrupted run: %s", name, firstDiff(wantFiles[name], string(got)))
					}
				}
				t.Logf("%s checkpoints (CheckpointNumber), %d resumptions, %d job starts", attr(ad, "CheckpointNumber"), resumed, len(j.scratchDirs()))
			})
		})
	}
}

// TestMissingOutputFileHolds pins what the description's output_files
// help promises users: a named file that does not exist when the job
// self-checkpoints holds the job (HTCondor 23.9: "Starter failed to upload
// checkpoint", HoldReasonCode 36) rather than losing it silently. A program
// must create the files it lists before its first checkpoint.
func TestMissingOutputFileHolds(t *testing.T) {
	needPool(t)
	t.Parallel()
	for _, mode := range []string{"self", "both"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			prog := counter(200, 20, 0)
			d := describe(suite.installs[0], prog, mode, "1s")
			d["output_files"] = []string{"never-written.txt"}
			j := startJob(t, prog, d)
			ad := j.waitHeld(2 * time.Minute)
			if attr(ad, "HoldReasonCode") != "36" || !strings.Contains(attr(ad, "HoldReason"), "failed to upload checkpoint") {
				j.errorf("HoldReasonCode %s, HoldReason %q; want 36, the checkpoint upload failing", attr(ad, "HoldReasonCode"), attr(ad, "HoldReason"))
			}
		})
	}
}
