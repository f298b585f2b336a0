package submitgen

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestProgramOutsideSubmitDirWarns: an absolute program path outside the
// directory of the description is rendered, with a warning that names the
// line and points to program_installed; inside it, relative, or installed,
// there is no warning.
func TestProgramOutsideSubmitDirWarns(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		warn       bool
	}{
		{"system program", "program: /usr/bin/python3\n", true},
		{"own program elsewhere", "program: /home/someone/build/sim\n", true},
		{"inside the submit directory", "program: " + filepath.Join(dir, "sub", "sim") + "\n", false},
		{"relative", "program: ./sim\n", false},
		{"installed", "program: /usr/bin/python3\nprogram_installed: true\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, err := Decode(filepath.Join(dir, "job.yaml"), []byte(tc.yaml+"dmtcp:\n  prefix: /opt/dmtcp\n"))
			if err != nil {
				t.Fatal(err)
			}
			if err := job.Validate(); err != nil {
				t.Fatalf("a warning must not stop rendering: %v", err)
			}
			ws := job.Warnings()
			if !tc.warn {
				if len(ws) != 0 {
					t.Errorf("unexpected warnings %v", ws)
				}
				return
			}
			if len(ws) != 1 {
				t.Fatalf("warnings %v, want one", ws)
			}
			want := filepath.Join(dir, "job.yaml") + ":1: program: warning: "
			if w := ws[0].Error(); !strings.HasPrefix(w, want) || !strings.Contains(w, "set program_installed: true") || !strings.Contains(w, "run as ./") {
				t.Errorf("warning %q: want prefix %q, the way it runs and program_installed: true", w, want)
			}
		})
	}
}
