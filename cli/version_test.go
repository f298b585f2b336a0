package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One validation of --version serves bundle and package: a version that
// would leave -o, inject a control field or be empty is refused before
// anything is written, with an error naming the flag, and nothing appears
// in or beside the output directory.
func TestReleaseVersionRefused(t *testing.T) {
	shim, tool := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	prefix := layout(t, "opt", "opt", "dmtcp")
	commands := map[string][]string{
		"bundle":      {"bundle", "--dmtcp-prefix", prefix, "--shim", shim},
		"package deb": {"package", "--format", "deb", "--cli", tool, "--shim", shim},
		"package rpm": {"package", "--format", "rpm", "--cli", tool, "--shim", shim},
		"stage":       {"package", "--stage"},
	}
	for _, tt := range []struct{ name, version, want string }{
		{"path out of -o", "1/../../../escaped", `--version: "1/../../../escaped" is not a release version`},
		{"dots", "..", `--version: ".." is not a release version`},
		{"newline injects a field", "1.2.0\nPre-Depends: evilpkg", `--version: "1.2.0\nPre-Depends: evilpkg"`},
		{"empty", "", "--version: the release version is empty"},
		{"space", "1.2 beta", "is not a release version"},
		{"leading v", "v1.2.0", "is not a release version"},
		{"trailing separator", "1.2.", "is not a release version"},
	} {
		for cmdName, base := range commands {
			t.Run(tt.name+"/"+cmdName, func(t *testing.T) {
				parent := t.TempDir()
				out := filepath.Join(parent, "a", "b", "c", "out")
				args := append(append([]string{}, base...), "--version", tt.version)
				if cmdName == "stage" {
					args = append(args[:2], append([]string{out}, args[2:]...)...)
				} else {
					args = append(args, "-o", out)
				}
				code, _, errOut := run(t, "", args...)
				if code == 0 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "such as 1.2.0") {
					t.Errorf("exit %d, stderr %q; want an error containing %q", code, errOut, tt.want)
				}
				var written []string
				_ = filepath.Walk(parent, func(p string, info os.FileInfo, err error) error {
					if err == nil && !info.IsDir() {
						written = append(written, p)
					}
					return nil
				})
				if len(written) > 0 {
					t.Errorf("a refused version wrote %v", written)
				}
			})
		}
	}
}
