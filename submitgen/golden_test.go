package submitgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/templates"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ and templates/ from the current output")

// goldenDir holds the example descriptions and their rendered submit files.
const goldenDir = "../testdata/submitgen"

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./submitgen -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered output (run go test ./submitgen -update and review the diff):\n%s", golden, got)
	}
}

// TestGolden renders every example description in testdata/submitgen (and
// the commented example shipped in templates/) and compares the submit file
// with NAME.sub beside it.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no example descriptions in %s: %v", goldenDir, err)
	}
	inputs = append(inputs, filepath.Join("..", "templates", templates.ExampleFile))
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			job, err := Load(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := r.Render(&out, job); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(goldenDir, name+".sub"), out.Bytes())
			checkArgumentsRoundTrip(t, out.String(), job)
		})
	}
}

// checkArgumentsRoundTrip reads the arguments and environment back from a
// rendered file with our parser: the user's argv must follow "--" unchanged
// (when it has no placeholders) and every user variable must be present.
func checkArgumentsRoundTrip(t *testing.T, sub string, job *Job) {
	t.Helper()
	values := map[string]string{}
	for _, line := range strings.Split(sub, "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok && !strings.HasPrefix(k, "#") {
			values[k] = v
		}
	}
	noMacros := func(s string) string { return placeholderRE.ReplaceAllString(s, "") }
	args, err := parseArguments(stripMacros(values["arguments"]))
	if err != nil {
		t.Fatalf("parsing rendered arguments: %v", err)
	}
	var user []string
	for i, a := range args {
		if a == "--" {
			user = args[i+2:]
			break
		}
	}
	if len(user) != len(job.Arguments) {
		t.Fatalf("rendered arguments after the program = %q, want %q", user, job.Arguments)
	}
	for i := range user {
		if user[i] != noMacros(job.Arguments[i]) {
			t.Errorf("argument %d = %q, want %q", i, user[i], job.Arguments[i])
		}
	}
	env, err := parseEnvironment(stripMacros(values["environment"]))
	if err != nil {
		t.Fatalf("parsing rendered environment: %v", err)
	}
	got := map[string]string{}
	for _, e := range env {
		got[e.Name] = e.Value
	}
	for name, v := range job.Environment {
		if got[name] != noMacros(v) {
			t.Errorf("environment %s = %q, want %q", name, got[name], v)
		}
	}
}

// stripMacros removes the generator's own macros ($(Cluster), $(Item) ...)
// so parseArguments, which accepts only $(DOLLAR), can read the value; the
// placeholders they stand for are removed from the expected text likewise.
func stripMacros(s string) string {
	for _, m := range placeholders {
		s = strings.ReplaceAll(s, m, "")
	}
	return s
}
