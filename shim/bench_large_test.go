package shim_test

// BenchmarkLargeImage is issue 15's measurement: a job holding a large
// image (DMTCP_CONDOR_BENCH_MB, default 512 MiB) of incompressible
// (random) or compressible (text) data, checkpointed by raw DMTCP with and
// without its gzip and by the shim with and without its own compression,
// side by side in one run:
//
//	vacate:   the request to leave -> checkpoint complete, job gone
//	stall:    the longest the job stopped for a periodic checkpoint (the
//	          widest gap between its ticks)
//	restart:  start from the newest checkpoint -> the job's next tick
//	restart-z: the shim from a generation it compressed
//	stored:   what the periodic checkpoint keeps on disk (for the shim
//	          after its background compression)
//
// as ratios to raw DMTCP without gzip, with the disk's own write time (dd
// with fsync) as the floor. It needs a real DMTCP:
//
//	DMTCP_PREFIX=/opt/dmtcp go test ./shim -run '^$' -bench LargeImage -benchtime 1x -timeout 30m

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type largeResult struct {
	vacate, stall, restart, restartZ time.Duration
	stored                           int64
}

func benchMB() int {
	if mb, err := strconv.Atoi(os.Getenv("DMTCP_CONDOR_BENCH_MB")); err == nil && mb > 0 {
		return mb
	}
	return 512
}

func BenchmarkLargeImage(b *testing.B) {
	if !real.Real {
		b.Skip("skipped: the large-image benchmark measures DMTCP itself and needs a real DMTCP (" + realWhy + ")")
	}
	mb := benchMB()
	hold := filepath.Join(b.TempDir(), "hold")
	if out, err := exec.Command("gcc", "-O", "-o", hold, filepath.Join(jobsDir, "hold.c")).CombinedOutput(); err != nil {
		b.Fatalf("compile hold.c: %v\n%s", err, out)
	}
	floor := ddFloor(b, mb)
	modes := []struct {
		name string
		run  func(b *testing.B, hold string, argv []string) largeResult
	}{
		{"raw DMTCP --no-gzip", func(b *testing.B, hold string, argv []string) largeResult { return largeRaw(b, hold, argv, false) }},
		{"raw DMTCP gzip", func(b *testing.B, hold string, argv []string) largeResult { return largeRaw(b, hold, argv, true) }},
		{"shim (default)", func(b *testing.B, hold string, argv []string) largeResult { return largeShim(b, hold, argv, true) }},
		{"shim --no-compress", func(b *testing.B, hold string, argv []string) largeResult { return largeShim(b, hold, argv, false) }},
	}
	for _, kind := range []string{"random", "text"} {
		b.Run(kind, func(b *testing.B) {
			argv := []string{"./hold", strconv.Itoa(mb), kind}
			res := make([][]largeResult, len(modes))
			for i := 0; i < b.N; i++ {
				for m, mode := range modes {
					res[m] = append(res[m], mode.run(b, hold, argv))
				}
			}
			med := func(m int, f func(largeResult) time.Duration) time.Duration {
				var ds []time.Duration
				for _, r := range res[m] {
					ds = append(ds, f(r))
				}
				return median(ds)
			}
			base := [3]time.Duration{
				med(0, func(r largeResult) time.Duration { return r.vacate }),
				med(0, func(r largeResult) time.Duration { return r.stall }),
				med(0, func(r largeResult) time.Duration { return r.restart }),
			}
			var tab strings.Builder
			fmt.Fprintf(&tab, "\n%d MiB %s data (median of %d; ratio to raw DMTCP --no-gzip; floor: dd with fsync %.2fs)\n", mb, kind, b.N, floor.Seconds())
			fmt.Fprintf(&tab, "%-20s %15s %15s %15s %10s %10s\n", "", "vacate", "stall", "restart", "restart-z", "stored")
			for m, mode := range modes {
				v := med(m, func(r largeResult) time.Duration { return r.vacate })
				s := med(m, func(r largeResult) time.Duration { return r.stall })
				r := med(m, func(r largeResult) time.Duration { return r.restart })
				z := med(m, func(r largeResult) time.Duration { return r.restartZ })
				rz := "-"
				if z > 0 {
					rz = fmt.Sprintf("%.2fs", z.Seconds())
				}
				fmt.Fprintf(&tab, "%-20s %7.2fs %5.2fx %7.2fs %5.2fx %7.2fs %5.2fx %10s %8.0fMB\n", mode.name,
					v.Seconds(), ratio(v, base[0]), s.Seconds(), ratio(s, base[1]), r.Seconds(), ratio(r, base[2]), rz,
					float64(res[m][len(res[m])/2].stored)/1e6)
			}
			fmt.Print(tab.String())
		})
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// ddFloor is how long writing mb MiB and syncing takes on the disk the
// tests use: no checkpoint can be faster.
func ddFloor(b *testing.B, mb int) time.Duration {
	path := filepath.Join(b.TempDir(), "floor")
	start := time.Now()
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M", "count="+strconv.Itoa(mb), "conv=fsync").CombinedOutput()
	if err != nil {
		b.Fatalf("dd: %v %s", err, out)
	}
	d := time.Since(start)
	os.Remove(path)
	return d
}

// waitLine waits until path holds a line with prefix after offset.
func waitLine(b *testing.B, path, prefix string, offset int64, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			f.Seek(offset, io.SeekStart)
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), prefix) {
					f.Close()
					return
				}
			}
			f.Close()
		}
		time.Sleep(2 * time.Millisecond)
	}
	data, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "shim.log"))
	b.Fatalf("no %q in %s within %s\n%s", prefix, path, timeout, data)
}

// widestGap is the longest time between two ticks of job.out after
// offset: how long the job stood still.
func widestGap(path string, offset int64) time.Duration {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	f.Seek(offset, io.SeekStart)
	sc := bufio.NewScanner(f)
	var last, widest int64
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || fs[0] != "tick" {
			continue
		}
		t, _ := strconv.ParseInt(fs[1], 10, 64)
		if last > 0 && t-last > widest {
			widest = t - last
		}
		last = t
	}
	return time.Duration(widest) * time.Microsecond
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && strings.HasSuffix(info.Name(), ".dmtcp") {
			n += info.Size()
		}
		return nil
	})
	return n
}

func largeRaw(b *testing.B, hold string, argv []string, gzip bool) (r largeResult) {
	dir := b.TempDir()
	copyFile(b, hold, filepath.Join(dir, "hold"))
	raw := newRawDMTCP(b, real.Prefix, dir)
	if !gzip {
		argv = append([]string{"--no-gzip"}, argv...)
	}
	job := raw.start("dmtcp_launch", argv...)
	waitLine(b, raw.out, "ready", 0, 2*time.Minute)
	p := raw.port()
	// Periodic: the job goes on. (Ticks before it, so the gap shows.)
	time.Sleep(300 * time.Millisecond)
	mark := sizeOf(raw.out)
	raw.checkpoint(p)
	time.Sleep(300 * time.Millisecond)
	r.stall = widestGap(raw.out, mark)
	r.stored = dirSize(raw.ckpt)
	// Vacate.
	t0 := time.Now()
	raw.checkpoint(p)
	raw.kill(p)
	job.Wait()
	r.vacate = time.Since(t0)
	mark = sizeOf(raw.out)
	t0 = time.Now()
	job = raw.start("dmtcp_restart", raw.images()...)
	waitLine(b, raw.out, "tick", mark, 2*time.Minute)
	r.restart = time.Since(t0)
	raw.kill(raw.port())
	job.Wait()
	return r
}

func largeShim(b *testing.B, hold string, argv []string, compress bool) (r largeResult) {
	dir := b.TempDir()
	copyFile(b, hold, filepath.Join(dir, "hold"))
	out := filepath.Join(dir, "job.out")
	logf := filepath.Join(dir, "shim.log")
	run := func() *exec.Cmd {
		args := []string{"--dmtcp-prefix", real.Prefix, "--log", "shim.log", "--stdout", "job.out", "--ckptint", "1h"}
		if !compress {
			args = append(args, "--no-compress")
		}
		cmd := exec.Command(shimBin, append(append(args, "--"), argv...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DMTCP_TMPDIR="+b.TempDir())
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		return cmd
	}
	shim := run()
	waitLine(b, out, "ready", 0, 2*time.Minute)
	// Periodic. (Ticks before it, so the gap shows.)
	time.Sleep(300 * time.Millisecond)
	mark := sizeOf(out)
	shim.Process.Signal(syscall.SIGUSR2)
	waitFor2(b, logf, "checkpoint generation 1 complete", 5*time.Minute)
	if compress {
		waitFor2(b, logf, "compress: generation 1:", 10*time.Minute)
	}
	time.Sleep(300 * time.Millisecond)
	r.stall = widestGap(out, mark)
	r.stored = dirSize(filepath.Join(dir, "dmtcp_checkpoints", "gen-00000001"))
	// Vacate.
	t0 := time.Now()
	shim.Process.Signal(syscall.SIGINT)
	shim.Wait()
	r.vacate = time.Since(t0)
	if code := shim.ProcessState.ExitCode(); code != 85 {
		data, _ := os.ReadFile(logf)
		b.Fatalf("shim vacate: exit %d\n%s", code, data)
	}
	restart := func() time.Duration {
		size := newestStdoutSize(b, dir)
		if err := os.Truncate(out, size); err != nil { // as the shim will
			b.Fatal(err)
		}
		t0 := time.Now()
		shim := run()
		waitLine(b, out, "tick", size, 2*time.Minute)
		d := time.Since(t0)
		killTree(shim.Process.Pid)
		shim.Wait()
		return d
	}
	r.restart = restart()
	if compress {
		// From the generation compressed in the background: the newest,
		// the vacate's, set aside.
		gens, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*"))
		os.RemoveAll(gens[len(gens)-1])
		r.restartZ = restart()
	}
	return r
}

func waitFor2(b *testing.B, path, s string, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !fileContains(path, s) {
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(path)
			b.Fatalf("no %q in %s within %s\n%s", s, path, timeout, data)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newestStdoutSize is the stdout size the newest generation recorded.
func newestStdoutSize(b *testing.B, dir string) int64 {
	m, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "manifest.json"))
	if len(m) == 0 {
		b.Fatal("no generation")
	}
	return stdoutSizeIn(b, m[len(m)-1])
}

func copyFile(b *testing.B, src, dst string) {
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		b.Fatal(err)
	}
}
