package shim_test

// BenchmarkShimVsRawDMTCP measures what the shim adds to DMTCP, side by
// side in one run, against the same job:
//
//	launch:  start -> the job's first line of output
//	vacate:  the request to leave -> everything exited, with a complete
//	         checkpoint on disk (raw: dmtcp_command --bcheckpoint, wait for
//	         the restart script to be rewritten, dmtcp_command --kill)
//	restart: start from the checkpoint -> the job's first new line
//
// and the shim's own CPU use while the job runs between checkpoints.
// Targets: <= 50 ms added to launch and restart, <= 100 ms added to a
// vacate, 0 % CPU in between. Run with a real DMTCP:
//
//	DMTCP_PREFIX=/opt/dmtcp go test ./shim -run '^$' -bench ShimVsRaw -benchtime 5x

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

func BenchmarkShimVsRawDMTCP(b *testing.B) {
	installs := []dmtcptest.Install{double}
	if real.Real {
		installs = append(installs, real)
	} else {
		b.Logf("real DMTCP: skipped (%s); the double's numbers say nothing about DMTCP's speed", realWhy)
	}
	for _, inst := range installs {
		b.Run(inst.Name, func(b *testing.B) {
			var raw, shim [3][]time.Duration
			var cpu []float64
			for i := 0; i < b.N; i++ {
				r := benchRaw(b, inst)
				s, c := benchShim(b, inst)
				for k := range r {
					raw[k] = append(raw[k], r[k])
					shim[k] = append(shim[k], s[k])
				}
				cpu = append(cpu, c)
			}
			names := []string{"launch", "vacate", "restart"}
			var tab strings.Builder
			fmt.Fprintf(&tab, "\n%-8s %12s %12s %10s %7s   (median of %d, %s)\n", "", "raw DMTCP", "shim", "added", "ratio", b.N, inst.Name)
			for k, name := range names {
				rm, sm := median(raw[k]), median(shim[k])
				fmt.Fprintf(&tab, "%-8s %10.1fms %10.1fms %+8.1fms %6.2fx\n", name, ms(rm), ms(sm), ms(sm-rm), float64(sm)/float64(rm))
				b.ReportMetric(ms(rm), name+"-raw-ms")
				b.ReportMetric(ms(sm), name+"-shim-ms")
			}
			sort.Float64s(cpu)
			fmt.Fprintf(&tab, "shim CPU while the job runs: %.2f%% (max of %d runs, over 2 s)\n", cpu[len(cpu)-1], len(cpu))
			b.ReportMetric(cpu[len(cpu)-1], "shim-idle-cpu-%")
			// Printed, not logged: the testing package cuts long benchmark logs.
			fmt.Print(tab.String())
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

var benchArgv = []string{"./counter", "100000", "10", "0"}

// firstLineAfter waits until path grows beyond size, polling every ms.
func firstLineAfter(b *testing.B, path string, size int64) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > size {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("no output in %s", path)
		}
		time.Sleep(time.Millisecond)
	}
}

func sizeOf(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// rawDMTCP drives DMTCP's own commands on a job in dir, the way a careful
// script would: its own coordinator on a port from a port file, the job's
// stdout appended to job.out, a checkpoint known complete when the
// coordinator has rewritten its restart script.
type rawDMTCP struct {
	b                 *testing.B
	prefix, dir, ckpt string
	out, portFile     string
	env               []string
}

func newRawDMTCP(b *testing.B, prefix, dir string) *rawDMTCP {
	r := &rawDMTCP{b: b, prefix: prefix, dir: dir, ckpt: filepath.Join(dir, "ckpt"),
		out: filepath.Join(dir, "job.out"), portFile: filepath.Join(dir, "pf"),
		env: append(os.Environ(), "DMTCP_TMPDIR="+b.TempDir())}
	os.MkdirAll(r.ckpt, 0o700)
	return r
}

func (r *rawDMTCP) bin(name string) string { return filepath.Join(r.prefix, "bin", name) }

// coord are the options that give a launch or restart its own coordinator.
func (r *rawDMTCP) coord() []string {
	return []string{"--new-coordinator", "--coord-port", "0", "--port-file", r.portFile, "--ckptdir", r.ckpt}
}

// start runs dmtcp_launch or dmtcp_restart with the job's stdout.
func (r *rawDMTCP) start(name string, args ...string) *exec.Cmd {
	os.Remove(r.portFile)
	f, _ := os.OpenFile(r.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	defer f.Close()
	cmd := exec.Command(r.bin(name), append(r.coord(), args...)...)
	cmd.Dir, cmd.Env, cmd.Stdout = r.dir, r.env, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.b.Fatal(err)
	}
	return cmd
}

// port is the coordinator's port, once it has written it.
func (r *rawDMTCP) port() string {
	for i := 0; i < 5000; i++ {
		if data, err := os.ReadFile(r.portFile); err == nil && len(data) > 0 {
			return strings.TrimSpace(string(data))
		}
		time.Sleep(time.Millisecond)
	}
	r.b.Fatal("no port file")
	return ""
}

func (r *rawDMTCP) scripts() string {
	m, _ := filepath.Glob(filepath.Join(r.ckpt, "dmtcp_restart_script_*.sh"))
	var s []string
	for _, f := range m {
		if st, err := os.Stat(f); err == nil {
			s = append(s, f+st.ModTime().String())
		}
	}
	return strings.Join(s, ",")
}

// checkpoint asks for a checkpoint and returns once it is complete
// (--bcheckpoint does not block in DMTCP 3.1-4.2.0).
func (r *rawDMTCP) checkpoint(port string) {
	before := r.scripts()
	exec.Command(r.bin("dmtcp_command"), "--coord-port", port, "--bcheckpoint").Run()
	for r.scripts() == before {
		time.Sleep(2 * time.Millisecond)
	}
}

func (r *rawDMTCP) kill(port string) {
	exec.Command(r.bin("dmtcp_command"), "--coord-port", port, "--kill").Run()
}

func (r *rawDMTCP) images() []string {
	m, _ := filepath.Glob(filepath.Join(r.ckpt, "ckpt_*.dmtcp"))
	return m
}

// benchRaw does the three operations with DMTCP's own commands.
func benchRaw(b *testing.B, inst dmtcptest.Install) (d [3]time.Duration) {
	dir := b.TempDir()
	jobs[0].setup(b, dir)
	r := newRawDMTCP(b, inst.Prefix, dir)
	t0 := time.Now()
	job := r.start("dmtcp_launch", benchArgv...)
	firstLineAfter(b, r.out, 0)
	d[0] = time.Since(t0)
	time.Sleep(300 * time.Millisecond)
	p := r.port()

	t0 = time.Now()
	r.checkpoint(p)
	r.kill(p)
	job.Wait()
	d[1] = time.Since(t0)

	size := sizeOf(r.out)
	t0 = time.Now()
	job = r.start("dmtcp_restart", r.images()...)
	firstLineAfter(b, r.out, size)
	d[2] = time.Since(t0)
	r.kill(r.port())
	job.Wait()
	return d
}

// benchShim does the same through shim_dmtcp, and samples the shim's CPU
// time while the job runs.
func benchShim(b *testing.B, inst dmtcptest.Install) (d [3]time.Duration, cpuPct float64) {
	dir := b.TempDir()
	jobs[0].setup(b, dir)
	out := filepath.Join(dir, "job.out")
	run := func() *exec.Cmd {
		args := append([]string{"--dmtcp-prefix", inst.Prefix, "--log", "shim.log", "--stdout", "job.out", "--ckptint", "1h", "--"}, benchArgv...)
		cmd := exec.Command(shimBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DMTCP_TMPDIR="+b.TempDir())
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		return cmd
	}
	t0 := time.Now()
	shim := run()
	firstLineAfter(b, out, 0)
	d[0] = time.Since(t0)

	before := cpuTicks(shim.Process.Pid)
	time.Sleep(2 * time.Second)
	ticks := cpuTicks(shim.Process.Pid) - before
	cpuPct = float64(ticks) / 100 / 2 * 100 // USER_HZ is 100 on Linux

	t0 = time.Now()
	shim.Process.Signal(syscall.SIGINT)
	shim.Wait()
	d[1] = time.Since(t0)
	if code := shim.ProcessState.ExitCode(); code != 85 {
		data, _ := os.ReadFile(filepath.Join(dir, "shim.log"))
		b.Fatalf("shim vacate: exit %d\n%s", code, data)
	}

	// The shim first cuts job.out back to its size at the checkpoint: the
	// resumed job's first line is the first byte past that.
	size := checkpointStdoutSize(b, dir)
	if err := os.Truncate(out, size); err != nil { // as the shim will: the same start as raw's
		b.Fatal(err)
	}
	t0 = time.Now()
	shim = run()
	firstLineAfter(b, out, size)
	d[2] = time.Since(t0)
	killTree(shim.Process.Pid)
	shim.Wait()
	return d, cpuPct
}

func checkpointStdoutSize(b *testing.B, dir string) int64 {
	m, _ := filepath.Glob(filepath.Join(dir, "dmtcp_checkpoints", "gen-*", "manifest.json"))
	if len(m) != 1 {
		b.Fatalf("want one generation, have %v", m)
	}
	return stdoutSizeIn(b, m[0])
}

// stdoutSizeIn reads the stdout size a manifest recorded.
func stdoutSizeIn(b *testing.B, manifest string) int64 {
	data, err := os.ReadFile(manifest)
	if err != nil {
		b.Fatal(err)
	}
	var man struct {
		Stdio struct {
			StdoutSize int64 `json:"stdout_size"`
		} `json:"stdio"`
	}
	if err := json.Unmarshal(data, &man); err != nil {
		b.Fatal(err)
	}
	return man.Stdio.StdoutSize
}

// cpuTicks is a process's user+system time in clock ticks.
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}
