package shim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
)

// manifests reads every generation's manifest, oldest first.
func manifests(t *testing.T, dir string) []ckptstore.Manifest {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "manifest.json"))
	var out []ckptstore.Manifest
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m ckptstore.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func gzipped(m ckptstore.Manifest) bool {
	for _, f := range m.Files {
		if f.Image && !f.Gzip {
			return false
		}
	}
	return true
}

// TestCompressionOffTheCriticalPath: DMTCP writes images uncompressed; the
// shim compresses a generation after a periodic checkpoint while the job
// runs on, never on the way out of a vacate, and before a self-checkpoint
// exit only within --compress-budget. A job resumes from compressed and
// uncompressed generations alike, to the output of an uninterrupted run.
func TestCompressionOffTheCriticalPath(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		argv := []string{"./counter", "1500", "10", "0"}
		wantOut, wantErr := expectArgv(t, j, argv)
		dir := t.TempDir()
		j.setup(t, dir)

		// A self-checkpoint exit within its budget leaves a compressed
		// generation.
		r := startShim(t, inst, dir, []string{"--ckptint", "1", "--exit-after-checkpoint", "--compress-budget", "1m"}, argv)
		if code := r.wait(t, time.Minute); code != 85 {
			t.Fatalf("self-checkpoint: exit %d; log:\n%s", code, r.log())
		}
		ms := manifests(t, dir)
		if len(ms) != 1 || !gzipped(ms[0]) {
			t.Fatalf("after a self-checkpoint exit with a budget: %d generation(s), want 1 compressed; log:\n%s", len(ms), r.log())
		}

		// Resumed from it, a periodic checkpoint (SIGUSR2: exactly one)
		// is compressed in the background; the vacate's is not.
		r = startShim(t, inst, dir, nil, argv)
		r.waitLog(t, "restarted pid")
		r.cmd.Process.Signal(syscall.SIGUSR2)
		r.waitLog(t, "compress: generation 2:")
		r.cmd.Process.Signal(syscall.SIGTERM)
		if code := r.wait(t, time.Minute); code != 85 {
			t.Fatalf("vacate: exit %d; log:\n%s", code, r.log())
		}
		ms = manifests(t, dir)
		last := ms[len(ms)-1]
		if len(ms) != 2 || !gzipped(ms[0]) || gzipped(last) {
			t.Errorf("after the vacate: generations %d..%d, want the older compressed and the vacate's not", ms[0].Generation, last.Generation)
		}

		// A self-checkpoint exit without a budget leaves at once.
		r = startShim(t, inst, dir, []string{"--ckptint", "1", "--exit-after-checkpoint"}, argv)
		if code := r.wait(t, time.Minute); code != 85 {
			t.Fatalf("self-checkpoint without a budget: exit %d; log:\n%s", code, r.log())
		}
		ms = manifests(t, dir)
		if gzipped(ms[len(ms)-1]) {
			t.Errorf("a self-checkpoint exit without --compress-budget compressed its generation")
		}

		// A vacate that meets a compression under way stops it at once
		// and leaves with the previous generations as they were.
		r = startShim(t, inst, dir, nil, argv, "DMTCP_CONDOR_TEST_COMPRESS_DELAY=1h")
		r.waitLog(t, "restarted pid")
		r.cmd.Process.Signal(syscall.SIGUSR2)
		r.waitLog(t, "checkpoint generation 5 complete")
		start := time.Now()
		r.cmd.Process.Signal(syscall.SIGTERM)
		if code := r.wait(t, time.Minute); code != 85 {
			t.Fatalf("vacate during a compression: exit %d; log:\n%s", code, r.log())
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("the vacate took %s: it waited for the compression", took)
		}
		if !fileContains(filepath.Join(dir, "shim.log"), "compression of generation 5 stopped") {
			t.Errorf("the compression under way was not stopped; log:\n%s", r.log())
		}
		if z, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "z")); len(z) > 0 {
			t.Errorf("a stopped compression left %v", z)
		}

		r = startShim(t, inst, dir, nil, argv)
		if code := r.wait(t, 2*time.Minute); code != 0 {
			t.Fatalf("final run: exit %d; log:\n%s", code, r.log())
		}
		assertSameOutput(t, dir, wantOut, wantErr)
	})
}
