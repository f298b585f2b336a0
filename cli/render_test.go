package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderToDevNull: -o /dev/null checks a description without writing
// a file, and leaves /dev/null a device.
func TestRenderToDevNull(t *testing.T) {
	code, out, errOut := run(t, "", "render", filepath.Join(exampleDir, "minimal.yaml"), "-o", "/dev/null")
	if code != 0 || out != "" || strings.Contains(errOut, "submit it with") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", st.Mode(), err)
	}
}

// TestSubmitAdvice: the advice runs condor_submit from the description's
// directory, where its relative paths resolve, naming the submit file from
// there.
func TestSubmitAdvice(t *testing.T) {
	for _, tc := range []struct{ base, sub, want string }{
		{".", "job.sub", "condor_submit job.sub"},
		{"jobs/a", "jobs/a/job.sub", "cd jobs/a && condor_submit job.sub"},
		{"jobs/a", "out/job.sub", "cd jobs/a && condor_submit ../../out/job.sub"},
		{"/srv/my jobs", "/srv/my jobs/job.sub", "cd '/srv/my jobs' && condor_submit job.sub"},
		{".", "subs/x.sub", "condor_submit subs/x.sub"},
	} {
		if got := submitAdvice(tc.base, tc.sub); got != tc.want {
			t.Errorf("submitAdvice(%q, %q) = %q, want %q", tc.base, tc.sub, got, tc.want)
		}
	}
}

// TestRenderFromElsewhere: rendered from another directory, the advice
// changes to the description's directory first.
func TestRenderFromElsewhere(t *testing.T) {
	in := copyExample(t, "minimal.yaml", "job.yaml")
	code, _, errOut := run(t, "", "render", in)
	dir := filepath.Dir(in)
	if want := "submit it with: cd " + shellQuote(dir) + " && condor_submit job.sub\n"; code != 0 || !strings.HasSuffix(errOut, want) {
		t.Errorf("exit %d, stderr %q, want it to end with %q", code, errOut, want)
	}
}

// TestRenderWarnsSystemProgram: an absolute program path outside the
// submit directory renders, with a warning naming the line and
// program_installed: true.
func TestRenderWarnsSystemProgram(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(in, []byte("program: /usr/bin/python3\ndmtcp:\n  prefix: /opt/dmtcp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "", "render", in)
	if want := "dmtcp-condor: " + in + ":1: program: warning: /usr/bin/python3 is outside the submit directory"; code != 0 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "program_installed: true") {
		t.Errorf("exit %d, stderr %q, want %q", code, errOut, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "job.sub")); err != nil {
		t.Errorf("a warning must not stop rendering: %v", err)
	}
}
