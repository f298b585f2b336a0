package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
	"github.com/dmtcp-condor/dmtcp-condor/packaging"
)

var (
	releaseDir  string // removed by TestMain
	releaseOnce sync.Once
	releaseErr  error
	debs        sync.Map // format -> the package built once for every test that only reads it
)

func TestMain(m *testing.M) {
	// The packages' maintainer, which a machine's git identity would
	// otherwise give (or not, on CI).
	os.Setenv(packaging.MaintainerEnv, "Ada Lovelace <ada@example.org>")
	code := m.Run()
	if releaseDir != "" {
		os.RemoveAll(releaseDir)
	}
	os.Exit(code)
}

// releaseBinaries builds shim_dmtcp and dmtcp-condor as a release does
// (static, stripped, version 1.2.0), once per test run.
func releaseBinaries(t *testing.T) (shim, tool string) {
	t.Helper()
	releaseOnce.Do(func() {
		if releaseDir, releaseErr = os.MkdirTemp("", "cli-release-"); releaseErr != nil {
			return
		}
		if releaseErr = bundle.BuildShim(context.Background(), "", filepath.Join(releaseDir, "shim_dmtcp"), runtime.GOARCH, "1.2.0"); releaseErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid= -X main.version=1.2.0",
			"-o", filepath.Join(releaseDir, "dmtcp-condor"), "github.com/dmtcp-condor/dmtcp-condor/cmd/dmtcp-condor")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			releaseErr = fmt.Errorf("build dmtcp-condor: %v\n%s", err, out)
		}
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	return filepath.Join(releaseDir, "shim_dmtcp"), filepath.Join(releaseDir, "dmtcp-condor")
}

// buildPackage runs "dmtcp-condor package" and returns the package's path.
func buildPackage(t *testing.T, format, dir string) string {
	t.Helper()
	shim, tool := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	code, out, errOut := run(t, "", "package", "--format", format, "--version", "1.2.0", "--cli", tool, "--shim", shim, "-o", dir, "-q")
	if code != 0 {
		t.Fatalf("package --format %s: exit %d: %s", format, code, errOut)
	}
	return strings.TrimSpace(out)
}

// builtPackage is one package of each format, shared by the tests that
// only inspect it (building one takes seconds).
func builtPackage(t *testing.T, format string) string {
	t.Helper()
	if p, ok := debs.Load(format); ok {
		return p.(string)
	}
	releaseBinaries(t) // sets releaseDir, whichever test comes first
	p := buildPackage(t, format, filepath.Join(releaseDir, format))
	debs.Store(format, p)
	return p
}

// need skips the test when a program it checks packages with is missing.
func need(t *testing.T, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("skipped: %s is not installed (apt-get install lintian rpm rpmlint dpkg util-linux)", p)
		}
	}
}

// asNobody runs a linter as an unprivileged user: rpmlint run as root
// unpacks the package's absolute paths into the real /. The package's
// directories are opened to that user first, and it gets a scratch
// directory of its own (lintian writes temporary files into its working
// directory, and /tmp is not always writable by everyone).
func asNobody(t *testing.T, pkg string, args ...string) (string, error) {
	t.Helper()
	// Only directories strictly below the temporary root: /tmp itself must
	// keep its sticky, world-writable mode.
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Dir(pkg); d != "/" && d != "."; d = filepath.Dir(d) {
		if strings.HasPrefix(d, tmp+string(filepath.Separator)) {
			_ = os.Chmod(d, 0o755)
		}
	}
	scratch, err := os.MkdirTemp("", "cli-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scratch) })
	if err := os.Chmod(scratch, 0o1777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	if os.Getuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "nobody", "--"}, args...)...)
	}
	cmd.Dir = scratch
	cmd.Env = append(os.Environ(), "HOME="+scratch, "TMPDIR="+scratch)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var modes []string
		for d := pkg; d != "/" && d != "."; d = filepath.Dir(d) {
			if st, e := os.Stat(d); e == nil {
				modes = append(modes, fmt.Sprintf("%s %v", d, st.Mode()))
			}
		}
		t.Logf("as nobody in %s: %v (modes: %s)", scratch, args, strings.Join(modes, ", "))
	}
	return string(out), err
}

func TestPackageIsReproducible(t *testing.T) {
	a := builtPackage(t, "deb")
	b := buildPackage(t, "deb", t.TempDir())
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Errorf("two .deb of the same inputs differ: man pages or completions are not stable")
	}
}

// wantFiles are where the package puts things, in both formats.
var wantFiles = []string{
	"/usr/bin/dmtcp-condor",
	"/usr/libexec/dmtcp-condor/shim_dmtcp",
	"/usr/share/dmtcp-condor/templates/job.sub.tmpl",
	"/usr/share/dmtcp-condor/templates/job.schema.json",
	"/usr/share/dmtcp-condor/examples/example.yaml",
	"/usr/share/man/man1/dmtcp-condor.1.gz",
	"/usr/share/man/man1/dmtcp-condor-bundle.1.gz",
	"/usr/share/bash-completion/completions/dmtcp-condor",
	"/usr/share/fish/vendor_completions.d/dmtcp-condor.fish",
}

func TestPackageDeb(t *testing.T) {
	need(t, "dpkg-deb", "lintian", "runuser")
	deb := builtPackage(t, "deb")
	info, err := exec.Command("dpkg-deb", "-I", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -I: %v\n%s", err, info)
	}
	for _, w := range []string{"Package: dmtcp-condor", "Version: 1.2.0-1", "Depends: dmtcp", "Section: utils"} {
		if !strings.Contains(string(info), w) {
			t.Errorf("control lacks %q:\n%s", w, info)
		}
	}
	list, err := exec.Command("dpkg-deb", "-c", deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v\n%s", err, list)
	}
	for _, w := range append(wantFiles, "/usr/share/zsh/vendor-completions/_dmtcp-condor", "/usr/share/doc/dmtcp-condor/copyright", "/usr/share/doc/dmtcp-condor/changelog.Debian.gz") {
		if !strings.Contains(string(list), " ."+w+"\n") {
			t.Errorf("no %s in the .deb", w)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if f := strings.Fields(line); len(f) < 2 || (f[1] != "root/root" && f[1] != "0/0") {
			t.Errorf("not owned by root: %s", line)
		}
	}
	if out, err := asNobody(t, deb, "lintian", "--fail-on", "error,warning,info,pedantic", "--pedantic", deb); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("lintian: %v\n%s", err, out)
	}
}

// The .deb installs (dmtcp is not packaged for Debian 12, hence
// --force-depends), its programs run from where they were installed, and
// it purges without a trace.
func TestPackageDebInstallsAndPurges(t *testing.T) {
	need(t, "dpkg")
	if os.Getuid() != 0 {
		t.Skip("skipped: dpkg -i needs root")
	}
	if err := exec.Command("dpkg", "-s", "dmtcp-condor").Run(); err == nil {
		t.Skip("skipped: dmtcp-condor is installed on this machine; the test would replace it")
	}
	deb := builtPackage(t, "deb")
	if out, err := exec.Command("dpkg", "--force-depends", "-i", deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("dpkg", "--purge", "dmtcp-condor").Run() })
	for prog, want := range map[string]string{
		"/usr/bin/dmtcp-condor":                "dmtcp-condor version 1.2.0",
		"/usr/libexec/dmtcp-condor/shim_dmtcp": "shim_dmtcp 1.2.0",
	} {
		out, err := exec.Command(prog, "--version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s --version: %q (%v), want %q", prog, out, err, want)
		}
	}
	// The README's main job, run as a user of the package would: the installed
	// tool with neither the go command nor a shim on PATH, outside the source
	// tree, so that only the packaged shim can serve.
	dmtcp, _ := dmtcptest.Real()
	if !dmtcp.Real {
		var err error
		if dmtcp, err = dmtcptest.BuildDouble(filepath.Join(t.TempDir(), "dmtcp")); err != nil {
			t.Fatal(err)
		}
	}
	demo := exec.Command("/usr/bin/dmtcp-condor", "demo", "--steps", "30", "--dmtcp-prefix", dmtcp.Prefix)
	demo.Dir = t.TempDir()
	demo.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + demo.Dir, "TMPDIR=" + demo.Dir}
	out, err := demo.CombinedOutput()
	for _, want := range []string{"shim:  /usr/libexec/dmtcp-condor/shim_dmtcp\n", "output identical to an uninterrupted run: yes"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("the installed dmtcp-condor demo (DMTCP %s at %s): %v, want %q in:\n%s", dmtcp.Name, dmtcp.Prefix, err, want, out)
		}
	}
	if out, err := exec.Command("dpkg", "--purge", "dmtcp-condor").CombinedOutput(); err != nil {
		t.Fatalf("dpkg --purge: %v\n%s", err, out)
	}
	for _, f := range append(wantFiles, "/usr/libexec/dmtcp-condor", "/usr/share/dmtcp-condor", "/usr/share/doc/dmtcp-condor") {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s is left after dpkg --purge", f)
		}
	}
}

func TestPackageRPM(t *testing.T) {
	need(t, "rpm", "rpmlint", "runuser")
	rpmFile := builtPackage(t, "rpm")
	info, err := exec.Command("rpm", "-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{LICENSE}\n[%{REQUIRENAME}\n]", rpmFile).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(info), "dmtcp-condor 1.2.0-1 Apache-2.0\n") || !strings.Contains(string(info), "\ndmtcp\n") {
		t.Errorf("rpm -qp: %v\n%s", err, info)
	}
	root := t.TempDir()
	if out, err := exec.Command("rpm", "-i", "--root", root, "--nodeps", "--noscripts", rpmFile).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i --root: %v\n%s", err, out)
	}
	for _, w := range append(wantFiles, "/usr/share/zsh/site-functions/_dmtcp-condor", "/usr/share/licenses/dmtcp-condor/LICENSE") {
		if _, err := os.Stat(filepath.Join(root, w)); err != nil {
			t.Errorf("not installed into the throwaway root: %v", err)
		}
	}
	out, err := exec.Command(filepath.Join(root, "usr/libexec/dmtcp-condor/shim_dmtcp"), "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "shim_dmtcp 1.2.0" {
		t.Errorf("installed shim --version: %q (%v)", out, err)
	}
	config, _ := filepath.Abs(filepath.Join("..", "packaging", "rpmlint.toml"))
	lint, err := asNobody(t, rpmFile, "rpmlint", "-c", config, rpmFile)
	if err != nil || !strings.Contains(lint, "0 errors, 0 warnings") {
		t.Errorf("rpmlint: %v\n%s", err, lint)
	}
}

func TestPackageStage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	dir := t.TempDir()
	code, _, errOut := run(t, "", "package", "--stage", dir, "--version", "1.2.0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	for _, w := range []string{"changelog.yml", "common/usr/share/man/man1/dmtcp-condor-locate.1.gz", "deb/usr/share/lintian/overrides/dmtcp-condor", "rpm/usr/share/zsh/site-functions/_dmtcp-condor"} {
		if i := sort.SearchStrings(got, w); i == len(got) || got[i] != w {
			t.Errorf("no %s among %v", w, got)
		}
	}
}

func TestPackageBadFormat(t *testing.T) {
	code, _, errOut := run(t, "", "package", "--format", "apk", "--version", "1.2.0")
	if code != 1 || !strings.Contains(errOut, `--format "apk": use deb or rpm`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// package never holds a development build: without --cli it builds the
// tool from the source tree as a release (the running test binary is
// not one), and a --cli that is a development build or another version
// is refused naming the flag. The summary says what was written and
// checked.
func TestPackageReleaseBinaries(t *testing.T) {
	need(t, "dpkg-deb")
	shim, tool := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	dev := filepath.Join(t.TempDir(), "dmtcp-condor")
	if out, err := exec.Command("go", "build", "-o", dev, "github.com/dmtcp-condor/dmtcp-condor/cmd/dmtcp-condor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name    string
		args    []string
		version string
		want    string // in stderr
		fails   bool
	}{
		{"built from source", []string{"--shim", shim}, "1.2.0", "checked: built from source for " + runtime.GOARCH + " (dmtcp-condor: static, stripped, -trimpath, --version says 1.2.0)", false},
		{"release --cli", []string{"--cli", tool, "--shim", shim}, "1.2.0", "checked: --cli " + tool, false},
		{"development --cli", []string{"--cli", dev, "--shim", shim}, "1.2.0", "package: --cli: dmtcp-condor " + dev + " is not", true},
		{"--cli of another version", []string{"--cli", tool, "--shim", shim}, "1.3.0", `package: --cli: dmtcp-condor ` + tool + ` --version says "dmtcp-condor version 1.2.0", not "dmtcp-condor version 1.3.0"`, true},
		{"--shim of another version", []string{"--cli", tool, "--shim", shim}, "1.3.0-rc1", "--version says", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"package", "--format", "deb", "--version", tt.version, "-o", dir}, tt.args...)
			code, out, errOut := run(t, "", args...)
			if tt.fails {
				if code == 0 || !strings.Contains(errOut, tt.want) {
					t.Errorf("exit %d, stderr %q; want a refusal containing %q", code, errOut, tt.want)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range []string{tt.want, "wrote " + strings.TrimSpace(out) + " (", "sha256 ", "contents: ", " files and ", "shim_dmtcp: static, stripped"} {
				if !strings.Contains(errOut, w) {
					t.Errorf("the summary lacks %q:\n%s", w, errOut)
				}
			}
			root := t.TempDir()
			if b, err := exec.Command("dpkg-deb", "-x", strings.TrimSpace(out), root).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x: %v\n%s", err, b)
			}
			got, err := exec.Command(filepath.Join(root, "usr", "bin", "dmtcp-condor"), "--version").CombinedOutput()
			if err != nil || strings.TrimSpace(string(got)) != "dmtcp-condor version "+tt.version {
				t.Errorf("the packaged dmtcp-condor --version: %q (%v)", got, err)
			}
			if _, err := bundle.CLI.CheckRelease(context.Background(), filepath.Join(root, "usr", "bin", "dmtcp-condor"), runtime.GOARCH, tt.version); err != nil {
				t.Errorf("the packaged tool is not a release build: %v", err)
			}
		})
	}
}
