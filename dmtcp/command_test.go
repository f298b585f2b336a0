package dmtcp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// statusReal is dmtcp_command --status of DMTCP 4.2.0, verbatim.
const statusReal = `Coordinator:
  Host: localhost
  Port: 38605
Status...
  NUM_PEERS=1
  RUNNING=yes
  CKPT_INTERVAL=0 (checkpoint manually)
`

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		out     string
		want    Status
		wantErr bool
	}{
		{statusReal, Status{Peers: 1, Running: true}, false},
		{strings.Replace(strings.Replace(statusReal, "RUNNING=yes", "RUNNING=no", 1), "NUM_PEERS=1", "NUM_PEERS=3", 1), Status{Peers: 3}, false},
		{"Coordinator not found. Please check port and host.\n", Status{}, true},
		{"  NUM_PEERS=x\n  RUNNING=yes\n", Status{}, true},
		{"", Status{}, true},
	} {
		got, err := ParseStatus([]byte(tc.out))
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseStatus(%q) = %+v, %v; want %+v, error %v", tc.out, got, err, tc.want, tc.wantErr)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(statusReal))
	f.Add([]byte("NUM_PEERS=\nRUNNING="))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatus(data)
		if err == nil && st.Peers < 0 && !strings.Contains(string(data), "-") {
			t.Errorf("negative peers from %q", data)
		}
	})
}

func TestScriptImages(t *testing.T) {
	script := filepath.Join(t.TempDir(), "dmtcp_restart_script_x.sh")
	os.WriteFile(script, []byte("#!/bin/bash\nckpt_timestamp=\"now\"\ngiven_ckpt_files=\" /a/ckpt_bash_1.dmtcp /a/ckpt_sleep_2.dmtcp\"\nckpt_files=\"\"\n"), 0o644)
	got, err := scriptImages(script)
	if err != nil || strings.Join(got, ",") != "/a/ckpt_bash_1.dmtcp,/a/ckpt_sleep_2.dmtcp" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestCopyLinesCleansCoordinatorOutput(t *testing.T) {
	in := "dmtcp_coordinator starting...\n\x1b[0;32m[2026, Note] at x; REASON='worker connected;\x1b[0m\ndmtcp> dmtcp> \rdmtcp> \n\x1b[0m\n"
	var got []string
	copyLines(strings.NewReader(in), func(s string) { got = append(got, s) })
	want := []string{"coordinator: dmtcp_coordinator starting...", "coordinator: [2026, Note] at x; REASON='worker connected;"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}
