package bundle

import (
	"context"
	"fmt"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// SourceDate is the one timestamp a reproducible bundle or package gives
// every file: $SOURCE_DATE_EPOCH (the reproducible-builds convention);
// else the commit time of the version's tag (v1.2.0 or 1.2.0), or of
// HEAD, in the git checkout at dir; else the commit time the running
// binary was built from. from says which, for progress output. With none
// of them there is no honest timestamp, and the error says how to give one.
func SourceDate(ctx context.Context, getenv func(string) string, dir, version string) (when time.Time, from string, err error) {
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || sec < 0 {
			return time.Time{}, "", fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970; set it to, for example, $(git log -1 --format=%%ct)", s)
		}
		return time.Unix(sec, 0).UTC(), "SOURCE_DATE_EPOCH", nil
	}
	for _, rev := range []string{"v" + version, version, "HEAD"} {
		cmd := exec.CommandContext(ctx, "git", "log", "-1", "--format=%ct", rev+"^{commit}", "--")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			continue
		}
		if sec, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return time.Unix(sec, 0).UTC(), "the commit of " + rev, nil
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC(), "the commit dmtcp-condor was built from", nil
				}
			}
		}
	}
	return time.Time{}, "", fmt.Errorf("no timestamp for a reproducible build: set SOURCE_DATE_EPOCH (seconds since 1970, e.g. $(git log -1 --format=%%ct)) or run inside the project's git checkout")
}
