package ckptstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// compressedDir holds a generation's compressed images. An image keeps its
// name (DMTCP restarts a file named *.dmtcp whether or not it is gzip), so
// the compressed copy lives beside the uncompressed one until the manifest
// says which is the generation's.
const compressedDir = "z"

// chunkSize is how much of an image one gzip member holds. Members are
// compressed on all cores at once and written one after the other: a
// multi-member gzip file, which gzip -d (DMTCP's restart) and Go read as
// one stream.
const chunkSize = 4 << 20

// Compressing is how Compress runs: on how many cores. (Its priority is
// its process's: the shim runs it in a child at the lowest priority while
// the job runs, see package shim. Threads are not reniced here: Go
// destroys a locked thread when its goroutine ends, and a child the
// thread had started with a parent-death signal, DMTCP's coordinator,
// would die with it.)
type Compressing struct {
	Workers int // 0: every CPU
}

// Compress replaces a generation's uncompressed images with gzip ones
// (level 1, as DMTCP's own), never leaving it unusable: each is written to
// z/NAME.partial, synced and renamed to z/NAME, and the generation's other
// files (DMTCP's saved copies, which it looks for beside each image) are
// linked into z/ too; then a manifest naming z/'s files replaces the old
// one in one rename, and only then are the old files removed. Cancelled
// (ctx) or failed, it removes what it wrote and the generation is as it
// was. It returns the generation as it now is.
func (s *Store) Compress(ctx context.Context, g *Generation, how Compressing) (*Generation, error) {
	m := g.Manifest
	zdir := filepath.Join(g.Dir, compressedDir)
	todo := false
	for _, f := range m.Files {
		todo = todo || f.Image && !f.Gzip
	}
	if !todo {
		return g, nil
	}
	if err := os.MkdirAll(zdir, 0o700); err != nil {
		return g, err
	}
	fail := func(err error) (*Generation, error) {
		_ = os.RemoveAll(zdir)
		return g, err
	}
	files := append([]File(nil), m.Files...)
	for i, f := range files {
		name := filepath.Join(compressedDir, f.Name)
		src, dst := filepath.Join(g.Dir, f.Name), filepath.Join(g.Dir, name)
		if !f.Image || f.Gzip {
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return fail(err)
			}
			if err := os.Link(src, dst); err != nil {
				return fail(fmt.Errorf("link %s: %w", f.Name, err))
			}
			files[i].Name = name
			continue
		}
		size, sum, err := compressFile(ctx, src, dst, how)
		if err != nil {
			return fail(fmt.Errorf("compress %s: %w", f.Name, err))
		}
		files[i] = File{Name: name, Size: size, CRC32C: sum, Image: true, Gzip: true, RawSize: f.Size}
	}
	if err := syncDir(zdir); err != nil {
		return fail(err)
	}
	m.Files = files
	if err := s.writeManifest(g.Dir, m); err != nil {
		return fail(err)
	}
	// The manifest names z/'s files now: the others are no longer the
	// generation's.
	z := &Generation{Dir: g.Dir, Manifest: m}
	z.tidyCompression()
	return z, nil
}

// compressFile writes src to dst as multi-member gzip, the members
// compressed in parallel, and returns dst's size and CRC-32C.
func compressFile(ctx context.Context, src, dst string, how Compressing) (int64, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, "", err
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer func() {
		out.Close()
		_ = os.Remove(tmp)
	}()
	workers := how.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	type chunk struct {
		data []byte
		out  chan []byte
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan chunk, workers)
	order := make(chan chunk, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				c.out <- gzipMember(c.data)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		defer close(order)
		for {
			buf := make([]byte, chunkSize)
			n, err := io.ReadFull(in, buf)
			if n > 0 {
				c := chunk{data: buf[:n], out: make(chan []byte, 1)}
				select {
				case jobs <- c:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
				select {
				case order <- c:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				readErr <- nil
				return
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	sum := newCRC()
	var size int64
	var werr error
	for c := range order {
		member := <-c.out
		if werr != nil {
			continue
		}
		if _, err := out.Write(member); err != nil {
			werr = err
			cancel()
			continue
		}
		sum.Write(member)
		size += int64(len(member))
	}
	wg.Wait()
	if err := <-readErr; err != nil {
		return 0, "", err
	}
	if werr != nil {
		return 0, "", werr
	}
	if err := out.Sync(); err != nil {
		return 0, "", err
	}
	if err := out.Close(); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, "", err
	}
	return size, sum.hex(), nil
}

// gzipMember compresses one chunk as a complete gzip member.
func gzipMember(data []byte) []byte {
	var b bytesBuffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return []byte(b)
}

// bytesBuffer is the least writer gzip needs.
type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

// CompressDir compresses the complete generation in dir (see Compress),
// for a process other than the shim that holds the store's lock.
func CompressDir(ctx context.Context, dir string, how Compressing) (*Generation, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(dir)
	n, err := strconv.Atoi(strings.TrimPrefix(name, genPrefix))
	if err != nil || name != genName(n) {
		return nil, fmt.Errorf("%s is not a checkpoint generation (gen-N)", dir)
	}
	s := &Store{dir: filepath.Dir(dir)}
	g, err := s.load(genDir{n, name})
	if err != nil {
		return nil, fmt.Errorf("generation %s: %w", dir, err)
	}
	return s.Compress(ctx, g, how)
}
