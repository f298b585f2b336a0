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

	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
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
		// An image DMTCP compressed itself (a job launched with its gzip:
		// a restarted job keeps the environment it was launched with)
		// must not be compressed twice: dmtcp_restart unpacks once.
		zipped, err := isGzip(src)
		if err != nil {
			return fail(err)
		}
		if !f.Image || f.Gzip || zipped {
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return fail(err)
			}
			if err := os.Link(src, dst); err != nil {
				if err := fsutil.CopyFile(src, dst); err != nil {
					return fail(fmt.Errorf("link %s: %w", f.Name, err))
				}
			}
			files[i].Name = name
			files[i].Gzip = f.Gzip || f.Image && zipped
			continue
		}
		size, sum, members, err := compressFile(ctx, src, dst, f, how)
		if err != nil {
			return fail(fmt.Errorf("compress %s: %w", f.Name, err))
		}
		files[i] = File{Name: name, Size: size, CRC32C: sum, Image: true, Gzip: true, RawSize: f.Size, Members: members}
	}
	if err := syncDir(zdir); err != nil {
		return fail(err)
	}
	m.Files = files
	data, err := encodeManifest(m)
	if err != nil {
		return fail(err)
	}
	if err := writeFileSync(filepath.Join(g.Dir, manifestName), data); err != nil {
		_ = os.Remove(filepath.Join(g.Dir, manifestName+".tmp"))
		return fail(fmt.Errorf("write manifest: %w", err))
	}
	// Renamed into place: from here on the manifest names z/'s files,
	// whatever happens next, and z/ must stay.
	_ = syncDir(g.Dir)
	// The manifest names z/'s files now: the others are no longer the
	// generation's.
	z := &Generation{Dir: g.Dir, Manifest: m}
	z.tidyCompression()
	return z, nil
}

// isGzip reports whether a file starts with gzip's magic number.
func isGzip(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b, nil
}

// maxWorkers bounds the cores (and 2 x 4 MiB buffers each) that
// compression takes: the machine's CPU count is not the job's slot, and
// what the shim holds counts against the job's memory.
const maxWorkers = 4

func workers(how Compressing) int {
	if how.Workers > 0 {
		return how.Workers
	}
	return min(runtime.NumCPU(), maxWorkers)
}

// compressFile writes src to dst as multi-member gzip, the members
// compressed in parallel, and returns dst's size, CRC-32C and members'
// sizes. The bytes read must be f's (its recorded CRC-32C): a damaged
// image is never turned into a compressed one that verifies.
func compressFile(ctx context.Context, src, dst string, f File, how Compressing) (size int64, crcHex string, members []int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, "", nil, err
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, "", nil, err
	}
	defer func() {
		out.Close()
		_ = os.Remove(tmp)
	}()
	workers := workers(how)
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
	rawSum := newCRC()
	go func() {
		defer close(jobs)
		defer close(order)
		for {
			buf := make([]byte, chunkSize)
			n, err := io.ReadFull(in, buf)
			rawSum.Write(buf[:n])
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
		members = append(members, int64(len(member)))
	}
	wg.Wait()
	if err := <-readErr; err != nil {
		return 0, "", nil, err
	}
	if werr != nil {
		return 0, "", nil, werr
	}
	if f.CRC32C != "" && rawSum.hex() != f.CRC32C {
		return 0, "", nil, fmt.Errorf("the image is damaged: its CRC-32C is %s, manifest says %s", rawSum.hex(), f.CRC32C)
	}
	if err := out.Sync(); err != nil {
		return 0, "", nil, err
	}
	if err := out.Close(); err != nil {
		return 0, "", nil, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, "", nil, err
	}
	return size, sum.hex(), members, nil
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

// Decompress writes the generation's compressed images, uncompressed, into
// dir, the shim's own members each on its own core, and returns their paths
// in the order of ImagePaths; uncompressed images are returned where they
// are. dmtcp_restart reads gzip images too, but through one gzip -d found
// on PATH. A failure removes what it wrote.
func (g *Generation) Decompress(ctx context.Context, dir string, how Compressing) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out, written []string
	fail := func(err error) ([]string, error) {
		for _, p := range written {
			_ = os.Remove(p)
		}
		return nil, err
	}
	for _, f := range g.Manifest.Files {
		if !f.Image {
			continue
		}
		src := filepath.Join(g.Dir, f.Name)
		if !f.Gzip {
			out = append(out, src)
			continue
		}
		dst := filepath.Join(dir, filepath.Base(f.Name))
		written = append(written, dst)
		if err := decompressFile(ctx, src, dst, f, how); err != nil {
			return fail(fmt.Errorf("decompress %s: %w", f.Name, err))
		}
		out = append(out, dst)
	}
	return out, nil
}

// decompressFile inflates f's members in parallel, each into its place in
// dst (member i holds bytes [i*chunkSize, ...) of the image).
func decompressFile(ctx context.Context, src, dst string, f File, how Compressing) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if len(f.Members) == 0 {
		// One stream (DMTCP's own gzip): one core.
		zr, err := gzip.NewReader(in)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, zr); err != nil {
			return err
		}
		return out.Close()
	}
	if err := out.Truncate(f.RawSize); err != nil {
		return err
	}
	workers := workers(how)
	type member struct{ i, off, size int64 }
	jobs := make(chan member)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				zr, err := gzip.NewReader(io.NewSectionReader(in, m.off, m.size))
				if err == nil {
					zr.Multistream(false)
					var n int64
					n, err = io.Copy(io.NewOffsetWriter(out, m.i*chunkSize), zr)
					if err == nil && n != min(chunkSize, f.RawSize-m.i*chunkSize) {
						err = fmt.Errorf("member %d holds %d bytes", m.i, n)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var off int64
	var sendErr error
	for i, size := range f.Members {
		select {
		case jobs <- member{int64(i), off, size}:
		case err := <-errs:
			sendErr = err
		case <-ctx.Done():
			sendErr = ctx.Err()
		}
		if sendErr != nil {
			break
		}
		off += size
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if sendErr != nil {
		return sendErr
	}
	if err := <-errs; err != nil {
		return err
	}
	return out.Close()
}
