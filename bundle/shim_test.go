package bundle

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Resolve takes a release build and never a development one: a given
// binary must be one of the right version, a binary at hand is used only
// if it is, and otherwise one is built from source.
func TestResolveShim(t *testing.T) {
	ctx := context.Background()
	// A release archive: dmtcp-condor with shim_dmtcp beside it.
	release := t.TempDir()
	beside := filepath.Join(release, "shim_dmtcp")
	if err := os.Link(shimBin, beside); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(release, "dmtcp-condor")
	// An installed package: /usr/bin/dmtcp-condor and /usr/libexec/dmtcp-condor/shim_dmtcp.
	usr := t.TempDir()
	libexec := filepath.Join(usr, "libexec", "dmtcp-condor")
	if err := os.MkdirAll(libexec, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(shimBin, filepath.Join(libexec, "shim_dmtcp")); err != nil {
		t.Fatal(err)
	}
	// A development build: dynamic (cgo), unstripped, unstamped.
	dev := filepath.Join(t.TempDir(), "shim_dmtcp")
	cmd := exec.Command("go", "build", "-o", dev, ShimPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name    string
		src     Source
		want    string // path, or "" for a built one
		wantHow string // or the error
		fails   bool
	}{
		{"given release", Source{Path: shimBin, GOARCH: runtime.GOARCH, Version: "1.2.0"}, shimBin, shimBin + " (shim_dmtcp: static, stripped, -trimpath, --version says 1.2.0)", false},
		{"given, another version", Source{Path: shimBin, GOARCH: runtime.GOARCH, Version: "1.3.0"}, "", `--version says "shim_dmtcp 1.2.0", not "shim_dmtcp 1.3.0"`, true},
		{"given development build", Source{Path: dev, GOARCH: runtime.GOARCH, Version: "1.2.0"}, "", "is not stripped", true},
		{"given dynamic", Source{Path: "/bin/true", GOARCH: runtime.GOARCH, Version: "1.2.0"}, "", "is not static", true},
		{"given, another arch", Source{Path: shimBin, GOARCH: otherArch(), Version: "1.2.0"}, "", "is for " + runtime.GOARCH, true},
		{"beside", Source{Candidates: ShimCandidates(self), GOARCH: runtime.GOARCH, Version: "1.2.0"}, beside, beside + " (shim_dmtcp: static", false},
		{"libexec", Source{Candidates: ShimCandidates(filepath.Join(usr, "bin", "dmtcp-condor")), GOARCH: runtime.GOARCH, Version: "1.2.0"}, filepath.Join(libexec, "shim_dmtcp"), "", false},
		{"development build beside: built", Source{Candidates: []string{dev}, GOARCH: runtime.GOARCH, Version: "1.2.0"}, "", "built from source for " + runtime.GOARCH, false},
		{"another release's shim beside: built", Source{Candidates: ShimCandidates(self), GOARCH: runtime.GOARCH, Version: "1.3.0"}, "", "built from source for " + runtime.GOARCH, false},
		{"other arch: built", Source{Candidates: ShimCandidates(self), GOARCH: otherArch(), Version: "9.9.9"}, "", "built from source for " + otherArch() + " (shim_dmtcp: static, stripped, -trimpath, holds 9.9.9 (not run: " + otherArch() + "))", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, how, cleanup, err := Shim.Resolve(ctx, tt.src)
			if tt.fails {
				var in *InputError
				if !errors.As(err, &in) || in.Input != "Shim" || !strings.Contains(err.Error(), tt.wantHow) || !strings.Contains(err.Error(), "shim_dmtcp "+tt.src.Path) {
					t.Errorf("err = %v, want an InputError for Shim naming shim_dmtcp %s and %q", err, tt.src.Path, tt.wantHow)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			if !strings.Contains(how, tt.wantHow) {
				t.Errorf("how = %q, want %q", how, tt.wantHow)
			}
			if tt.want != "" && p != tt.want {
				t.Errorf("path = %s, want %s", p, tt.want)
			}
			if tt.want == "" {
				if _, err := Shim.CheckRelease(ctx, p, tt.src.GOARCH, tt.src.Version); err != nil {
					t.Errorf("built %s: %v", p, err)
				}
			}
		})
	}
}

func otherArch() string {
	if runtime.GOARCH == "arm64" {
		return "amd64"
	}
	return "arm64"
}

func TestSourceDate(t *testing.T) {
	ctx := context.Background()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	when, from, err := SourceDate(ctx, env(map[string]string{"SOURCE_DATE_EPOCH": "1714564800"}), t.TempDir(), "1.2.0")
	if err != nil || !when.Equal(time.Unix(1714564800, 0)) || from != "SOURCE_DATE_EPOCH" {
		t.Errorf("SOURCE_DATE_EPOCH: %v %s %v", when, from, err)
	}
	if _, _, err := SourceDate(ctx, env(map[string]string{"SOURCE_DATE_EPOCH": "-1"}), t.TempDir(), "1.2.0"); err == nil {
		t.Error("a negative SOURCE_DATE_EPOCH was accepted")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipped: git is not installed")
	}
	repo := t.TempDir()
	git := func(date string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("", "init", "-q")
	git("@1700000000 +0000", "commit", "-q", "--allow-empty", "-m", "one")
	git("", "tag", "v1.2.0")
	git("@1710000000 +0000", "commit", "-q", "--allow-empty", "-m", "two")
	for _, tt := range []struct {
		version string
		want    int64
		from    string
	}{
		{"1.2.0", 1700000000, "the commit of v1.2.0"},
		{"1.3.0-rc1", 1710000000, "the commit of HEAD"},
	} {
		when, from, err := SourceDate(ctx, env(nil), repo, tt.version)
		if err != nil || when.Unix() != tt.want || from != tt.from {
			t.Errorf("version %s: %v from %q (%v), want %d from %q", tt.version, when.Unix(), from, err, tt.want, tt.from)
		}
	}
}
