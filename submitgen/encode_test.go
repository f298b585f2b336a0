package submitgen

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestMarshalRoundTrip: every example description, written back by Marshal
// and decoded again, renders to the same submit file.
func TestMarshalRoundTrip(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		job, err := Load(in)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(in, data)
		if err != nil {
			t.Fatalf("%s: decoding Marshal's output: %v\n%s", in, err, data)
		}
		var want, got bytes.Buffer
		if err := r.Render(&want, job); err != nil {
			t.Fatal(err)
		}
		if err := r.Render(&got, again); err != nil {
			t.Fatalf("%s: rendering Marshal's output: %v\n%s", in, err, data)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Errorf("%s: Marshal's output renders differently:\n%s", in, data)
		}
	}
}
