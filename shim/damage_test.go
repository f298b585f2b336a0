package shim_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
	"github.com/dmtcp-condor/dmtcp-condor/internal/proctree"
)

// generations lists the store's gen-* and bad-gen-* directories.
func generations(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "dmtcp_checkpoints"))
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// newestImage is an image of the newest gen-* directory.
func newestGen(t *testing.T, dir string) string {
	t.Helper()
	gens, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*"))
	if len(gens) == 0 {
		t.Fatal("no generation")
	}
	return gens[len(gens)-1]
}

func anImage(t *testing.T, gen string) string {
	t.Helper()
	imgs, _ := filepath.Glob(filepath.Join(gen, "*.dmtcp"))
	if len(imgs) == 0 {
		t.Fatalf("no image in %s", gen)
	}
	return imgs[0]
}

// TestDamagedCheckpoint: a damaged newest generation is never restarted
// from, never deleted, and never silently replaced by a fresh start. With a
// generation before it the job falls back to that one (and says so) and
// still ends with the output of an uninterrupted run; with none it exits
// 250, changing nothing but the damaged generation's name; --fresh-start
// then starts it over, keeping the old output aside.
func TestDamagedCheckpoint(t *testing.T) {
	damages := []struct {
		name   string
		damage func(t *testing.T, gen string)
	}{
		{"manifest garbage", func(t *testing.T, gen string) {
			os.WriteFile(filepath.Join(gen, "manifest.json"), []byte("\x00\x01 not json"), 0o600)
		}},
		{"image truncated", func(t *testing.T, gen string) {
			img := anImage(t, gen)
			st, _ := os.Stat(img)
			os.Truncate(img, st.Size()/2)
		}},
		{"image missing", func(t *testing.T, gen string) { os.Remove(anImage(t, gen)) }},
		{"image overwritten", func(t *testing.T, gen string) {
			// Same size, other bytes: only the checksum tells.
			img := anImage(t, gen)
			f, err := os.OpenFile(img, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			f.WriteAt(bytes.Repeat([]byte{0x5a}, 64), st.Size()/2)
			f.Close()
		}},
	}
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		argv := []string{"./counter", "300", "10", "0"}
		wantOut, wantErr := expectArgv(t, j, argv)
		for _, d := range damages {
			for _, gens := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%d generation(s)", d.name, gens), func(t *testing.T) {
					dir := t.TempDir()
					j.setup(t, dir)
					for i := 0; i < gens; i++ {
						checkpointOnce(t, inst, dir)
					}
					if got := generations(t, dir); len(got) != gens {
						t.Fatalf("after %d vacates the store holds %v; want %d generations kept", gens, got, gens)
					}
					d.damage(t, newestGen(t, dir))
					outBefore, _ := os.ReadFile(filepath.Join(dir, "job.out"))
					logBefore, _ := os.ReadFile(filepath.Join(dir, "shim.log"))

					r := startShim(t, inst, dir, nil, argv)
					code := r.wait(t, 2*time.Minute)
					aside := fmt.Sprintf("bad-gen-%08d", gens)
					if _, err := os.Stat(filepath.Join(dir, "dmtcp_checkpoints", aside)); err != nil {
						t.Errorf("the damaged generation is not kept aside as %s: %v (store: %v)", aside, err, generations(t, dir))
					}
					if !strings.Contains(r.stderr.String(), "damaged") {
						t.Errorf("the job's stderr does not say the checkpoint is damaged: %q", r.stderr.String())
					}
					if gens == 2 {
						if code != 0 {
							t.Fatalf("exit %d, want 0 after falling back; log:\n%s", code, r.log())
						}
						if !strings.Contains(r.stderr.String(), "falling back to checkpoint generation 1") {
							t.Errorf("stderr does not say it fell back: %q", r.stderr.String())
						}
						assertSameOutput(t, dir, wantOut, wantErr)
						return
					}
					if code != 250 {
						t.Fatalf("exit %d, want 250 (no usable checkpoint); log:\n%s", code, r.log())
					}
					if out, _ := os.ReadFile(filepath.Join(dir, "job.out")); !bytes.Equal(out, outBefore) {
						t.Errorf("job.out changed (%d bytes, was %d): the program ran again", len(out), len(outBefore))
					}
					if logNow, _ := os.ReadFile(filepath.Join(dir, "shim.log")); strings.Contains(string(logNow[len(logBefore):]), "launched pid") {
						t.Errorf("the program was started over; log:\n%s", r.log())
					}
					// Asked for, a fresh start runs it from the beginning
					// and keeps the old output.
					r = startShim(t, inst, dir, []string{"--fresh-start"}, argv)
					if code := r.wait(t, 2*time.Minute); code != 0 {
						t.Fatalf("--fresh-start: exit %d; log:\n%s", code, r.log())
					}
					assertSameOutput(t, dir, wantOut, wantErr)
					if old, _ := os.ReadFile(filepath.Join(dir, "job.out."+aside)); !bytes.Equal(old, outBefore) {
						t.Errorf("the old output is not kept as job.out.%s", aside)
					}
					if _, err := os.Stat(filepath.Join(dir, "dmtcp_checkpoints", aside)); err != nil {
						t.Errorf("the finished job deleted the damaged generation: %v", err)
					}
				})
			}
		}
	})
}

// mountTmpfs mounts a small tmpfs for a test (root only).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs to fill needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=1777", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes into dir until its file system is full; the returned func
// frees the space again.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for { // the last partial block
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
	f.Close()
	return func() { os.Remove(path) }
}

// TestNoSpace: a full disk never costs the job or its checkpoint. A
// periodic checkpoint that cannot be saved (the checkpoint directory full)
// or would not fit (the staging directory full) is logged and skipped and
// the job goes on; a vacate whose checkpoint cannot be written exits 247
// with the previous generation intact, from which the job later resumes.
func TestNoSpace(t *testing.T) {
	for _, where := range []string{"checkpoint directory", "staging directory"} {
		t.Run(where, func(t *testing.T) {
			forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
				j := jobs[0]
				argv := []string{"./counter", "300", "10", "0"}
				wantOut, wantErr := expectArgv(t, j, argv)
				dir := t.TempDir()
				j.setup(t, dir)
				small := mountTmpfs(t, "96m")
				ckpt := filepath.Join(dir, "dmtcp_checkpoints")
				var opts []string
				if where == "checkpoint directory" {
					ckpt = filepath.Join(small, "ckpt")
					opts = []string{"--ckpt-dir", ckpt}
				} else {
					opts = []string{"--stage-dir", small}
				}
				// A first generation while there is room.
				r := startShim(t, inst, dir, opts, argv)
				waitFor(t, "output", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) > 30 })
				r.cmd.Process.Signal(syscall.SIGTERM)
				if code := r.wait(t, time.Minute); code != 85 {
					t.Fatalf("first vacate: exit %d; log:\n%s", code, r.log())
				}
				before := listTree(t, ckpt)

				// The disk fills while the job runs: periodic checkpoints
				// fail, the job goes on.
				r = startShim(t, inst, dir, append(opts, "--ckptint", "1"), argv)
				r.waitLog(t, "restarted pid")
				free := fill(t, small)
				defer free()
				r.waitLog(t, "skipping this periodic checkpoint")
				r.cmd.Process.Signal(syscall.SIGTERM)
				code := r.wait(t, time.Minute)
				if code != 247 {
					t.Fatalf("vacate with the disk full: exit %d, want 247; log:\n%s", code, r.log())
				}
				if !strings.Contains(r.stderr.String(), "no space") {
					t.Errorf("stderr does not say the disk is full: %q", r.stderr.String())
				}
				if strings.Count(r.stderr.String(), "exit code 247") != 1 {
					t.Errorf("stderr repeats or lacks the exit code: %q", r.stderr.String())
				}
				if after := listTree(t, ckpt); strings.Join(after, "\n") != strings.Join(before, "\n") {
					t.Errorf("the checkpoints changed:\nbefore %v\nafter  %v", before, after)
				}
				if left, _ := filepath.Glob(filepath.Join(ckpt, "*.partial")); len(left) > 0 {
					t.Errorf("partial generations left: %v", left)
				}
				free()
				r = startShim(t, inst, dir, opts, argv)
				if code := r.wait(t, 2*time.Minute); code != 0 {
					t.Fatalf("after freeing space: exit %d; log:\n%s", code, r.log())
				}
				if !fileContains(filepath.Join(dir, "shim.log"), "resuming from checkpoint generation 1") {
					t.Errorf("did not resume from the generation kept; log:\n%s", r.log())
				}
				assertSameOutput(t, dir, wantOut, wantErr)
			})
		})
	}
}

// TestConcurrentRestartsInheritedPipe: a parent that leaves a descriptor
// open (a shell's pipe) does not reach the job; four jobs restarted at once
// all run to the end (DMTCP 4.2.0 hangs such restarts when the descriptor
// reaches them).
func TestConcurrentRestartsInheritedPipe(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		argv := []string{"./counter", "200", "10", "0"}
		wantOut, wantErr := expectArgv(t, j, argv)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		defer pw.Close()
		var st syscall.Stat_t
		syscall.Fstat(int(pw.Fd()), &st)
		pipe := fmt.Sprintf("pipe:[%d]", st.Ino)

		start := func(dir string) *shimRun {
			return startShimWith(t, inst, dir, nil, argv, []*os.File{pw})
		}
		const n = 4
		dirs := make([]string, n)
		for i := range dirs {
			dirs[i] = t.TempDir()
			j.setup(t, dirs[i])
			r := start(dirs[i])
			waitFor(t, "output", time.Minute, func() bool { return lines(filepath.Join(dirs[i], "job.out")) > 20 })
			if pid := jobPID(t, dirs[i]); pid > 0 {
				if holds(pid, pipe) {
					t.Errorf("the job (pid %d) holds the shim's inherited %s", pid, pipe)
				}
			}
			r.cmd.Process.Signal(syscall.SIGTERM)
			if code := r.wait(t, time.Minute); code != 85 {
				t.Fatalf("vacate %d: exit %d; log:\n%s", i, code, r.log())
			}
		}
		runs := make([]*shimRun, n)
		for i := range runs {
			runs[i] = start(dirs[i])
		}
		for i, r := range runs {
			if code := r.wait(t, 3*time.Minute); code != 0 {
				t.Fatalf("restart %d of %d at once: exit %d; log:\n%s", i+1, n, code, r.log())
			}
			assertSameOutput(t, dirs[i], wantOut, wantErr)
		}
	})
}

// jobPID is the pid the shim's log says it launched or restarted.
func jobPID(t *testing.T, dir string) int {
	data, _ := os.ReadFile(filepath.Join(dir, "shim.log"))
	for _, l := range strings.Split(string(data), "\n") {
		for _, w := range []string{"launched pid ", "restarted pid "} {
			if _, rest, ok := strings.Cut(l, w); ok {
				f := strings.Fields(rest)
				if pid, err := strconv.Atoi(f[0]); err == nil {
					return pid
				}
			}
		}
	}
	return 0
}

// holds reports whether pid or any process under it has a descriptor on
// target.
func holds(pid int, target string) bool {
	for _, p := range proctree.Descendants(pid) {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", p))
		for _, fd := range fds {
			if l, _ := os.Readlink(fd); l == target {
				return true
			}
		}
	}
	return false
}

// TestStageParentNotOurs: another user's directory, or a symlink, where the
// shim's staging parent goes is neither used nor followed; the job runs in
// a private one instead, which its checkpoints record, and resumes there.
func TestStageParentNotOurs(t *testing.T) {
	cases := []struct {
		name string
		make func(t *testing.T, parent, target string)
	}{
		{"symlink", func(t *testing.T, parent, target string) {
			if err := os.Symlink(target, parent); err != nil {
				t.Fatal(err)
			}
		}},
		{"another user's", func(t *testing.T, parent, target string) {
			if os.Getuid() != 0 {
				t.Skip("skipped: giving a directory to another user needs root (CI runs as root)")
			}
			if err := os.Mkdir(parent, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(parent, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}},
	}
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				j := jobs[0]
				argv := []string{"./counter", "200", "10", "0"}
				wantOut, wantErr := expectArgv(t, j, argv)
				stage := t.TempDir()
				os.Chmod(stage, 0o1777)
				target := t.TempDir()
				os.Chmod(target, 0o755)
				parent := filepath.Join(stage, fmt.Sprintf("dmtcp-condor-%d", os.Getuid()))
				c.make(t, parent, target)
				dir := t.TempDir()
				j.setup(t, dir)
				opts := []string{"--stage-dir", stage}
				r := startShim(t, inst, dir, opts, argv)
				waitFor(t, "output", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) > 20 })
				r.cmd.Process.Signal(syscall.SIGTERM)
				if code := r.wait(t, time.Minute); code != 85 {
					t.Fatalf("vacate: exit %d; log:\n%s", code, r.log())
				}
				if !strings.Contains(r.stderr.String(), "not using "+parent) {
					t.Errorf("stderr does not say %s was not used: %q", parent, r.stderr.String())
				}
				if st, _ := os.Stat(target); st.Mode().Perm() != 0o755 {
					t.Errorf("the symlink's target was changed to %v", st.Mode().Perm())
				}
				if left, _ := os.ReadDir(target); len(left) > 0 {
					t.Errorf("the shim wrote into the symlink's target: %v", left)
				}
				r = startShim(t, inst, dir, opts, argv)
				if code := r.wait(t, 2*time.Minute); code != 0 {
					t.Fatalf("resume: exit %d; log:\n%s", code, r.log())
				}
				assertSameOutput(t, dir, wantOut, wantErr)
			})
		}
	})
}

// TestPruneFailureStillExits85: a vacate whose new generation is complete
// exits with the checkpoint exit code even when an older generation cannot
// be deleted (here a mount point inside it makes the removal fail).
func TestPruneFailureStillExits85(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("skipped: making a generation undeletable needs a mount (root; CI runs as root)")
	}
	dir := t.TempDir()
	jobs[0].setup(t, dir)
	checkpointOnce(t, double, dir)
	checkpointOnce(t, double, dir)
	first := filepath.Join(dir, "dmtcp_checkpoints", "gen-00000001")
	busy := filepath.Join(first, "busy")
	os.Mkdir(busy, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", busy).CombinedOutput(); err != nil {
		t.Skipf("skipped: mount: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", busy).Run()
	r := startShim(t, double, dir, nil, []string{"./counter", "300", "10", "0"})
	before := lines(filepath.Join(dir, "job.out"))
	waitFor(t, "output", time.Minute, func() bool { return lines(filepath.Join(dir, "job.out")) > before+5 })
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(t, time.Minute); code != 85 {
		t.Fatalf("exit %d, want 85: the new generation was complete; log:\n%s", code, r.log())
	}
	if !fileContains(filepath.Join(dir, "shim.log"), "warning: remove superseded gen-00000001") {
		t.Errorf("the failed removal is not logged; log:\n%s", r.log())
	}
	if _, err := os.Stat(filepath.Join(dir, "dmtcp_checkpoints", "gen-00000003", "manifest.json")); err != nil {
		t.Errorf("generation 3: %v", err)
	}
}

// TestPeriodicCommitFails: with no generation yet there is nothing to tell
// how much room a checkpoint needs; a periodic checkpoint whose commit then
// fails for want of space (the checkpoint directory full) is logged, its
// partial generation removed, and the job goes on to its own end.
func TestPeriodicCommitFails(t *testing.T) {
	forEachInstall(t, func(t *testing.T, inst dmtcptest.Install) {
		j := jobs[0]
		argv := []string{"./counter", "300", "10", "0"}
		wantOut, wantErr := expectArgv(t, j, argv)
		dir := t.TempDir()
		j.setup(t, dir)
		small := mountTmpfs(t, "8m")
		ckpt := filepath.Join(small, "ckpt")
		os.Mkdir(ckpt, 0o700)
		defer fill(t, small)()
		r := startShim(t, inst, dir, []string{"--ckpt-dir", ckpt, "--ckptint", "1"}, argv)
		if code := r.wait(t, 2*time.Minute); code != 0 {
			t.Fatalf("exit %d, want the job's own 0; log:\n%s", code, r.log())
		}
		if !fileContains(filepath.Join(dir, "shim.log"), "periodic checkpoint could not be saved") {
			t.Errorf("no failed periodic commit in the log:\n%s", r.log())
		}
		if left, _ := filepath.Glob(filepath.Join(ckpt, "gen-*")); len(left) > 0 {
			t.Errorf("left in the checkpoint directory: %v", left)
		}
		assertSameOutput(t, dir, wantOut, wantErr)
	})
}
