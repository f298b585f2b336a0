package dmtcpcondor

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// GoFiles lists the module's Go files, tests included, skipping hidden
// directories and testdata: what the tree-wide tests read (exported for
// the external test package, which may import cli and the shim).
func GoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
