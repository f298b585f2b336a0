package ckptstore

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSize is the image size of the verification benchmark
// (DMTCP_CONDOR_BENCH_MB, default 512 MiB: a mid-sized job).
func benchSize() int64 {
	if mb, err := strconv.Atoi(os.Getenv("DMTCP_CONDOR_BENCH_MB")); err == nil && mb > 0 {
		return int64(mb) << 20
	}
	return 512 << 20
}

// BenchmarkVerify is what proving a generation good costs a restart, next
// to the floor (reading the image, which dmtcp_restart does anyway) and to
// SHA-256, the checksum not chosen:
//
//	go test ./shim/ckptstore/ -run '^$' -bench Verify -benchtime 5x
//
// The image is in the page cache, as it is right after HTCondor transferred
// it; from a cold disk all three are the disk's read speed.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(filepath.Join(dir, "ckpt"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	src := filepath.Join(dir, "stage")
	os.Mkdir(src, 0o700)
	f, err := os.Create(filepath.Join(src, "ckpt_a.dmtcp"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, benchSize()); err != nil {
		b.Fatal(err)
	}
	f.Close()
	g, err := s.Commit(src, []string{"ckpt_a.dmtcp"}, map[string]bool{"ckpt_a.dmtcp": true}, Manifest{Engine: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	img := g.ImagePaths()[0]
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(benchSize())
			for i := 0; i < b.N; i++ {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("read-only", func() error { return readWith(img, io.Discard) })
	run("crc32c-verify", g.Verify)
	run("sha256", func() error { return readWith(img, sha256.New()) })
}

func readWith(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(w, f, make([]byte, 1<<20))
	return err
}
