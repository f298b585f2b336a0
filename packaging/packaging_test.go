package packaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2/files"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
)

var (
	cliBin, shimBin string
	mtime           = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	os.Setenv(MaintainerEnv, testMaintainer) // for the tests that run the command
	dir, err := os.MkdirTemp("", "packaging-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Any static program stands in for dmtcp-condor here; the cli tests
	// package the real one.
	cliBin, shimBin = filepath.Join(dir, "dmtcp-condor"), filepath.Join(dir, "shim_dmtcp")
	if err := bundle.BuildShim(context.Background(), "", shimBin, runtime.GOARCH, "1.2.0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Link(shimBin, cliBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// testMaintainer is the packages' maintainer in these tests.
const testMaintainer = "Ada Lovelace <ada@example.org>"

func stage(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	a := Assets{
		ManPages: map[string][]byte{"dmtcp-condor.1": []byte(".TH DMTCP-CONDOR 1\n.SH NAME\ndmtcp-condor \\- test\n")},
		Bash:     []byte("# bash completion for dmtcp-condor\n"),
		Zsh:      []byte("#compdef dmtcp-condor\n"),
		Fish:     []byte("# fish completion for dmtcp-condor\n"),
	}
	if err := Stage(dir, a, version, mtime, testMaintainer, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPackagesAreReproducible(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var outs [][]byte
			var names []string
			for i := 0; i < 2; i++ {
				// A fresh staging directory (other paths, other file times) each time.
				res, err := Build(Options{Format: format, Version: "1.2.0", CLI: cliBin, Shim: shimBin, Staged: stage(t, "1.2.0"), MTime: mtime, Maintainer: testMaintainer, OutDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				p := res.Path
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				outs, names = append(outs, data), append(names, filepath.Base(p))
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Errorf("two %s packages of the same inputs differ (%d and %d bytes)", format, len(outs[0]), len(outs[1]))
			}
			want := map[string]string{"deb": "dmtcp-condor_1.2.0-1_" + runtime.GOARCH + ".deb", "rpm": "dmtcp-condor-1.2.0-1."}[format]
			if !strings.HasPrefix(names[0], want) {
				t.Errorf("package name %s, want %s...", names[0], want)
			}
		})
	}
}

func TestStagedContents(t *testing.T) {
	dir := stage(t, "1.2.0")
	c, err := stagedContents(dir, mtime)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // destination+packager -> type
	for _, x := range c {
		got[x.Destination+" "+x.Packager] = x.Type
		if x.FileInfo.Owner != "root" || !x.FileInfo.MTime.Equal(mtime) || x.FileInfo.Mode != 0o644 {
			t.Errorf("%s: %+v", x.Destination, x.FileInfo)
		}
	}
	for _, tt := range []struct{ key, typ string }{
		{"/usr/share/man/man1/dmtcp-condor.1.gz deb", ""},
		{"/usr/share/man/man1/dmtcp-condor.1.gz rpm", files.TypeRPMDoc},
		{"/usr/share/doc/dmtcp-condor/copyright deb", ""},
		{"/usr/share/licenses/dmtcp-condor/LICENSE rpm", files.TypeRPMLicense},
		{"/usr/share/zsh/vendor-completions/_dmtcp-condor deb", ""},
		{"/usr/share/zsh/site-functions/_dmtcp-condor rpm", ""},
		{"/usr/share/bash-completion/completions/dmtcp-condor ", ""},
		{"/usr/share/fish/vendor_completions.d/dmtcp-condor.fish ", ""},
		{"/usr/share/lintian/overrides/dmtcp-condor deb", ""},
		{"/usr/share/dmtcp-condor/templates/job.sub.tmpl ", ""},
		{"/usr/share/dmtcp-condor/templates/job.schema.json ", ""},
		{"/usr/share/dmtcp-condor/examples/example.yaml ", ""},
	} {
		typ, ok := got[tt.key]
		if !ok || typ != tt.typ {
			t.Errorf("%s: present %v, type %q; want type %q", tt.key, ok, typ, tt.typ)
		}
	}
	if len(got) != 12 {
		t.Errorf("%d staged entries, want 12: %v", len(got), got)
	}
	man, _ := os.ReadFile(filepath.Join(dir, "common/usr/share/man/man1/dmtcp-condor.1.gz"))
	// gzip: no name, no time, XFL 2 (best compression), as lintian wants.
	if len(man) < 10 || man[3]&0x08 != 0 || !bytes.Equal(man[4:8], []byte{0, 0, 0, 0}) || man[8] != 2 {
		t.Errorf("man page gzip header % x", man[:10])
	}
}

func TestPackageVersion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"1.2.0", "1.2.0-1"},
		{"v1.2.0", "1.2.0-1"},
		{"1.2.0-rc1", "1.2.0~rc1-1"},
		{"0.0.0-SNAPSHOT-abc1234", "0.0.0~SNAPSHOT-abc1234-1"},
	} {
		if got := PackageVersion(tt.in); got != tt.want {
			t.Errorf("PackageVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The changelog names the version the package installs, in both formats.
func TestChangelogMatchesVersion(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("skipped: dpkg-deb is not installed (apt-get install dpkg)")
	}
	res, err := Build(Options{Format: "deb", Version: "1.2.0-rc1", CLI: cliBin, Shim: shimBin, Staged: stage(t, "1.2.0-rc1"), MTime: mtime, Maintainer: testMaintainer, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Path
	out, err := exec.Command("dpkg-deb", "-f", p, "Version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "1.2.0~rc1-1" {
		t.Errorf("Version field %q (%v)", out, err)
	}
	log, err := exec.Command("sh", "-c", "dpkg-deb --fsys-tarfile "+p+" | tar xO ./usr/share/doc/dmtcp-condor/changelog.Debian.gz | gunzip").Output()
	if err != nil || !strings.HasPrefix(string(log), "dmtcp-condor (1.2.0~rc1-1) unstable; urgency=medium") {
		t.Errorf("changelog.Debian:\n%s (%v)", log, err)
	}
}

func TestBuildRefuses(t *testing.T) {
	dir := stage(t, "1.2.0")
	for _, tt := range []struct {
		name  string
		o     Options
		want  string
		input string // the field a *bundle.InputError names, if any
	}{
		{"bad format", Options{Format: "apk"}, "use deb or rpm", "Format"},
		{"no mtime", Options{Format: "deb", MTime: time.Time{}}, "SOURCE_DATE_EPOCH", ""},
		{"cli not ELF", Options{Format: "deb", CLI: filepath.Join(dir, ChangelogFile)}, "the dmtcp-condor binary", "CLI"},
		{"no staged files", Options{Format: "deb", Staged: t.TempDir()}, "Stage writes them", ""},
		{"bad maintainer", Options{Format: "deb", Maintainer: "nobody"}, `maintainer "nobody" is not 'Name <email>'`, "Maintainer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Version = "1.2.0"
			if o.CLI == "" {
				o.CLI = cliBin
			}
			o.Shim = shimBin
			if o.Maintainer == "" {
				o.Maintainer = testMaintainer
			}
			if o.Staged == "" {
				o.Staged = dir
			}
			if tt.name != "no mtime" {
				o.MTime = mtime
			}
			o.OutDir = t.TempDir()
			_, err := Build(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
			var in *bundle.InputError
			if got := errors.As(err, &in); got != (tt.input != "") || got && in.Input != tt.input {
				t.Errorf("err = %#v, want an InputError for %q", err, tt.input)
			}
		})
	}
}
