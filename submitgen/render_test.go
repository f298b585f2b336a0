package submitgen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmtcp-condor/dmtcp-condor/templates"
)

// TestSchemaCopy keeps templates/job.schema.json equal to Schema(), which is
// generated from the Job type (-update rewrites the copy).
func TestSchemaCopy(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("..", "templates", templates.SchemaFile), got)
}

// TestSchemaCoversEveryKey: every key the decoder accepts is documented.
func TestSchemaCoversEveryKey(t *testing.T) {
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"program"`, `"same_as_first_checkpoint"`, `"checkpoint_platform"`, `"from_file"`, `"vacate_time"`} {
		if !bytes.Contains(s, []byte(key)) {
			t.Errorf("schema lacks %s", key)
		}
	}
	if bytes.Contains(s, []byte(`"description": ""`)) {
		t.Errorf("a field has no desc tag:\n%s", s)
	}
}

func loadBase(t *testing.T) *Job {
	t.Helper()
	job, err := Decode("job.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// TestTemplateOverride: a site directory can replace one named piece of the
// built-in template and keep the rest.
func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	site := `{{ define "resources" }}
# --- Site policy
request_cpus = 1
accounting_group = group_physics
{{- end }}`
	if err := os.WriteFile(filepath.Join(dir, "site.tmpl"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(dir)
	if err != nil {
		t.Fatal(err)
	}
	job := loadBase(t)
	job.Resources.CPUs = 4
	var out bytes.Buffer
	if err := r.Render(&out, job); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accounting_group = group_physics", "universe = vanilla", "\nqueue\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTemplateOverrideErrors: an empty directory, a template referring to a
// field that does not exist, and one that would write a continuation line are
// errors rather than a broken submit file.
func TestTemplateOverrideErrors(t *testing.T) {
	if _, err := NewRenderer(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.tmpl files") {
		t.Errorf("empty template dir: got %v", err)
	}
	for name, body := range map[string]string{
		"missing field": `{{ .NoSuchField }}`,
		"continuation":  "arguments = {{ .Arguments }} \\\n",
		"missing key":   `{{ $m := dict "a" 1 }}{{ $m.b }}`,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, MainTemplate), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := NewRenderer(dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out bytes.Buffer
		if err := r.Render(&out, loadBase(t)); err == nil {
			t.Errorf("%s: rendered %q, want an error", name, out.String())
		} else if out.Len() != 0 {
			t.Errorf("%s: wrote %d bytes despite the error", name, out.Len())
		}
	}
}

// TestRenderIsStable: the same description renders to the same bytes, whatever
// the map iteration order.
func TestRenderIsStable(t *testing.T) {
	job, err := Load(filepath.Join(goldenDir, "tricky.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := r.Render(&first, job); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		var again bytes.Buffer
		if err := r.Render(&again, job); err != nil || !bytes.Equal(first.Bytes(), again.Bytes()) {
			t.Fatalf("render is not stable: %v", err)
		}
	}
}
