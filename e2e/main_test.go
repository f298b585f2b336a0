package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

// suite is what TestMain prepares for every test.
var suite struct {
	skip     string // why the tests skip; "" when the pool is up
	pool     *pool
	repo     string // the repository's root
	work     string // /tmp/dmtcp-condor-e2e-*: binaries and bundles, readable by the pool's user
	cli      string // the dmtcp-condor command
	counter  string // testdata/jobs/counter.c, compiled
	ckptProg string // testdata/jobs/condor-ckpt.c, compiled
	keepProg string // testdata/jobs/keep-files.c, compiled
	installs []install
	noDMTCP  string // a bundle with the shim and no DMTCP
}

// install is one DMTCP the jobs run against, as a bundle directory that
// goes with each job: BUNDLE/bin/shim_dmtcp, DMTCP's commands in BUNDLE/bin
// and its libraries in BUNDLE/lib/dmtcp.
type install struct {
	name   string // "double" or "real"
	bundle string
	skip   string // why this install cannot be used
}

// dmtcpCommands are what a bundle holds of DMTCP's bin directory.
var dmtcpCommands = []string{"dmtcp_launch", "dmtcp_coordinator", "dmtcp_command", "dmtcp_restart", "mtcp_restart"}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	// The tests mostly wait for HTCondor: run more of them at once than
	// there are cores, unless -parallel says otherwise.
	if !flagSet("test.parallel") {
		flag.Set("test.parallel", "8")
	}
	start := time.Now()
	finish, err := prepare()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if suite.skip != "" {
		msg := "e2e: the HTCondor pool tests skip: " + suite.skip
		if os.Getenv("DMTCP_CONDOR_E2E_REQUIRE_POOL") == "1" {
			fmt.Fprintln(os.Stderr, msg+" (and DMTCP_CONDOR_E2E_REQUIRE_POOL=1)")
			finish()
			return 1
		}
		fmt.Println(msg)
	}
	code := m.Run()
	finish()
	fmt.Printf("e2e: whole suite %s\n", since(start))
	return code
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

// prepare builds what the jobs need and brings the pool up, concurrently.
// It returns what to do at the end. A reason to skip goes to suite.skip; an
// error is a broken test setup.
func prepare() (func(), error) {
	nothing := func() {}
	switch {
	case runtime.GOOS != "linux":
		suite.skip = "HTCondor's test pool runs on Linux only"
	case testing.Short():
		suite.skip = "-short"
	case os.Geteuid() != 0:
		suite.skip = "not root: the pool runs HTCondor as root in a chroot (run: sudo env \"PATH=$PATH\" go test ./e2e/)"
	}
	if suite.skip != "" {
		return nothing, nil
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		return nothing, err
	}
	suite.repo = repo
	// Job directories and everything they name must be under /tmp, which
	// the pool shares, and readable by the pool's user.
	work, err := os.MkdirTemp("/tmp", "dmtcp-condor-e2e-")
	if err != nil {
		return nothing, err
	}
	if err := os.Chmod(work, 0o755); err != nil {
		return nothing, err
	}
	suite.work = work
	cleanWork := func() { os.RemoveAll(work) }

	var (
		wg                sync.WaitGroup
		buildErr          error
		p                 *pool
		poolErr           string
		wasRunning        bool
		buildTime, upTime time.Duration
	)
	users := sharePool()
	wg.Add(2)
	go func() {
		defer wg.Done()
		t0 := time.Now()
		buildErr = build(work)
		buildTime = time.Since(t0)
	}()
	go func() {
		defer wg.Done()
		t0 := time.Now()
		p, wasRunning, poolErr = poolUp(filepath.Join(repo, "testdata", "condor", "pool.sh"))
		upTime = time.Since(t0)
	}()
	wg.Wait()
	fmt.Printf("e2e: built the shim, dmtcp-condor, the DMTCP double and the bundles in %s\n", buildTime.Round(100*time.Millisecond))
	if buildErr != nil || poolErr != "" {
		if users != nil {
			users.Close()
		}
		cleanWork()
		suite.skip = poolErr
		return nothing, buildErr
	}
	if !wasRunning {
		os.WriteFile(startedMarker, nil, 0o600)
	}
	fmt.Printf("e2e: pool up in %s%s\n", upTime.Round(100*time.Millisecond), map[bool]string{true: " (it was already running)"}[wasRunning])
	suite.pool = p
	checkRealInChroot()
	return func() {
		_, err := os.Stat(startedMarker)
		startedByTests := err == nil
		switch {
		case os.Getenv("DMTCP_CONDOR_E2E_KEEP_POOL") == "1":
			fmt.Println("e2e: leaving the pool running (stop it with: testdata/condor/pool.sh stop)")
		case !lastUser(users):
			fmt.Println("e2e: leaving the pool running: another test run is using it")
		case !startedByTests:
			fmt.Println("e2e: leaving the pool running, as it was before the tests")
		default:
			os.Remove(startedMarker)
			t0 := time.Now()
			if out, err := exec.Command(p.script, "stop").CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: pool.sh stop: %v\n%s", err, out)
			}
			fmt.Printf("e2e: pool stopped in %s\n", since(t0))
		}
		if users != nil {
			users.Close()
		}
		cleanWork()
	}, nil
}

// startedMarker says a test run started the pool: the last run to use it
// stops it. A pool started by hand is left running.
var startedMarker = filepath.Join(os.TempDir(), "dmtcp-condor-e2e-pool-started")

// sharePool takes a shared lock for as long as this test run uses the pool,
// so that a concurrent run (go test ./... of several packages, or of
// several checkouts) does not stop it under the other's jobs. nil if the
// lock cannot be had: then the pool is stopped as if alone.
func sharePool() *os.File {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "dmtcp-condor-e2e-pool-users.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil
	}
	return f
}

// lastUser says whether no other test run holds the pool lock.
func lastUser(f *os.File) bool {
	return f == nil || syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// poolUp runs pool.sh up; a failure is a reason to skip, with pool.sh's
// own explanation.
func poolUp(script string) (p *pool, wasRunning bool, skip string) {
	p = &pool{script: script}
	wasRunning = exec.Command(script, "status").Run() == nil
	cmd := exec.Command(script, "up")
	cmd.Env = os.Environ()
	if os.Getenv("DMTCP_CONDOR_POOL_NUM_CPUS") == "" {
		cmd.Env = append(cmd.Env, "DMTCP_CONDOR_POOL_NUM_CPUS=4")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(l, "[pool]") {
			fmt.Println("e2e: " + l)
		}
	}
	if err != nil {
		return nil, false, fmt.Sprintf("the pool did not start (%s up: %v):\n%s", script, err, out.String())
	}
	info, err := exec.Command(script, "info").Output()
	if err != nil {
		return nil, false, fmt.Sprintf("%s info: %v", script, err)
	}
	for _, l := range strings.Split(string(info), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "root":
			p.root = v
		case "uid":
			p.uid, _ = strconv.Atoi(v)
		case "gid":
			p.gid, _ = strconv.Atoi(v)
		}
	}
	if p.root == "" || p.uid == 0 {
		return nil, false, fmt.Sprintf("%s info gave no root or uid:\n%s", script, info)
	}
	return p, wasRunning, ""
}

// build compiles the shim, the dmtcp-condor command, the DMTCP test double,
// counter.c, condor-ckpt.c and keep-files.c, and makes the bundles: double, real (when
// installed) and one without DMTCP.
func build(work string) error {
	bin := filepath.Join(work, "bin")
	for _, pkg := range []string{"cmd/shim_dmtcp", "cmd/dmtcp-condor"} {
		cmd := exec.Command("go", "build", "-o", bin+"/", "github.com/dmtcp-condor/dmtcp-condor/"+pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	suite.cli = filepath.Join(bin, "dmtcp-condor")
	shimBin := filepath.Join(bin, "shim_dmtcp")

	suite.counter = filepath.Join(bin, "counter")
	suite.ckptProg = filepath.Join(bin, "condor-ckpt")
	suite.keepProg = filepath.Join(bin, "keep-files")
	for _, c := range []struct{ src, bin string }{{"counter.c", suite.counter}, {"condor-ckpt.c", suite.ckptProg}, {"keep-files.c", suite.keepProg}} {
		if out, err := exec.Command("gcc", "-O", "-o", c.bin, filepath.Join(suite.repo, "testdata", "jobs", c.src)).CombinedOutput(); err != nil {
			return fmt.Errorf("compile %s: %v\n%s", c.src, err, out)
		}
	}

	double := filepath.Join(work, "double")
	if _, err := dmtcptest.BuildDouble(double); err != nil {
		return err
	}
	bundles := filepath.Join(work, "bundles")
	mk := func(name, prefix string) (string, error) {
		dir := filepath.Join(bundles, name)
		if err := os.MkdirAll(filepath.Join(dir, "lib", "dmtcp"), 0o755); err != nil {
			return "", err
		}
		if err := copyFile(shimBin, filepath.Join(dir, "bin", "shim_dmtcp")); err != nil {
			return "", err
		}
		if prefix == "" {
			return dir, nil
		}
		for _, c := range dmtcpCommands {
			if err := copyFile(filepath.Join(prefix, "bin", c), filepath.Join(dir, "bin", c)); err != nil {
				return "", err
			}
		}
		libs, _ := filepath.Glob(filepath.Join(prefix, "lib", "dmtcp", "*.so"))
		if len(libs) == 0 {
			return "", fmt.Errorf("no lib/dmtcp/*.so in %s", prefix)
		}
		for _, l := range libs {
			if err := copyFile(l, filepath.Join(dir, "lib", "dmtcp", filepath.Base(l))); err != nil {
				return "", err
			}
		}
		return dir, nil
	}
	dir, err := mk("double", double)
	if err != nil {
		return err
	}
	suite.installs = []install{{name: "double", bundle: dir}}
	if suite.noDMTCP, err = mk("no-dmtcp", ""); err != nil {
		return err
	}
	ri := install{name: "real"}
	if prefix, why := realDMTCP(); prefix == "" {
		ri.skip = why
	} else if r, _ := dmtcptest.Real(); r.Real {
		if ri.bundle, err = release(prefix, filepath.Join(bundles, "real")); err != nil {
			return fmt.Errorf("dmtcp-condor bundle of %s: %w", prefix, err)
		}
	} else if ri.bundle, err = mk("real", prefix); err != nil {
		// A DMTCP that runs only inside the pool's chroot fails the
		// bundle's self-test here: it is copied by hand instead.
		ri.skip = fmt.Sprintf("cannot bundle the DMTCP at %s: %v", prefix, err)
	}
	suite.installs = append(suite.installs, ri)
	return nil
}

// release makes a bundle of the DMTCP at prefix with "dmtcp-condor
// bundle", as a release does (with a release shim it builds from the
// source tree), and extracts it into dir; it returns the extracted top
// directory. Its lib/runtime/ carries DMTCP's C++ runtime, which the
// pool's node lacks in part (no libatomic1).
func release(prefix, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command(suite.cli, "bundle", "--version", "0.0.0", "--dmtcp-prefix", prefix, "-o", dir)
	cmd.Dir = suite.repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	tarball := filepath.Join(dir, "dmtcp_condor_integration-0.0.0-Any-Any.tar.gz")
	if out, err := exec.Command("tar", "-xzf", tarball, "-C", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("extract %s: %v\n%s", tarball, err, out)
	}
	return filepath.Join(dir, "dmtcp_condor_integration-0.0.0"), nil
}

// realDMTCP finds the real DMTCP the jobs also run against, or says why
// there is none. It need not run on this host: a DMTCP built inside the
// pool's Debian 13 chroot needs that glibc and runs only there, where the
// jobs run; checkRealInChroot has the last word.
func realDMTCP() (prefix, skip string) {
	r, why := dmtcptest.Real()
	if r.Real {
		return r.Prefix, ""
	}
	prefix = os.Getenv("DMTCP_PREFIX")
	if prefix == "" || strings.Contains(why, "test double") {
		return "", why
	}
	if _, err := os.Stat(filepath.Join(prefix, "bin", "dmtcp_launch")); err != nil {
		return "", why
	}
	fmt.Printf("e2e: %s; trying it inside the pool's chroot\n", why)
	return prefix, ""
}

// checkRealInChroot makes sure the real DMTCP runs inside the pool (a DMTCP
// built on the host may need libraries the chroot lacks).
func checkRealInChroot() {
	for i, inst := range suite.installs {
		if inst.skip != "" || inst.name != "real" {
			continue
		}
		// The loader path the shim gives DMTCP on the pool's node: the
		// bundle's libraries that node lacks (the chroot shares /tmp, so
		// the bundle has the same path inside).
		plan, err := runtimelib.Select(inst.bundle, runtimelib.Node{Root: suite.pool.root})
		ldpath := ""
		if err == nil && plan != nil {
			ldpath = plan.LDLibraryPath("")
			fmt.Printf("e2e: the pool's node: %s\n", plan.Summary())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := suite.pool.command(ctx, "run", "", "/usr/bin/env", "LD_LIBRARY_PATH="+ldpath, filepath.Join(inst.bundle, "bin", "dmtcp_launch"), "--version").CombinedOutput()
		cancel()
		switch {
		case err != nil:
			suite.installs[i].skip = fmt.Sprintf("the real DMTCP does not run inside the pool's chroot (%v): %s", err, out)
		case bytes.Contains(out, []byte("test double")):
			suite.installs[i].skip = "DMTCP_PREFIX is the test double, not a real DMTCP"
		}
		fmt.Printf("e2e: real DMTCP: %s\n", strings.SplitN(string(out), "\n", 2)[0])
	}
	for _, inst := range suite.installs {
		if inst.skip != "" {
			fmt.Printf("e2e: %s DMTCP: %s; its subtests are skipped\n", inst.name, inst.skip)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm()|0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// needPool skips t when there is no pool.
func needPool(t *testing.T) *pool {
	t.Helper()
	if suite.skip != "" {
		t.Skip("skipped: " + suite.skip)
	}
	return suite.pool
}

// forEachInstall runs f as parallel subtests against the DMTCP double and
// a real DMTCP, or says why the real one is skipped.
func forEachInstall(t *testing.T, f func(t *testing.T, inst install)) {
	for _, inst := range suite.installs {
		t.Run(inst.name, func(t *testing.T) {
			if inst.skip != "" {
				t.Skip("skipped: " + inst.skip)
			}
			t.Parallel()
			f(t, inst)
		})
	}
}
