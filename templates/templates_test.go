package templates

import (
	"encoding/json"
	"io/fs"
	"testing"
)

// TestEmbedded: the binary carries the template, a well-formed schema and
// the example; submitgen's tests check their content.
func TestEmbedded(t *testing.T) {
	for _, name := range []string{"job.sub.tmpl", SchemaFile, ExampleFile} {
		b, err := fs.ReadFile(FS, name)
		if err != nil || len(b) == 0 {
			t.Errorf("%s not embedded: %v", name, err)
		}
	}
	b, _ := fs.ReadFile(FS, SchemaFile)
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Errorf("%s is not JSON: %v", SchemaFile, err)
	}
}
