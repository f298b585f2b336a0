package bundle

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A symbolic link in the DMTCP prefix is followed only when it stays in
// the prefix; one that leads out (to /etc/shadow, or a file beside the
// prefix) is refused with an error naming the link, and nothing is
// written.
func TestBundleSymlinksInPrefix(t *testing.T) {
	for _, tt := range []struct {
		name, link, target string
		refused            bool
	}{
		{"library to /etc/shadow", "lib/dmtcp/x.so", "/etc/shadow", true},
		{"program out of the prefix", "bin/dmtcp_ssh", "../../outside", true},
		{"library inside the prefix", "lib/dmtcp/libdmtcp_alias.so", "libdmtcp.so", false},
		{"program inside the prefix", "bin/dmtcp_ssh", "dmtcp_nocheckpoint", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			prefix := filepath.Join(parent, "dmtcp")
			src, _ := filepath.Abs(filepath.Join(layouts, "opt", "opt", "dmtcp"))
			if out, err := exec.Command("cp", "-a", src, prefix).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v: %s", err, out)
			}
			if err := os.WriteFile(filepath.Join(parent, "outside"), []byte("#!/bin/sh\necho secret\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tt.target, filepath.Join(prefix, tt.link)); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			res, err := Build(context.Background(), Options{Version: "1.2.0", Install: locate(t, prefix), Shim: shimBin, MTime: mtime, OutDir: out})
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				_, data := headers(t, res.Path)
				got := data["dmtcp_condor_integration-1.2.0/"+tt.link]
				want, _ := os.ReadFile(filepath.Join(prefix, tt.link))
				if len(got) == 0 || string(got) != string(want) {
					t.Errorf("%s in the bundle is %q, want the file it links to", tt.link, got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), filepath.Join(prefix, tt.link)) || !strings.Contains(err.Error(), "outside the DMTCP install") {
				t.Errorf("err = %v, want a refusal naming %s", err, tt.link)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Errorf("a refused bundle wrote %v", entries)
			}
		})
	}
}
