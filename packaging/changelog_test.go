package packaging

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/goreleaser/chglog"
	"gopkg.in/yaml.v3"
)

func TestMaintainer(t *testing.T) {
	repo := t.TempDir()
	if _, err := exec.LookPath("git"); err == nil {
		for _, args := range [][]string{{"init", "-q"}, {"config", "user.name", "Git User"}, {"config", "user.email", "git@example.org"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir = repo
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
	}
	for _, tt := range []struct {
		name, flag string
		env        map[string]string
		dir, want  string // want "" for an error
		err        string
	}{
		{"flag wins", "Flag Person <flag@example.org>", map[string]string{MaintainerEnv: "Env <env@example.org>"}, repo, "Flag Person <flag@example.org>", ""},
		{"environment", "", map[string]string{MaintainerEnv: "Env Person <env@example.org>", "DEBEMAIL": "d@example.org", "DEBFULLNAME": "D"}, repo, "Env Person <env@example.org>", ""},
		{"Debian's variables", "", map[string]string{"DEBEMAIL": "deb@example.org", "DEBFULLNAME": "Deb Person"}, repo, "Deb Person <deb@example.org>", ""},
		{"git identity, the default", "", nil, repo, "Git User <git@example.org>", ""},
		{"nothing", "", nil, t.TempDir(), "", "give one as 'Name <email>', set $DMTCP_CONDOR_MAINTAINER"},
		{"no address", "Just A Name", nil, repo, "", `maintainer "Just A Name" is not 'Name <email>'`},
		{"newline", "A <a@example.org>\nDepends: evil", nil, repo, "", "is not 'Name <email>'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// No global git identity may leak in from this machine.
			t.Setenv("HOME", t.TempDir())
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			got, err := Maintainer(context.Background(), tt.flag, func(k string) string { return tt.env[k] }, tt.dir)
			if tt.want != "" && (err != nil || got != tt.want) {
				t.Errorf("Maintainer = %q, %v; want %q", got, err, tt.want)
			}
			if tt.want == "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Maintainer = %q, %v; want an error containing %q", got, err, tt.err)
			}
			// What the caller gave, or its absence, is the caller's to
			// name: an InputError a command maps to its flag.
			var in *bundle.InputError
			if tt.want == "" && tt.flag != "" || tt.name == "nothing" {
				if !errors.As(err, &in) || in.Input != "Maintainer" {
					t.Errorf("Maintainer error %v is not an InputError for Maintainer", err)
				}
			}
		})
	}
}

// The changelog comes from git: an entry per release tag with its commits'
// subjects, and one for an untagged version with the commits since the
// newest tag; outside git, one entry for the version.
func TestChangelogFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipped: git is not installed")
	}
	repo := t.TempDir()
	git := func(date string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("", "init", "-q")
	git("@1700000000 +0000", "commit", "-q", "--allow-empty", "-m", "first feature", "-m", "A body that stays in git.")
	git("", "tag", "v1.0.0")
	git("@1700100000 +0000", "commit", "-q", "--allow-empty", "-m", "fix a bug")
	git("@1700200000 +0000", "commit", "-q", "--allow-empty", "-m", "second feature")
	git("@1700250000 +0000", "commit", "-q", "--allow-empty", "-m", "a subject far longer than the eighty columns of a Debian changelog line, which lintian flags")
	mtime := time.Unix(1700300000, 0)
	for _, tt := range []struct {
		name, dir, version string
		want               []string // "version: note | note" per entry, newest first
	}{
		{"untagged release", repo, "1.1.0", []string{"1.1.0-1: a subject far longer than the eighty columns of a Debian changelog line... | second feature | fix a bug", "1.0.0-1: first feature"}},
		{"tagged release", repo, "1.0.0", []string{"1.0.0-1: first feature"}},
		{"prerelease", repo, "1.1.0-rc1", []string{"1.1.0~rc1-1: a subject far longer than the eighty columns of a Debian changelog line... | second feature | fix a bug", "1.0.0-1: first feature"}},
		{"not a git checkout", t.TempDir(), "1.1.0", []string{"1.1.0-1: Release 1.1.0."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "tagged release" {
				// The tag is the release being built: HEAD is v1.0.0.
				git("", "checkout", "-q", "v1.0.0")
				defer git("", "checkout", "-q", "-")
			}
			data, err := changelogYAML(tt.dir, tt.version, mtime, "Ada <ada@example.org>")
			if err != nil {
				t.Fatal(err)
			}
			var entries chglog.ChangeLogEntries
			if err := yaml.Unmarshal(data, &entries); err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			var got []string
			for _, e := range entries {
				var notes []string
				for _, c := range e.Changes {
					notes = append(notes, c.Note)
				}
				got = append(got, e.Semver+": "+strings.Join(notes, " | "))
				if e.Packager != "Ada <ada@example.org>" || e.Deb == nil || e.Deb.Urgency != "medium" {
					t.Errorf("entry %s: packager %q, deb %+v", e.Semver, e.Packager, e.Deb)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("changelog:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The .rpm's description is the long text alone; the .deb's starts with
// the synopsis, and neither has Debian's " ." in its text.
func TestDescriptions(t *testing.T) {
	o := Options{Version: "1.2.0", CLI: cliBin, Shim: shimBin, Staged: stage(t, "1.2.0"), MTime: time.Unix(1714564800, 0), Maintainer: testMaintainer}
	for _, tt := range []struct{ format, first string }{
		{"deb", "run HTCondor jobs under DMTCP checkpointing"},
		{"rpm", "dmtcp-condor writes HTCondor submit files that run an unmodified Linux"},
	} {
		info, err := o.info("amd64", tt.format)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(info.Description, "\n")
		if first != tt.first || strings.Contains(info.Description, " .") || strings.Contains(info.Description, Summary) {
			t.Errorf("%s description:\n%s", tt.format, info.Description)
		}
	}
}
