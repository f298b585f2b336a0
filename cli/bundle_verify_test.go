package cli

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bundle verify passes a good bundle, tarball or directory, and says what
// it checked and what this node has; it refuses a changed, added or
// linked file and unsafe tarball entries, naming the culprit.
func TestBundleVerify(t *testing.T) {
	shim, _ := releaseBinaries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "1714564800")
	out := t.TempDir()
	code, stdout, errOut := run(t, "", "bundle", "--version", "1.2.0", "--dmtcp-prefix", layout(t, "opt", "opt", "dmtcp"), "--shim", shim, "-o", out, "-q")
	if code != 0 {
		t.Fatalf("bundle: exit %d: %s", code, errOut)
	}
	tarball := strings.TrimSpace(stdout)
	extracted := func(t *testing.T) string {
		dir := t.TempDir()
		if b, err := exec.Command("tar", "-xzf", tarball, "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v: %s", err, b)
		}
		return filepath.Join(dir, "dmtcp_condor_integration-1.2.0")
	}
	crafted := func(t *testing.T, hdr *tar.Header, body string) string {
		p := filepath.Join(t.TempDir(), "evil.tar.gz")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(f)
		tw := tar.NewWriter(zw)
		_ = tw.WriteHeader(&tar.Header{Name: "dmtcp_condor_integration-1.2.0/", Typeflag: tar.TypeDir, Mode: 0o755})
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
		tw.Close()
		zw.Close()
		f.Close()
		return p
	}
	for _, tt := range []struct {
		name string
		path func(t *testing.T) string
		want string // in stdout when it passes, in stderr when it fails
		ok   bool
	}{
		{"tarball", func(t *testing.T) string { return tarball }, "files match SHA256SUMS", true},
		{"directory", extracted, "bin/shim_dmtcp --version: shim_dmtcp 1.2.0", true},
		{"changed file", func(t *testing.T) string {
			dir := extracted(t)
			if err := os.WriteFile(filepath.Join(dir, "job.sub"), []byte("executable = /bin/evil\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "job.sub does not match SHA256SUMS", false},
		{"added file", func(t *testing.T) string {
			dir := extracted(t)
			if err := os.WriteFile(filepath.Join(dir, "bin", "extra"), []byte("x"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "bin/extra is not in SHA256SUMS", false},
		{"symbolic link", func(t *testing.T) string {
			dir := extracted(t)
			if err := os.Symlink("/etc/shadow", filepath.Join(dir, "lib", "dmtcp", "x.so")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "lib/dmtcp/x.so is a L", false},
		{"entry out of the top directory", func(t *testing.T) string {
			return crafted(t, &tar.Header{Name: "dmtcp_condor_integration-1.2.0/../../evil", Typeflag: tar.TypeReg, Mode: 0o644}, "x")
		}, "is not a clean relative path", false},
		{"link entry", func(t *testing.T) string {
			return crafted(t, &tar.Header{Name: "dmtcp_condor_integration-1.2.0/shadow", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, "")
		}, "a bundle holds only directories and regular files", false},
		{"hard link entry", func(t *testing.T) string {
			return crafted(t, &tar.Header{Name: "dmtcp_condor_integration-1.2.0/shadow", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, "")
		}, "a bundle holds only directories and regular files", false},
		{"not an archive", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "bundle.tar.gz")
			if err := os.WriteFile(p, []byte("just text\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, "is not an archive (a bundle is a .tar.gz, .tar.zst or .tar.xz)", false},
		{"not a bundle", func(t *testing.T) string { return t.TempDir() }, "has no VERSION", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			code, stdout, errOut := run(t, "", "bundle", "verify", p)
			if tt.ok {
				if code != 0 || !strings.Contains(stdout, tt.want) || !strings.HasSuffix(stdout, p+": ok\n") {
					t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", code, stdout, errOut, tt.want)
				}
				return
			}
			if code == 0 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "bundle verify "+p) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant an error containing %q", code, stdout, errOut, tt.want)
			}
		})
	}
}
