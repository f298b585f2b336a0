package packaging

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/goreleaser/chglog"
	"gopkg.in/yaml.v3"
)

// MaintainerEnv names the environment variable that gives the packages'
// maintainer when the caller gives none.
const MaintainerEnv = "DMTCP_CONDOR_MAINTAINER"

// Maintainer is the packages' maintainer, "Name <email>", from the first
// of: given (a command's option); $DMTCP_CONDOR_MAINTAINER; Debian's $DEBFULLNAME
// and $DEBEMAIL; the git identity (user.name, user.email) of the checkout
// at dir, which is the documented default: whoever builds the release
// answers for it, at an address that receives mail. An error about given,
// or about finding none, is a *bundle.InputError for "Maintainer".
func Maintainer(ctx context.Context, given string, getenv func(string) string, dir string) (string, error) {
	if given != "" {
		return checkMaintainer(given, "")
	}
	if v := getenv(MaintainerEnv); v != "" {
		return checkMaintainer(v, "$"+MaintainerEnv)
	}
	if name, mail := getenv("DEBFULLNAME"), getenv("DEBEMAIL"); name != "" && mail != "" {
		return checkMaintainer(name+" <"+mail+">", "$DEBFULLNAME and $DEBEMAIL")
	}
	gitConfig := func(key string) string {
		cmd := exec.CommandContext(ctx, "git", "config", key)
		cmd.Dir = dir
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	if name, mail := gitConfig("user.name"), gitConfig("user.email"); name != "" && mail != "" {
		return checkMaintainer(name+" <"+mail+">", "git config user.name and user.email")
	}
	return "", &bundle.InputError{Input: "Maintainer", Err: fmt.Errorf("no maintainer for the package: give one as 'Name <email>', set $%s, or set git config user.name and user.email", MaintainerEnv)}
}

// checkMaintainer insists on "Name <user@host>" on one line: it goes into
// control files and changelogs. from says where m came from when not
// from the caller: an *InputError for "Maintainer" names only those.
func checkMaintainer(m, from string) (string, error) {
	name, rest, ok := strings.Cut(m, " <")
	mail, ok2 := strings.CutSuffix(rest, ">")
	if !ok || !ok2 || strings.TrimSpace(name) == "" || !strings.Contains(mail, "@") || strings.ContainsAny(m, "\n\r") || strings.ContainsAny(mail, " <>") {
		if from == "" {
			return "", &bundle.InputError{Input: "Maintainer", Err: fmt.Errorf("maintainer %q is not 'Name <email>'", m)}
		}
		return "", fmt.Errorf("maintainer %q (from %s) is not 'Name <email>'", m, from)
	}
	return m, nil
}

// changelogYAML is the packages' changelog in chglog's format, built from
// the git history of the checkout at dir: one entry per release tag
// (v1.1.0, ...) with the subjects of its commits, and, unless version is
// tagged already, an entry for version with the commits since the newest
// tag, dated mtime. Outside a git checkout it is a single entry for
// version. Every entry names its package version (1.2.0-1), as lintian
// wants the changelog to name the version it installs.
func changelogYAML(dir, version string, mtime time.Time, maintainer string) ([]byte, error) {
	deb := &chglog.ChangelogDeb{Urgency: "medium", Distributions: []string{"unstable"}}
	entries, err := gitChangelog(dir, version, mtime, maintainer, deb)
	if err != nil {
		entries = chglog.ChangeLogEntries{{
			Semver: version, Date: mtime.UTC(), Packager: maintainer,
			ChangeLogOverridables: chglog.ChangeLogOverridables{Deb: deb},
			Changes:               chglog.ChangeLogChanges{{Note: "Release " + version + "."}},
		}}
	}
	for _, e := range entries {
		e.Semver = PackageVersion(e.Semver)
		e.Date = e.Date.UTC()
		for _, c := range e.Changes {
			// The subject only, cut to fit Debian's 80 columns after
			// "  * " (lintian: debian-changelog-line-too-long); the rest
			// belongs to git.
			c.Note, _, _ = strings.Cut(strings.TrimSpace(c.Note), "\n")
			c.Note = shorten(c.Note, 76)
			c.Author, c.Committer, c.ConventionalCommit = nil, nil, nil
		}
	}
	out, err := yaml.Marshal(entries)
	if err != nil {
		return nil, fmt.Errorf("package: changelog: %w", err)
	}
	return out, nil
}

type versionString string

func (v versionString) String() string { return string(v) }

func gitChangelog(dir, version string, mtime time.Time, maintainer string, deb *chglog.ChangelogDeb) (chglog.ChangeLogEntries, error) {
	// A linked worktree keeps its tags and objects in the common directory.
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, err
	}
	entries, err := chglog.InitChangelog(repo, maintainer, nil, deb, false, true)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Semver == strings.TrimPrefix(version, "v") {
			return entries, nil
		}
	}
	head, err := repo.Head()
	if err != nil {
		return nil, err
	}
	since := plumbing.ZeroHash
	if len(entries) > 0 {
		if since, err = chglog.GitHashFotTag(repo, entries[0].Semver); err != nil {
			return nil, err
		}
	}
	commits, err := chglog.CommitsBetween(repo, head.Hash(), since, true)
	if err != nil {
		return nil, err
	}
	current := chglog.CreateEntry(mtime, versionString(version), maintainer, nil, deb, commits, false)
	if len(commits) == 0 {
		current.Deb = deb
		current.Changes = chglog.ChangeLogChanges{{Note: "Release " + version + ", the same code as " + entries[0].Semver + "."}}
	}
	return append(chglog.ChangeLogEntries{current}, entries...), nil
}

// shorten cuts s at a word boundary to at most n bytes, marking the cut
// with "...".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndex(s[:n-3], " ")
	if cut <= 0 {
		cut = n - 3
	}
	return strings.TrimRight(s[:cut], " ,;:") + "..."
}
