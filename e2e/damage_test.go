package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// spooledCheckpoints is where the schedd keeps the checkpoint directory a
// job's eviction (or hold) sent back, for its next run.
func (j *job) spooledCheckpoints() string {
	m, _ := filepath.Glob(filepath.Join(j.p.root, "var", "spool", "condor", "*", "*",
		fmt.Sprintf("cluster%d.proc0.subproc0", j.cluster), "dmtcp_checkpoints"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// TestDamagedCheckpointHolds is issue 12 on the pool: a job is held
// (condor_hold) mid-run, so its checkpoint goes to the schedd's spool; the
// checkpoint is damaged there; released, the job must not start over but go
// on hold with a reason that names the damage. Once the checkpoint is
// repaired, condor_release resumes it and it ends with the output of an
// uninterrupted run.
func TestDamagedCheckpointHolds(t *testing.T) {
	needPool(t)
	t.Parallel()
	forEachInstall(t, func(t *testing.T, inst install) {
		prog := counter(300, 20, 0)
		wantOut, wantErr := prog.expect(t)
		j := startJob(t, prog, describe(inst, prog, "evict", 0))
		j.waitFor("40 lines of output", 3*time.Minute, func() bool {
			dir := j.sandboxFile(j.stdoutName(), nil)
			return dir != "" && countLines(filepath.Join(dir, j.stdoutName())) >= 40
		})
		id := fmt.Sprintf("%d.0", j.cluster)
		if out, err := j.p.user(j.dir, "condor_hold", id); err != nil {
			j.fatalf("condor_hold: %v%s", err, out)
		}
		j.waitHeld(2 * time.Minute)
		var spooled string
		j.pollHeld("the checkpoint in the spool", time.Minute, func() bool {
			spooled = j.spooledCheckpoints()
			m, _ := filepath.Glob(filepath.Join(spooled, "gen-*", "manifest.json"))
			return spooled != "" && len(m) > 0
		})
		good := filepath.Join(t.TempDir(), "good")
		if out, err := exec.Command("cp", "-a", spooled, good).CombinedOutput(); err != nil {
			j.fatalf("keep a copy of the checkpoint: %v %s", err, out)
		}
		imgs, _ := filepath.Glob(filepath.Join(spooled, "gen-*", "*.dmtcp"))
		if len(imgs) == 0 {
			j.fatalf("no image in the spooled checkpoint %s", spooled)
		}
		st, _ := os.Stat(imgs[0])
		if err := os.Truncate(imgs[0], st.Size()/2); err != nil {
			j.fatalf("damage the checkpoint: %v", err)
		}
		t.Logf("cut %s from %d to %d bytes", imgs[0], st.Size(), st.Size()/2)

		if out, err := j.p.user(j.dir, "condor_release", id); err != nil {
			j.fatalf("condor_release: %v%s", err, out)
		}
		j.pollHeld("the second hold", 3*time.Minute, func() bool {
			evs := j.events()
			return count(evs, evHeld) == 2 && count(evs, evReleased) == 1
		})
		ad := j.queueAd()
		if attr(ad, "HoldReasonCode") != "3" || attr(ad, "HoldReasonSubCode") != "250" {
			j.fatalf("HoldReasonCode %s, HoldReasonSubCode %s; want 3 (on_exit_hold) and 250 (no usable checkpoint); HoldReason %q",
				attr(ad, "HoldReasonCode"), attr(ad, "HoldReasonSubCode"), attr(ad, "HoldReason"))
		}
		if r := attr(ad, "HoldReason"); !strings.Contains(r, "damaged") || !strings.Contains(r, "bad-gen-") {
			j.errorf("HoldReason %q does not name the damage", r)
		}
		if e := j.read(j.shimErrName()); !strings.Contains(e, "damaged") {
			j.errorf("%s = %q: want the shim's word that the checkpoint is damaged", j.shimErrName(), e)
		}

		// Repaired: the good copy back in the spool.
		if err := os.RemoveAll(spooled); err != nil {
			j.fatalf("%v", err)
		}
		if out, err := exec.Command("cp", "-a", good, spooled).CombinedOutput(); err != nil {
			j.fatalf("restore the checkpoint: %v %s", err, out)
		}
		if out, err := j.p.user(j.dir, "condor_release", id); err != nil {
			j.fatalf("condor_release: %v%s", err, out)
		}
		ad = j.waitDone(3 * time.Minute)
		if attr(ad, "ExitCode") != "0" {
			j.errorf("condor_history: ExitCode %s, want 0", attr(ad, "ExitCode"))
		}
		if n := strings.Count(j.read(j.shimLogName()), resumedMsg); n != 1 {
			j.errorf("the shim resumed the job %d times, want once (after the repair)", n)
		}
		j.assertOutput(j.stdoutName(), j.stderrName(), wantOut, wantErr)
	})
}

// pollHeld polls cond while the job may be held (waitFor fails on a hold).
func (j *job) pollHeld(what string, timeout time.Duration, cond func() bool) {
	j.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			j.fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
