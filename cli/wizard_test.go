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
		"sim",                        // stdout: rejected, the program's own name
		"out.{process}",              // stdout
		"out.{process}",              // stderr: rejected, the same as stdout
		"",                           // stderr: the default
		"/abs results/",              // output files: rejected, absolute
		"results/ summary.txt",       // output files
		"2",                          // self-checkpointing
		"-5m",                        // rejected: negative
		"30m20m",                     // rejected: a unit twice
		"20m",                        // 20 minutes
		"1",                          // bundle
		"nope",                       // rejected: no bin/shim_dmtcp
		"b",                          // accepted
		"n",                          // do not pin
		"100000000",                  // rejected: too many jobs
		"3",                          // jobs
		"0",                          // rejected: cores
		"2",                          // cores
		"2",                          // memory: rejected, no unit
		"2GB",                        // memory
		"y",                          // write
	)
	code, stdout, errOut := run(t, in, "wizard", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, stdout)
	}
	for _, want := range []string{"./missing not found in " + dir, "./data.txt is not executable", "the interval cannot be negative", "nope has no bin/shim_dmtcp",
		`"sim" is also the sandbox name of the program`, `"out.{process}" is also stdout`, `"/abs" is an absolute path`,
		"each unit once and largest first", "give a whole number of jobs from 1 to 20000", "give a whole number of cores from 1 to 1024", "give a unit: 2GB or 2MB",
		"Program:     ./sim --title 'a b' 'it'\\''s' '$5' (sent with each job)", "Checkpoints: every 20m (self-checkpointing)",
		"Output:      stdout out.{process}, stderr job.{cluster}.{process}.err; files results/ summary.txt",
		"Shim:        the bundle's bin/shim_dmtcp, sent with each job", "Jobs:        3, 2 CPU, memory 2GB", "Wrote " + out} {
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
	if job.Checkpoint.Mode != submitgen.ModeSelf || job.DMTCP.Bundle != "b" || job.Queue.Count != 3 || job.Platform.SameAsFirstCheckpoint ||
		job.Checkpoint.Interval.String() != "20m" || job.Stdout != "out.{process}" || job.Resources.CPUs != 2 || !reflect.DeepEqual(job.OutputFiles, []string{"results/", "summary.txt"}) {
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
	answers := []string{"1", "./sim", "", "", "", "", "", "", "1", "b", "", "", "", ""}
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
	if code, _, errOut := run(t, answerLines("1", "./sim", "-v", "", "", "", "", "", "1", "b", "", "", "", "", "y"), "wizard", "-o", out); code != 0 {
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

// TestWizardNeverReplacesHandWrittenSubmitFile: a job.sub dmtcp-condor did
// not write stops the wizard before its first question.
func TestWizardNeverReplacesHandWrittenSubmitFile(t *testing.T) {
	dir := wizardDir(t)
	sub := filepath.Join(dir, "job.sub")
	if err := os.WriteFile(sub, []byte("universe = vanilla\nqueue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := run(t, answerLines("1", "./sim"), "wizard", "-o", filepath.Join(dir, "job.yaml"))
	if code == 0 || !strings.Contains(errOut, "exists and was not written by dmtcp-condor") || strings.Contains(stdout, "Program to run") {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, stdout)
	}
	if readFile(t, sub) != "universe = vanilla\nqueue\n" {
		t.Error("hand-written job.sub changed")
	}
}

// TestWizardNoGoesBack: answering No to "Write?" asks the questions again
// with the answers kept (an empty line keeps each), and then writes.
func TestWizardNoGoesBack(t *testing.T) {
	dir := wizardDir(t)
	out := filepath.Join(dir, "job.yaml")
	first := []string{"1", "./sim", "-v", "", "", "", "2", "45m", "1", "b", "", "4", "", "1GB"}
	again := make([]string, len(first))
	again[7] = "50m" // change one answer
	code, stdout, errOut := run(t, answerLines(append(append(append(first, "n"), again...), "y")...), "wizard", "-o", out)
	if code != 0 || strings.Count(stdout, "Program to run") != 2 || !strings.Contains(stdout, "Back to the questions; your answers are kept.") ||
		!strings.Contains(stdout, "Checkpoint interval (like 30m, 1h30m or 1800 seconds) [45m]") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, stdout)
	}
	job, err := submitgen.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if job.Checkpoint.Interval.String() != "50m" || job.Checkpoint.Mode != submitgen.ModeSelf || job.Queue.Count != 4 || !reflect.DeepEqual(job.Arguments, []string{"-v"}) {
		t.Errorf("the kept and changed answers did not reach the description: %+v", job)
	}
}

// TestWizardInstalledDMTCPAsksForTheShim: without a bundle the wizard asks
// where shim_dmtcp is, and says it in the summary.
func TestWizardInstalledDMTCPAsksForTheShim(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []string
		shim    string
		summary string
	}{
		{"installed", []string{"1"}, "", "Shim:        installed on the nodes at " + submitgen.InstalledShim},
		{"sent", []string{"2", "./nope", "b/bin/shim_dmtcp"}, "b/bin/shim_dmtcp", "Shim:        b/bin/shim_dmtcp, sent with each job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := wizardDir(t)
			out := filepath.Join(dir, "job.yaml")
			in := append([]string{"1", "./sim", "", "", "", "", "", "", "2", "/opt/dmtcp"}, tc.answers...)
			in = append(in, "", "", "", "", "y")
			code, stdout, errOut := run(t, answerLines(in...), "wizard", "-o", out)
			if code != 0 || !strings.Contains(stdout, tc.summary) || !strings.Contains(stdout, "And shim_dmtcp, which HTCondor runs in place of the program?") {
				t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, stdout)
			}
			job, err := submitgen.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if job.DMTCP.Prefix != "/opt/dmtcp" || job.Shim.Path != tc.shim {
				t.Errorf("dmtcp %+v, shim %+v", job.DMTCP, job.Shim)
			}
		})
	}
}
