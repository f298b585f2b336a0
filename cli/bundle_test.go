package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBundleCommand(t *testing.T) {
	shim, _ := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	prefix := layout(t, "opt", "opt", "dmtcp")
	for _, tt := range []struct {
		name       string
		args       []string
		file       string
		quietErr   bool   // nothing on stderr
		wantStderr string // when not quiet
	}{
		{"default name", []string{"-q"}, "dmtcp_condor_integration-1.2.0-Any-Any.tar.gz", true, ""},
		{"name template", []string{"--name-template", "dmtcp_condor_integration-{{.Version}}-{{.Arch}}-{{.OS}}.tar.gz"},
			"dmtcp_condor_integration-1.2.0-noarch-Linux.tar.gz", false, "verified: extracted; "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", prefix, "--shim", shim, "-o", dir}, tt.args...)
			code, out, errOut := run(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			want := filepath.Join(dir, tt.file)
			if out != want+"\n" {
				t.Errorf("stdout %q, want the tarball's path %s", out, want)
			}
			if _, err := os.Stat(want); err != nil {
				t.Error(err)
			}
			if tt.quietErr && errOut != "" {
				t.Errorf("--quiet printed %q", errOut)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantStderr)
			}
		})
	}
}

func TestBundleCommandErrors(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no version", []string{"bundle", "--dmtcp-prefix", layout(t, "opt", "opt", "dmtcp")}, `required flag(s) "version" not set`},
		{"incomplete DMTCP", []string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "broken", "opt", "dmtcp")}, "has no bin/dmtcp_command"},
		{"DMTCP 1.x", []string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "dmtcp1", "usr")}, "1.x names"},
		{"dynamic shim", []string{"bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "opt", "opt", "dmtcp"), "--shim", "/bin/true", "-o", t.TempDir()}, "--shim: shim_dmtcp /bin/true is not static"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
}

func TestBundleBadSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	code, _, errOut := run(t, "", "bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "opt", "opt", "dmtcp"), "-o", t.TempDir())
	if code != 1 || !strings.Contains(errOut, `SOURCE_DATE_EPOCH="yesterday" is not a number`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
