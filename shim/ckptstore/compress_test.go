package ckptstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// image makes an image of n bytes, half random, half repeated text: both
// what compresses and what does not.
func image(t *testing.T, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data[:n/2])
	copy(data[n/2:], bytes.Repeat([]byte("line 12345\n"), n/2/11+1))
	return data
}

func commitImage(t *testing.T, s *Store, src string, data []byte) *Generation {
	t.Helper()
	writeCheckpoint(t, src, map[string]string{"ckpt_a.dmtcp": string(data), "ckpt_a_files/copy.txt": "saved copy"})
	g, err := s.Commit(src, []string{"ckpt_a.dmtcp", "ckpt_a_files"}, map[string]bool{"ckpt_a.dmtcp": true}, Manifest{Engine: "dmtcp"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Compress leaves a generation whose manifest names gzip images that read
// back as the originals (multi-member, as gzip -d reads them), that
// verifies and that is the one Usable returns; the uncompressed images are
// gone and the saved files untouched.
func TestCompress(t *testing.T) {
	s, src := open(t)
	data := image(t, 3*chunkSize+12345)
	g := commitImage(t, s, src, data)
	z, err := s.Compress(context.Background(), g, Compressing{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	imgs := z.ImagePaths()
	if len(imgs) != 1 || !strings.HasSuffix(imgs[0], "/z/ckpt_a.dmtcp") {
		t.Fatalf("images %v, want z/ckpt_a.dmtcp", imgs)
	}
	f, _ := os.Open(imgs[0])
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decompressed %d bytes (err %v), want the %d of the image", len(got), err, len(data))
	}
	if _, err := os.Stat(filepath.Join(g.Dir, "ckpt_a.dmtcp")); !os.IsNotExist(err) {
		t.Errorf("the uncompressed image is still there: %v", err)
	}
	// DMTCP looks for an image's saved files beside it.
	if saved, err := os.ReadFile(filepath.Join(g.Dir, "z", "ckpt_a_files", "copy.txt")); string(saved) != "saved copy" {
		t.Errorf("saved files beside the compressed image: %q, %v", saved, err)
	}
	used, damaged, err := s.Usable()
	if err != nil || len(damaged) > 0 || used == nil || used.ImagePaths()[0] != imgs[0] {
		t.Fatalf("Usable: %v %v %v", used, damaged, err)
	}
	var zf File
	for _, f := range used.Manifest.Files {
		if f.Image {
			zf = f
		}
	}
	if !zf.Gzip || zf.RawSize != int64(len(data)) || zf.Size >= zf.RawSize {
		t.Errorf("manifest entry %+v: want gzip, raw size %d, smaller", zf, len(data))
	}
	// Unpacked on several cores, it is the image again.
	unpacked := t.TempDir()
	paths, err := used.Decompress(context.Background(), unpacked, Compressing{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(paths[0]); len(paths) != 1 || !bytes.Equal(back, data) {
		t.Errorf("Decompress gave %v (%d bytes), want the image's %d bytes", paths, len(back), len(data))
	}
	// A damaged member is an error, and leaves nothing.
	f, _ = os.OpenFile(imgs[0], os.O_WRONLY, 0)
	f.WriteAt([]byte("garbage"), zf.Members[0]+100)
	f.Close()
	if _, err := used.Decompress(context.Background(), t.TempDir(), Compressing{Workers: 2}); err == nil {
		t.Error("Decompress of a damaged member succeeded")
	}
	// Compressing again does nothing.
	if again, err := s.Compress(context.Background(), used, Compressing{}); err != nil || again.ImagePaths()[0] != imgs[0] {
		t.Errorf("second Compress: %v %v", again, err)
	}
}

// A cancelled compression leaves the generation exactly as it was.
func TestCompressCancelled(t *testing.T) {
	s, src := open(t)
	g := commitImage(t, s, src, image(t, 4*chunkSize))
	before := tree(t, s.Dir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Compress(ctx, g, Compressing{Workers: 2}); err == nil {
		t.Fatal("a cancelled Compress succeeded")
	}
	if after := tree(t, s.Dir()); after != before {
		t.Errorf("the generation changed:\nbefore %s\nafter  %s", before, after)
	}
	if used, _, _ := s.Usable(); used == nil || used.Manifest.Files[0].Gzip {
		t.Errorf("Usable after a cancelled Compress: %+v", used)
	}
}

// What a kill in the middle of Compress leaves is tidied away, either way.
func TestTidyInterruptedCompression(t *testing.T) {
	s, src := open(t)
	data := image(t, chunkSize)
	g := commitImage(t, s, src, data)
	// Killed before the manifest was replaced: a compressed copy lies beside.
	os.MkdirAll(filepath.Join(g.Dir, "z"), 0o700)
	write(t, filepath.Join(g.Dir, "z", "ckpt_a.dmtcp.partial"), "half")
	if err := s.Tidy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(g.Dir, "z")); !os.IsNotExist(err) {
		t.Errorf("z/ kept: %v", err)
	}
	// Killed after: the uncompressed image lies beside the manifest's.
	z, err := s.Compress(context.Background(), g, Compressing{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(g.Dir, "ckpt_a.dmtcp"), string(data))
	if err := s.Tidy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(g.Dir, "ckpt_a.dmtcp")); !os.IsNotExist(err) {
		t.Errorf("the uncompressed image was kept: %v", err)
	}
	if err := z.Verify(); err != nil {
		t.Errorf("Verify after Tidy: %v", err)
	}
}

// An image that is already gzip (DMTCP compressed it itself) is not
// compressed again; a damaged image is not compressed at all.
func TestCompressSkipsGzipAndDamage(t *testing.T) {
	s, src := open(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(image(t, chunkSize))
	zw.Close()
	g := commitImage(t, s, src, gz.Bytes())
	z, err := s.Compress(context.Background(), g, Compressing{})
	if err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(z.ImagePaths()[0]); !bytes.Equal(back, gz.Bytes()) || !z.Manifest.Files[0].Gzip {
		t.Errorf("a gzip image was changed (%d bytes, was %d) or not marked gzip", len(back), gz.Len())
	}

	g = commitImage(t, s, src, image(t, 2*chunkSize))
	p := filepath.Join(g.Dir, "ckpt_a.dmtcp")
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	f.WriteAt([]byte("damage"), 10)
	f.Close()
	before := tree(t, g.Dir)
	if _, err := s.Compress(context.Background(), g, Compressing{}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Compress of a damaged image: %v, want an error saying it is damaged", err)
	}
	if after := tree(t, g.Dir); after != before {
		t.Errorf("the damaged generation changed:\nbefore %s\nafter  %s", before, after)
	}
}
