package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// The libraries name what is wrong in their own words (an input, a value,
// a file); the commands add which of their flags gave it. Each row is a
// library error as the user reads it: the flag and the library's words.
func TestLibraryErrorsNameTheFlag(t *testing.T) {
	shim, _ := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	t.Setenv("DMTCP_CONDOR_MAINTAINER", "")
	opt := layout(t, "opt", "opt", "dmtcp")
	bundleWith := func(more ...string) []string {
		return append([]string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", opt, "--shim", shim, "-o", t.TempDir()}, more...)
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string // in this order on stderr
	}{
		{"locate, nothing there", []string{"locate", "--dmtcp-prefix", filepath.Join(t.TempDir(), "none")},
			[]string{"DMTCP not found (looked in ", "; transfer a dmtcp_condor_integration bundle with the job, or give --dmtcp-prefix DIR (the directory holding bin/dmtcp_launch)"}},
		{"locate, incomplete", []string{"locate", "--dmtcp-prefix", layout(t, "broken", "opt", "dmtcp")},
			[]string{"incomplete install: ", "has no bin/dmtcp_command", "; reinstall DMTCP there or give --dmtcp-prefix DIR of a complete install"}},
		{"bundle, incomplete", []string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "broken", "opt", "dmtcp")},
			[]string{"bundle: DMTCP not found: incomplete install: ", "or give --dmtcp-prefix DIR of a complete install"}},
		{"bundle, empty version", []string{"bundle", "--version", "", "--dmtcp-prefix", opt},
			[]string{"bundle: --version: the release version is empty; give one such as 1.2.0"}},
		{"bundle, dynamic shim", []string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", opt, "--shim", "/bin/true", "-o", t.TempDir()},
			[]string{"bundle: --shim: shim_dmtcp /bin/true is not static", "or give none to build it from the source tree"}},
		{"bundle, compression", bundleWith("--compression", "bz2"),
			[]string{`bundle: --compression: compression "bz2": use one of gz, zst, xz`}},
		{"bundle, name template", bundleWith("--name-template", "x/{{.Version}}.tar.gz"),
			[]string{`bundle: --name-template: name template "x/{{.Version}}.tar.gz" gives "x/1.2.0.tar.gz", which is not a file name`}},
		{"package, maintainer", []string{"package", "--format", "deb", "--version", "1.2.0", "--maintainer", "nobody", "-o", t.TempDir()},
			[]string{`package: --maintainer: maintainer "nobody" is not 'Name <email>'`}},
		{"package, version", []string{"package", "--format", "rpm", "--version", "1.2.0/x"},
			[]string{`package: --version: "1.2.0/x" is not a release version`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != 1 {
				t.Fatalf("exit %d, stderr %q; want 1", code, errOut)
			}
			rest := errOut
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr %q lacks %q (in order %q)", errOut, w, tt.want)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
