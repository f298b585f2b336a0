package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// wizardDir makes a directory with an executable ./sim and a bundle b/.
func wizardDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"b/bin", "b/lib/dmtcp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]os.FileMode{"sim": 0o755, "data.txt": 0o644, "b/bin/shim_dmtcp": 0o755} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// answerLines are the accessible prompts' answers in order; "" takes the default.
func answerLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestWizardAccessible(t *testing.T) {
	dir := wizardDir(t)
	out := filepath.Join(dir, "job.yaml")
	in := answerLines(
		"1",                          // the program is a file here
		"./missing",                  // rejected: not found
		"./data.txt",                 // rejected: not executable
		"./sim",                      // accepted
		`--title "a b" 'it'\''s' $5`, // shell-style arguments
		"2",                          // self-checkpointing
		"-5m",                        // rejected: negative
		"",                           // default 30m
		"1",                          // bundle
		"nope",                       // rejected: no bin/shim_dmtcp
		"b",                          // accepted
		"n",                          // do not pin
		"3",                          // jobs
		"2GB",                        // memory
		"y",                          // write
	)
	code, stdout, errOut := run(t, in, "wizard", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, stdout)
	}
	for _, want := range []string{"./missing not found in " + dir, "./data.txt is not executable", "the interval cannot be negative", "nope has no bin/shim_dmtcp",
		"Program:     ./sim --title 'a b' 'it'\\''s' '$5' (sent with each job)", "Checkpoints: every 30m (self-checkpointing)", "Wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Errorf("accessible output has terminal escapes:\n%q", stdout)
	}
	job, err := submitgen.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--title", "a b", "it's", "$5"}; !reflect.DeepEqual(job.Arguments, want) {
		t.Errorf("arguments = %q, want %q", job.Arguments, want)
	}
	if job.Checkpoint.Mode != submitgen.ModeSelf || job.DMTCP.Bundle != "b" || job.Queue.Count != 3 || job.Platform.SameAsFirstCheckpoint {
		t.Errorf("unexpected job %+v", job)
	}
	if sub := readFile(t, filepath.Join(dir, "job.sub")); !strings.Contains(sub, "queue 3") || !strings.Contains(sub, "checkpoint_exit_code = 85") {
		t.Errorf("unexpected job.sub:\n%s", sub)
	}
}

// TestWizardNoSurpriseOverwrite: existing files are kept unless the user says
// so; the default answer is no, and so is the end of the input.
func TestWizardNoSurpriseOverwrite(t *testing.T) {
	dir := wizardDir(t)
	out := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(out, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	answers := []string{"1", "./sim", "", "", "", "1", "b", "", "", ""}
	for _, last := range [][]string{{"y", ""}, {"y"}} {
		code, stdout, errOut := run(t, answerLines(append(answers, last...)...), "wizard", "-o", out)
		if code != 0 || !strings.Contains(stdout, out+" already exists. Replace?") || !strings.Contains(stdout, "Nothing written.") {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errOut, stdout)
		}
		if readFile(t, out) != "mine\n" {
			t.Fatal("existing job.yaml was replaced")
		}
	}
	code, _, errOut := run(t, answerLines(append(answers, "y", "y")...), "wizard", "-o", out)
	if code != 0 || readFile(t, out) == "mine\n" {
		t.Errorf("replace confirmed: exit %d, %s", code, errOut)
	}
}

func TestWizardIncompleteInput(t *testing.T) {
	dir := wizardDir(t)
	code, _, errOut := run(t, "", "wizard", "-o", filepath.Join(dir, "job.yaml"))
	if code != 1 || !strings.Contains(errOut, "nothing written") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "job.yaml")); !os.IsNotExist(err) {
		t.Error("job.yaml written from empty input")
	}
}

func TestWizardFlags(t *testing.T) {
	var got *WizardOptions
	cmd := NewCmdWizard(func(o *WizardOptions) error { got = o; return nil })
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs([]string{"-o", "x.yaml", "--force"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Output != "x.yaml" || !got.Force || !got.Accessible {
		t.Errorf("options = %+v; a non-terminal input must select accessible prompts", got)
	}
}

func TestSplitShellWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"  a  b ", []string{"a", "b"}},
		{`'a b' "c d" e\ f`, []string{"a b", "c d", "e f"}},
		{`"" ''`, []string{"", ""}},
		{`"say \"hi\" \$x \n"`, []string{`say "hi" $x \n`}},
		{`'it'\''s'`, []string{"it's"}},
		{`a"b"'c'`, []string{"abc"}},
		{`$HOME *`, []string{"$HOME", "*"}},
	} {
		got, err := splitShellWords(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitShellWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if err == nil && len(got) > 0 {
			quoted := make([]string, len(got))
			for i, w := range got {
				quoted[i] = shellQuote(w)
			}
			if back, err := splitShellWords(strings.Join(quoted, " ")); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("shellQuote does not round-trip %q: %q, %v", got, back, err)
			}
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitShellWords(bad); err == nil {
			t.Errorf("splitShellWords(%q) succeeded, want an error", bad)
		}
	}
}

// TestWizardMatchesRender: the submit file the wizard writes is the one
// "render" makes from the description it wrote.
func TestWizardMatchesRender(t *testing.T) {
	dir := wizardDir(t)
	out := filepath.Join(dir, "job.yaml")
	if code, _, errOut := run(t, answerLines("1", "./sim", "-v", "", "", "1", "b", "", "", "", "y"), "wizard", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, rendered, errOut := run(t, "", "render", out, "-o", "-")
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	if wrote := readFile(t, filepath.Join(dir, "job.sub")); wrote != rendered {
		t.Errorf("wizard's job.sub differs from render's:\n%s\n---\n%s", wrote, rendered)
	}
}
