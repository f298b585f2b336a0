// Package gridengine holds the end-to-end tests of the Grid Engine
// integration: a real single-host cell (Debian 12's gridengine 8.1.9, set
// up by testdata/gridengine/cell.sh), the shim as its starter method and
// checkpoint commands, configured with "dmtcp-condor sge" as an admin
// would, and jobs submitted with qsub as a user would.
package gridengine

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

// suite is what TestMain prepares.
var suite struct {
	skip    string // why every test skips
	repo    string
	cellSh  string // testdata/gridengine/cell.sh
	work    string // binaries, readable by the cell's user
	cli     string // dmtcp-condor
	util    string // dmtcp_starter and the commands (symlinks to the shim)
	counter string // testdata/jobs/counter.c, compiled
	double  dmtcptest.Install
	real    dmtcptest.Install
	realWhy string
	ckptDir string // the checkpoint environments' shared ckpt_dir
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	start := time.Now()
	if err := prepare(); err != nil {
		fmt.Fprintf(os.Stderr, "gridengine e2e: %v\n", err)
		return 1
	}
	if suite.skip != "" {
		msg := "gridengine e2e: the Grid Engine tests skip: " + suite.skip
		if os.Getenv("DMTCP_CONDOR_E2E_REQUIRE_CELL") == "1" {
			fmt.Fprintln(os.Stderr, msg+" (and DMTCP_CONDOR_E2E_REQUIRE_CELL=1)")
			return 1
		}
		fmt.Println(msg)
		return m.Run()
	}
	defer os.RemoveAll(suite.work)
	if !suite.real.Real {
		fmt.Printf("gridengine e2e: real DMTCP: %s; the tests against it are skipped\n", suite.realWhy)
	}
	code := m.Run()
	fmt.Printf("gridengine e2e: whole suite %s\n", time.Since(start).Round(100*time.Millisecond))
	return code
}

// prepare builds the binaries, brings the cell up and configures it with
// the project's own commands.
func prepare() error {
	switch {
	case runtime.GOOS != "linux":
		suite.skip = "Grid Engine's test cell runs on Linux only"
	case testing.Short():
		suite.skip = "-short"
	case os.Geteuid() != 0:
		suite.skip = "not root: the cell's daemons run as root (run: sudo env \"PATH=$PATH\" go test ./e2e/gridengine/)"
	}
	if _, err := os.Stat("/etc/debian_version"); suite.skip == "" && err != nil {
		suite.skip = "the cell is set up from Debian 12's packages; this is not Debian"
	}
	if suite.skip != "" {
		return nil
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	suite.repo = repo
	suite.cellSh = filepath.Join(repo, "testdata", "gridengine", "cell.sh")

	t0 := time.Now()
	if out, err := exec.Command(suite.cellSh, "up").CombinedOutput(); err != nil {
		suite.skip = fmt.Sprintf("the cell did not come up (%v):\n%s", err, out)
		return nil
	}
	fmt.Printf("gridengine e2e: cell up in %s\n", time.Since(t0).Round(100*time.Millisecond))

	// Everything the cell's user runs must be readable by it: not under a
	// 0700 test temp directory.
	work, err := os.MkdirTemp("/tmp", "dmtcp-condor-sge-e2e-")
	if err != nil {
		return err
	}
	suite.work = work
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}
	suite.cli = filepath.Join(work, "dmtcp-condor")
	shim := filepath.Join(work, "shim_dmtcp")
	for _, b := range []struct{ out, pkg string }{{suite.cli, "./cmd/dmtcp-condor"}, {shim, "./cmd/shim_dmtcp"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir, cmd.Env = repo, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	if suite.double, err = dmtcptest.BuildDouble(filepath.Join(work, "double")); err != nil {
		return err
	}
	suite.real, suite.realWhy = dmtcptest.Real()
	jobs := filepath.Join(repo, "testdata", "jobs")
	suite.counter = filepath.Join(work, "counter")
	if out, err := exec.Command("gcc", "-O", "-I", jobs, "-o", suite.counter, filepath.Join(jobs, "counter.c")).CombinedOutput(); err != nil {
		return fmt.Errorf("compile counter.c: %v\n%s", err, out)
	}

	// As the admin would: the commands, then the checkpoint environments
	// "dmtcp_condor sge config" writes.
	suite.util = filepath.Join(work, "util")
	if out, err := exec.Command(suite.cli, "sge", "install", "--dir", suite.util, "--shim", shim).CombinedOutput(); err != nil {
		return fmt.Errorf("sge install: %v\n%s", err, out)
	}
	suite.ckptDir = filepath.Join(work, "ckpt")
	if err := os.Mkdir(suite.ckptDir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(suite.ckptDir, 0o1777); err != nil {
		return err
	}
	if err := exec.Command("chmod", "-R", "a+rX", work).Run(); err != nil {
		return err
	}
	if err := configure(); err != nil {
		return fmt.Errorf("configure the cell: %w", err)
	}
	return nil
}

// configure resets the cell and sets it up as "dmtcp-condor sge config"
// says: the environments dmtcp (when xsrm) and dmtcp_cpu, the queue's
// starter_method, a short min_cpu_interval, and the cpuflag_* complexes
// with this host's values.
func configure() error {
	if out, err := exec.Command(suite.cellSh, "reset").CombinedOutput(); err != nil {
		return fmt.Errorf("reset: %v\n%s", err, out)
	}
	for _, env := range []struct {
		file string
		args []string
	}{
		{"dmtcp.ckpt", []string{"--when", "xsrm"}},
		{"dmtcp_cpu.ckpt", []string{"--when", "xsrm", "--cpu-flags"}},
	} {
		args := append([]string{"sge", "config", "--ckpt-dir", suite.ckptDir, "--util-dir", suite.util}, env.args...)
		out, err := exec.Command(suite.cli, args...).Output()
		if err != nil {
			return fmt.Errorf("dmtcp-condor %s: %w", strings.Join(args, " "), err)
		}
		path := filepath.Join(suite.work, env.file)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		if out, err := exec.Command(suite.cellSh, "ckpt-env", path).CombinedOutput(); err != nil {
			return fmt.Errorf("ckpt-env %s: %v\n%s", env.file, err, out)
		}
	}
	for _, c := range [][]string{
		{"set-starter", filepath.Join(suite.util, "dmtcp_starter")},
		{"set-queue", "min_cpu_interval", "00:00:03"},
	} {
		if out, err := exec.Command(suite.cellSh, c...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	// The complexes: qconf -sc, plus what --complexes prints, back with -Mc.
	have, err := qconf("-sc")
	if err != nil {
		return err
	}
	if !strings.Contains(have, "cpuflag_") {
		more, err := exec.Command(suite.cli, "sge", "config", "--cpu-flags", "--complexes").Output()
		if err != nil {
			return fmt.Errorf("sge config --complexes: %w", err)
		}
		file := filepath.Join(suite.work, "complexes")
		if err := os.WriteFile(file, append([]byte(have), more...), 0o644); err != nil {
			return err
		}
		if _, err := qconf("-Mc", file); err != nil {
			return err
		}
	}
	vals, err := exec.Command(suite.cli, "sge", "config", "--cpu-flags", "--host-values").Output()
	if err != nil {
		return fmt.Errorf("sge config --host-values: %w", err)
	}
	if _, err := qconf("-mattr", "exechost", "complex_values", strings.TrimSpace(string(vals)), "localhost"); err != nil {
		return err
	}
	return nil
}

// qconf runs qconf as root with the cell's environment.
func qconf(args ...string) (string, error) {
	out, err := exec.Command(suite.cellSh, append([]string{"run", "qconf"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("qconf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// asUser runs a Grid Engine client as the cell's user in dir.
func asUser(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(suite.cellSh, append([]string{"run-as-user"}, args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func skipUnlessCell(t *testing.T) {
	t.Helper()
	if suite.skip != "" {
		t.Skip("skipped: " + suite.skip)
	}
}
