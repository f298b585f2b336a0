package bundle

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mholt/archives"
)

// Each compression gives a byte-reproducible tarball under the matching
// name, which this package and the system's tar both extract to the same
// files, and which Build's verification read back.
func TestBundleCompressions(t *testing.T) {
	in := fakeOpt(t)
	for _, tt := range []struct{ compression, ext, tarFlag string }{
		{"", "gz", "-z"},
		{"gz", "gz", "-z"},
		{"zst", "zst", "--zstd"},
		{"xz", "xz", "-J"},
	} {
		t.Run(tt.ext, func(t *testing.T) {
			a := build(t, Options{Install: in, Compression: tt.compression})
			b := build(t, Options{Install: in, Compression: tt.compression})
			da, _ := os.ReadFile(a.Path)
			db, _ := os.ReadFile(b.Path)
			if !bytes.Equal(da, db) {
				t.Errorf("two %s bundles of the same inputs differ", tt.ext)
			}
			if want := "dmtcp_condor_integration-1.2.0-Any-Any.tar." + tt.ext; filepath.Base(a.Path) != want {
				t.Errorf("name %s, want %s", filepath.Base(a.Path), want)
			}
			if !strings.Contains(a.Verified, "files match SHA256SUMS") {
				t.Errorf("verified: %s", a.Verified)
			}
			ours, err := extract(context.Background(), a.Path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			theirs := t.TempDir()
			if _, err := exec.LookPath("tar"); err == nil {
				if out, err := exec.Command("tar", tt.tarFlag, "-xf", a.Path, "-C", theirs).CombinedOutput(); err != nil {
					t.Skipf("the system's tar cannot read .tar.%s here: %v: %s", tt.ext, err, out)
				}
				for _, f := range []string{"README", "SHA256SUMS", "bin/shim_dmtcp", "lib/dmtcp/libdmtcp.so"} {
					x, _ := os.ReadFile(filepath.Join(ours, f))
					y, _ := os.ReadFile(filepath.Join(theirs, "dmtcp_condor_integration-1.2.0", f))
					if len(x) == 0 || !bytes.Equal(x, y) {
						t.Errorf("%s differs between this package's extraction and tar's", f)
					}
				}
			}
		})
	}
	_, err := Build(context.Background(), Options{Version: "1.2.0", Install: in, Shim: shimBin, MTime: mtime, OutDir: t.TempDir(), Compression: "zst", NameTemplate: "x-{{.Version}}.tar.gz"})
	if err == nil || !strings.Contains(err.Error(), "does not end in .tar.zst") {
		t.Errorf("a .tar.gz name with --compression zst: %v", err)
	}
	_, err = Build(context.Background(), Options{Version: "1.2.0", Install: in, Shim: shimBin, MTime: mtime, OutDir: t.TempDir(), Compression: "bz2"})
	if err == nil || !strings.Contains(err.Error(), `compression "bz2": use one of gz, zst, xz`) {
		t.Errorf("--compression bz2: %v", err)
	}
}

// bundle verify reads a bundle in each format Build writes, and one
// repacked into any archive format mholt/archives reads (told by content:
// the names below lie about it), and refuses what is not an archive.
func TestCheckReadsEveryFormat(t *testing.T) {
	ctx := context.Background()
	in := fakeOpt(t)
	var gz string
	for _, c := range Compressions {
		res := build(t, Options{Install: in, Compression: c})
		if c == "gz" {
			gz = res.Path
		}
		lines, err := Check(ctx, res.Path)
		if err != nil || !strings.Contains(strings.Join(lines, "\n"), "files match SHA256SUMS") {
			t.Errorf("bundle verify of the .tar.%s: %v\n%s", c, err, strings.Join(lines, "\n"))
		}
	}
	top, err := extract(ctx, gz, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files, err := archives.FilesFromDisk(ctx, nil, map[string]string{top: filepath.Base(top)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		format archives.Archiver
	}{
		{"zip", archives.Zip{}},
		{"tar", archives.Tar{}},
		{"tar.bz2", archives.CompressedArchive{Compression: archives.Bz2{}, Archival: archives.Tar{}}},
	} {
		p := filepath.Join(t.TempDir(), "repacked.tar.gz")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		err = tt.format.Archive(ctx, f, files)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("repack as %s: %v", tt.name, err)
		}
		if lines, err := Check(ctx, p); err != nil || !strings.Contains(strings.Join(lines, "\n"), "files match SHA256SUMS") {
			t.Errorf("bundle verify of the bundle repacked as %s: %v\n%s", tt.name, err, strings.Join(lines, "\n"))
		}
	}
	notArchive := filepath.Join(t.TempDir(), "x.tar.gz")
	if err := os.WriteFile(notArchive, []byte("#!/bin/sh\necho not a bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, notArchive); err == nil || !strings.Contains(err.Error(), notArchive+" is not an archive") {
		t.Errorf("a shell script named .tar.gz: %v", err)
	}
}

// A file that changes between hashing for SHA256SUMS and writing into the
// tarball stops the bundle, naming the file: its manifest would lie.
func TestWriteTarRefusesAChangedFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "libx.so")
	for _, tt := range []struct{ name, now, want string }{
		{"same size", "AAAA", "sha256 now"},
		{"shorter", "AA", "now 2 bytes, was 4"},
		{"longer", "AAAAAA", "sha256 now"}, // the first 4 bytes differ
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(src, []byte("BBBB"), 0o644); err != nil {
				t.Fatal(err)
			}
			e := &entry{name: "lib/libx.so", src: src}
			if err := e.hash(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(src, []byte(tt.now), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range Compressions {
				err := writeTar(context.Background(), io.Discard, c, "top", []*entry{{name: "lib/"}, e}, mtime)
				if err == nil || !strings.Contains(err.Error(), src+" changed while the bundle was written") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("--compression %s: %v, want %q", c, err, tt.want)
				}
			}
		})
	}
}
