package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const layouts = "../testdata/dmtcp-layouts"

var (
	shimBin string            // shim_dmtcp built for these tests, version 1.2.0
	double  dmtcptest.Install // the DMTCP test double
	mtime   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bundle-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shimBin = filepath.Join(dir, "shim_dmtcp")
	if err := BuildShim(context.Background(), "", shimBin, runtime.GOARCH, "1.2.0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if double, err = dmtcptest.BuildDouble(filepath.Join(dir, "double")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// locate finds the complete install at prefix and learns its version.
func locate(t *testing.T, prefix string) *dmtcp.Install {
	t.Helper()
	in, err := dmtcp.Locate(dmtcp.Search{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	in.Identify(context.Background())
	return in
}

func fakeOpt(t *testing.T) *dmtcp.Install {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(layouts, "opt", "opt", "dmtcp"))
	if err != nil {
		t.Fatal(err)
	}
	return locate(t, p)
}

func build(t *testing.T, o Options) *Result {
	t.Helper()
	if o.Version == "" {
		o.Version = "1.2.0"
	}
	if o.Shim == "" {
		o.Shim = shimBin
	}
	if o.MTime.IsZero() {
		o.MTime = mtime
	}
	if o.OutDir == "" {
		o.OutDir = t.TempDir()
	}
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return res
}

func TestBundleIsReproducible(t *testing.T) {
	in := locate(t, double.Prefix)
	a := build(t, Options{Install: in})
	// Different source mtimes and another output directory change nothing.
	for _, p := range append(in.Programs, in.Libraries...) {
		if err := os.Chtimes(p, time.Now(), time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b := build(t, Options{Install: in})
	da, _ := os.ReadFile(a.Path)
	db, _ := os.ReadFile(b.Path)
	if !bytes.Equal(da, db) || a.SHA256 != b.SHA256 {
		t.Fatalf("two bundles of the same inputs differ: %s (%d bytes) vs %s (%d bytes)", a.SHA256, len(da), b.SHA256, len(db))
	}
	if filepath.Base(a.Path) != "dmtcp_condor_integration-1.2.0-Any-Any.tar.gz" {
		t.Errorf("default name %s", filepath.Base(a.Path))
	}
	c := build(t, Options{Install: in, MTime: mtime.Add(time.Second)})
	if c.SHA256 == a.SHA256 {
		t.Error("another mtime gave the same bytes: the mtime is not in the tarball")
	}
}

// header is one tar entry as the golden file lists it.
func headers(t *testing.T, tarball string) ([]*tar.Header, map[string][]byte) {
	t.Helper()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var hs []*tar.Header
	data := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		data[h.Name] = b
		hs = append(hs, h)
	}
	return hs, data
}

func TestBundleEntriesModesOwners(t *testing.T) {
	in := fakeOpt(t)
	res := build(t, Options{Install: in})
	hs, data := headers(t, res.Path)
	var listing strings.Builder
	prev := ""
	for _, h := range hs {
		if h.Name <= prev {
			t.Errorf("%s comes after %s: entries are not sorted", h.Name, prev)
		}
		prev = h.Name
		if err := checkName("dmtcp_condor_integration-1.2.0", h.Name); err != nil && h.Name != "dmtcp_condor_integration-1.2.0/" {
			t.Error(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s owned by %d:%d %s:%s", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(mtime) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s times %v %v %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		typ := "-"
		if h.Typeflag == tar.TypeDir {
			typ = "d"
		}
		fmt.Fprintf(&listing, "%s %04o %s\n", typ, h.Mode, h.Name)
	}
	golden := filepath.Join("testdata", "opt-entries.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(listing.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if listing.String() != string(want) {
		t.Errorf("entries differ from %s (go test ./bundle -update rewrites it):\n%s", golden, listing.String())
	}
	// Private nothing: no path of this machine in the files the bundle writes.
	top := "dmtcp_condor_integration-1.2.0/"
	for _, name := range []string{"README", "VERSION", "job.yaml", "job.sub", "SHA256SUMS"} {
		text := string(data[top+name])
		for _, private := range []string{in.Prefix, filepath.Dir(shimBin), os.TempDir() + "/"} {
			if strings.Contains(text, private) {
				t.Errorf("%s mentions %s", name, private)
			}
		}
	}
	sub := string(data[top+"job.sub"])
	for _, want := range []string{"executable = bin/shim_dmtcp", "--dmtcp-prefix .", "transfer_input_files = examples/count.sh, bin, lib"} {
		if !strings.Contains(sub, want) {
			t.Errorf("job.sub lacks %q:\n%s", want, sub)
		}
	}
	if got := string(data[top+"VERSION"]); got != "1.2.0\n" {
		t.Errorf("VERSION = %q", got)
	}
	if !strings.Contains(res.Verified, "bin/dmtcp_launch --version: dmtcp_launch (DMTCP) 4.2.0") ||
		!strings.Contains(res.Verified, "bin/shim_dmtcp --version: shim_dmtcp 1.2.0") || strings.Contains(res.Verified, "warning") {
		t.Errorf("Verified = %q", res.Verified)
	}
}

// Fedora's lib64/dmtcp and DMTCP 2.x's lib/dmtcp/mtcp_restart both land
// where DMTCP looks for them in a bundle.
func TestBundleNormalisesLayouts(t *testing.T) {
	for _, tt := range []struct {
		layout, prefix string
		want           []string
	}{
		{"fedora", "usr", []string{"bin/dmtcp_launch", "bin/mtcp_restart", "lib/dmtcp/libdmtcp.so", "lib/dmtcp/libdmtcp_pid.so"}},
		{"dmtcp2", "opt/dmtcp-2.2.1", []string{"bin/dmtcp_launch", "lib/dmtcp/mtcp_restart", "lib/dmtcp/libdmtcp.so", "doc/dmtcp/COPYING"}},
	} {
		t.Run(tt.layout, func(t *testing.T) {
			p, _ := filepath.Abs(filepath.Join(layouts, tt.layout, tt.prefix))
			in, err := dmtcp.Locate(dmtcp.Search{Prefix: p})
			if err != nil {
				t.Fatal(err)
			}
			in.DetectVersion()
			files, err := dmtcpEntries(in)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, e := range files {
				names[e.name] = true
			}
			for _, w := range tt.want {
				if !names[w] {
					t.Errorf("no %s among %v", w, names)
				}
			}
		})
	}
}

func TestBundleRefuses(t *testing.T) {
	broken, _ := filepath.Abs(filepath.Join(layouts, "broken", "opt", "dmtcp"))
	launch := filepath.Join(broken, "bin", "dmtcp_launch")
	incomplete, err := dmtcp.Inspect(launch, "test")
	if err != nil {
		t.Fatal(err)
	}
	in := fakeOpt(t)
	for _, tt := range []struct {
		name  string
		o     Options
		want  string
		input string // the field a *InputError names, if any
	}{
		{"incomplete DMTCP", Options{Install: incomplete}, "has no bin/dmtcp_command", "Install"},
		{"dynamic shim", Options{Install: in, Shim: "/bin/true"}, "shim_dmtcp /bin/true is not static", "Shim"},
		{"shim not ELF", Options{Install: in, Shim: launch}, "not an ELF program", "Shim"},
		{"slash in name", Options{Install: in, NameTemplate: "x/{{.Version}}.tar.gz"}, "not a file name", "NameTemplate"},
		{"unknown field", Options{Install: in, NameTemplate: "{{.Platform}}.tar.gz"}, `name template "{{.Platform}}.tar.gz"`, "NameTemplate"},
		{"bad version", Options{Install: in, Version: "1.2 beta"}, `"1.2 beta" is not a release version`, "Version"},
		{"no mtime", Options{Install: in, MTime: time.Time{}}, "SOURCE_DATE_EPOCH", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			if o.Version == "" {
				o.Version = "1.2.0"
			}
			if o.Shim == "" {
				o.Shim = shimBin
			}
			if tt.name != "no mtime" {
				o.MTime = mtime
			}
			o.OutDir = t.TempDir()
			_, err := Build(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
			var bad *InputError
			if got := errors.As(err, &bad); got != (tt.input != "") || got && bad.Input != tt.input {
				t.Errorf("err = %#v, want an InputError for %q", err, tt.input)
			}
		})
	}
}

func TestBundleNameTemplate(t *testing.T) {
	in := fakeOpt(t)
	res := build(t, Options{Install: in, NameTemplate: "dmtcp_condor_integration-{{.Version}}-{{.Arch}}-{{.OS}}-dmtcp{{.DMTCPVersion}}.tar.gz"})
	if got := filepath.Base(res.Path); got != "dmtcp_condor_integration-1.2.0-noarch-Linux-dmtcp4.2.0.tar.gz" {
		t.Errorf("name %s", got)
	}
}

// shimEnv is an environment in which only the bundle can provide DMTCP.
func shimEnv(t *testing.T) []string {
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "DMTCP_TMPDIR=" + t.TempDir()}
	if v := os.Getenv("TMPDIR"); v != "" {
		env = append(env, "TMPDIR="+v)
	}
	return env
}

func TestExtractedShimFindsBundledDMTCP(t *testing.T) {
	in := locate(t, double.Prefix)
	res := build(t, Options{Install: in})
	top, err := extract(context.Background(), res.Path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// An HTCondor sandbox: the submit file transfers bin and lib, runs the shim with --dmtcp-prefix ".".
	sandbox := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join(top, "bin"), filepath.Join(top, "lib"), sandbox).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	for _, tt := range []struct {
		name, shim, cwd string
		opts            []string
		found           string
	}{
		{"beside the shim", filepath.Join(top, "bin", "shim_dmtcp"), t.TempDir(), nil, top},
		{"sandbox, --dmtcp-prefix .", filepath.Join(sandbox, "bin", "shim_dmtcp"), sandbox, []string{"--dmtcp-prefix", "."}, sandbox},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"--log", "shim.log"}, tt.opts...), "--", "/bin/true")
			cmd := exec.Command(tt.shim, args...)
			cmd.Dir, cmd.Env = tt.cwd, shimEnv(t)
			out, err := cmd.CombinedOutput()
			log, _ := os.ReadFile(filepath.Join(tt.cwd, "shim.log"))
			if err != nil {
				t.Fatalf("shim: %v\n%s\nlog:\n%s", err, out, log)
			}
			if want := "DMTCP 4.2.0 at " + tt.found + " "; !strings.Contains(string(log), want) {
				t.Errorf("the shim did not use the bundled DMTCP (%q):\n%s", want, log)
			}
		})
	}
}

// With a real DMTCP: a bundle made from it checkpoints and restarts a job
// from the extracted directory alone.
func TestRealDMTCPBundleRunsJob(t *testing.T) {
	real, why := dmtcptest.Real()
	if !real.Real {
		t.Skip("skipped: " + why)
	}
	in := locate(t, real.Prefix)
	start := time.Now()
	res := build(t, Options{Install: in})
	t.Logf("bundle of real DMTCP %s: %d bytes in %v; %s", in.Version, res.Size, time.Since(start).Round(time.Millisecond), res.Verified)
	top, err := extract(context.Background(), res.Path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	job := t.TempDir()
	jobs, _ := filepath.Abs(filepath.Join("..", "testdata", "jobs"))
	if out, err := exec.Command("gcc", "-O", "-I", jobs, "-o", filepath.Join(job, "counter"), filepath.Join(jobs, "counter.c")).CombinedOutput(); err != nil {
		t.Fatalf("compile counter.c: %v\n%s", err, out)
	}
	env := shimEnv(t)
	run := func(vacateAfter time.Duration) (int, string) {
		cmd := exec.Command(filepath.Join(top, "bin", "shim_dmtcp"), "--log", "shim.log", "--stdout", "job.out", "--stderr", "job.err",
			"--", "./counter", "60", "30", "0")
		cmd.Dir, cmd.Env = job, env
		return runShim(t, cmd, vacateAfter)
	}
	if code, stderr := run(900 * time.Millisecond); code != 85 {
		log, _ := os.ReadFile(filepath.Join(job, "shim.log"))
		t.Fatalf("vacate: exit %d, want 85 (checkpointed)\n%s\n%s", code, stderr, log)
	}
	if code, stderr := run(0); code != 0 {
		log, _ := os.ReadFile(filepath.Join(job, "shim.log"))
		t.Fatalf("restart: exit %d\n%s\n%s", code, stderr, log)
	}
	var want strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	want.WriteString("done\n")
	got, _ := os.ReadFile(filepath.Join(job, "job.out"))
	if string(got) != want.String() {
		t.Errorf("job.out after a vacate and a restart differs from an uninterrupted run:\n%s", got)
	}
	log, _ := os.ReadFile(filepath.Join(job, "shim.log"))
	if !strings.Contains(string(log), "at "+top+" ") {
		t.Errorf("the shim did not use the extracted bundle at %s:\n%s", top, log)
	}
}

func TestCheckName(t *testing.T) {
	const top = "dmtcp_condor_integration-1.2.0"
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{top + "/bin/shim_dmtcp", true},
		{top + "/lib/dmtcp/", true},
		{"/etc/passwd", false},
		{top + "/../escape", false},
		{top + "/bin/../../x", false},
		{top + "//double", false},
		{"other/bin/x", false},
		{top + "/./x", false},
	} {
		if err := checkName(top, tt.name); (err == nil) != tt.ok {
			t.Errorf("checkName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// runShim runs a shim command, asking it to leave (SIGINT, HTCondor's
// kill_sig) after vacateAfter when that is not 0, and returns its exit
// code and stderr.
func runShim(t *testing.T, cmd *exec.Cmd, vacateAfter time.Duration) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if vacateAfter > 0 {
		time.AfterFunc(vacateAfter, func() { _ = cmd.Process.Signal(syscall.SIGINT) })
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
