package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/mholt/archives"
)

// Compressions are the bundle's formats, by the name Options.Compression
// gives: the file name's extension after ".tar.".
var Compressions = []string{"gz", "zst", "xz"}

// compression is the writer of compression c. Each writes the same bytes
// for the same input: zstd with one encoder goroutine (several would split
// the input by timing) and xz single-threaded, both through mholt/archives;
// gzip through the standard library, without name or time, because
// archives.Gz (klauspost's gzip) writes a zero time as 2042-07-14
// (uint32(time.Time{}.Unix())) where gzip means "no time" by 0.
func compression(c string) (archives.Compressor, error) {
	switch c {
	case "gz", "":
		return stdGzip{}, nil
	case "zst":
		return archives.Zstd{EncoderOptions: []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1)}}, nil
	case "xz":
		return archives.Xz{}, nil
	}
	return nil, badInput("Compression", fmt.Errorf("compression %q: use one of %s", c, strings.Join(Compressions, ", ")))
}

// stdGzip is compress/gzip as an archives.Compressor.
type stdGzip struct{}

func (stdGzip) OpenWriter(w io.Writer) (io.WriteCloser, error) {
	return gzip.NewWriterLevel(w, gzip.DefaultCompression)
}

// writeTar writes entries (sorted, directories ending in "/") below top
// with archives.Tar, compressed as c. The archive is byte-reproducible
// because every header field comes from entryInfo, not from the disk:
// mtime, root:root (through a *tar.Header as Sys, as archive/tar's
// FileInfoHeader reads it: archives.Tar overrides owners only when
// non-zero), 0755 or 0644, no access or change times; and the caller gives
// the entries in a fixed order. archives.Tar and CompressedArchive drop
// the errors of closing the tar and the compressor, so the compressor is
// opened and closed here, and a short or changed file is reported by the
// entry's reader (see entryFile).
func writeTar(ctx context.Context, w io.Writer, c, top string, entries []*entry, mtime time.Time) error {
	comp, err := compression(c)
	if err != nil {
		return err
	}
	mtime = mtime.UTC().Truncate(time.Second)
	files := []archives.FileInfo{{FileInfo: entryInfo{name: top, dir: true, mtime: mtime}, NameInArchive: top + "/"}}
	for _, e := range entries {
		name := top + "/" + e.name
		if err := checkName(top, name); err != nil {
			return err
		}
		e := e
		info := entryInfo{name: path.Base(e.name), dir: strings.HasSuffix(e.name, "/"), exec: e.exec, size: e.size, mtime: mtime}
		files = append(files, archives.FileInfo{FileInfo: info, NameInArchive: name, Open: func() (fs.File, error) { return e.open(info) }})
	}
	zw, err := comp.OpenWriter(w)
	if err != nil {
		return err
	}
	if err := (archives.Tar{}).Archive(ctx, zw, files); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
}

// entryInfo is the fs.FileInfo of a bundle entry: everything a tar header
// takes from it is fixed here.
type entryInfo struct {
	name  string
	dir   bool
	exec  bool
	size  int64
	mtime time.Time
}

func (i entryInfo) Name() string       { return i.name }
func (i entryInfo) Size() int64        { return i.size }
func (i entryInfo) ModTime() time.Time { return i.mtime }
func (i entryInfo) IsDir() bool        { return i.dir }
func (i entryInfo) Mode() fs.FileMode {
	switch {
	case i.dir:
		return fs.ModeDir | 0o755
	case i.exec:
		return 0o755
	}
	return 0o644
}

// Sys gives archive/tar's FileInfoHeader the owner (root:root by name and
// number), so nothing is looked up on this machine.
func (i entryInfo) Sys() any { return &tar.Header{Uname: "root", Gname: "root"} }

// open gives the entry's bytes, checking them against the size and
// sha256 SHA256SUMS was made with.
func (e *entry) open(info entryInfo) (fs.File, error) {
	if e.src == "" {
		return &entryFile{e: e, info: info, r: bytes.NewReader(e.data), h: sha256.New()}, nil
	}
	f, err := os.Open(e.src)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.src, err)
	}
	return &entryFile{e: e, info: info, r: io.LimitReader(f, e.size), f: f, h: sha256.New()}, nil
}

// entryFile reads an entry and insists its bytes are still the ones hashed
// for SHA256SUMS: a file changing under us would make a bundle whose
// manifest lies. archives.Tar copies with io.CopyN, which drops an error
// that comes with the last bytes and ignores an early EOF, so the Read that
// reaches the end checks first and, on a mismatch, returns the error with
// no bytes.
type entryFile struct {
	e    *entry
	info entryInfo
	r    io.Reader
	f    *os.File
	h    hash.Hash
	n    int64
}

func (x *entryFile) Stat() (fs.FileInfo, error) { return x.info, nil }

func (x *entryFile) Close() error {
	if x.f != nil {
		return x.f.Close()
	}
	return nil
}

func (x *entryFile) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	x.h.Write(p[:n])
	x.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read %s: %w", x.e.src, err)
	}
	if errors.Is(err, io.EOF) || x.n == x.e.size {
		src := x.e.src
		if src == "" {
			src = x.e.name
		}
		if x.n != x.e.size {
			return 0, fmt.Errorf("%s changed while the bundle was written (now %d bytes, was %d); run again", src, x.n, x.e.size)
		}
		if sum := hex.EncodeToString(x.h.Sum(nil)); sum != x.e.sum {
			return 0, fmt.Errorf("%s changed while the bundle was written (sha256 now %s, was %s); run again", src, sum, x.e.sum)
		}
	}
	return n, err
}

// checkName refuses any name that could land outside the top directory
// when extracted.
func checkName(top, name string) error {
	clean := path.Clean(name)
	if strings.HasSuffix(name, "/") {
		clean += "/"
	}
	switch {
	case path.IsAbs(name):
		return fmt.Errorf("bundle entry %q is an absolute path", name)
	case clean != name, strings.Contains(name, ".."):
		return fmt.Errorf("bundle entry %q is not a clean relative path", name)
	case name != top+"/" && !strings.HasPrefix(name, top+"/"):
		return fmt.Errorf("bundle entry %q is outside %s/", name, top)
	}
	return nil
}

// extract unpacks a bundle into dir and returns its top directory's path.
// The format is told by content, not by name (mholt/archives' Identify
// with no file name): a tar compressed as any of Compressions, or any
// other archive format that library reads (a plain tar, a zip, another
// compression), so a bundle repacked on its way to a site still verifies.
// Only directories and regular files below the first entry's top
// directory are accepted, each checked before anything is written.
func extract(ctx context.Context, bundle, dir string) (string, error) {
	f, err := os.Open(bundle)
	if err != nil {
		return "", err
	}
	defer f.Close()
	format, stream, err := archives.Identify(ctx, "", f)
	if errors.Is(err, archives.NoMatch) {
		return "", fmt.Errorf("%s is not an archive (a bundle is a .tar.gz, .tar.zst or .tar.xz)", bundle)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", bundle, err)
	}
	ex, ok := format.(archives.Extractor)
	if !ok {
		return "", fmt.Errorf("%s is %s data, not an archive (a bundle is a .tar.gz, .tar.zst or .tar.xz)", bundle, strings.TrimPrefix(format.Extension(), "."))
	}
	top := ""
	err = ex.Extract(ctx, stream, func(ctx context.Context, fi archives.FileInfo) error {
		name := fi.NameInArchive
		if fi.IsDir() && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		if top == "" {
			top, _, _ = strings.Cut(name, "/")
		}
		if err := checkName(top, name); err != nil {
			return err
		}
		if err := regularOrDir(fi); err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		// An archive need not list a file's directories (zip often does not).
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		in, err := fi.Open()
		if err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fi.Mode().Perm()&0o755)
		if err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", bundle, err)
	}
	if top == "" {
		return "", fmt.Errorf("%s is empty", bundle)
	}
	return filepath.Join(dir, top), nil
}

// regularOrDir refuses every entry but a directory or a regular file:
// links, devices, pipes. A tar hard link's FileInfo looks like a regular
// file, so a tar entry's own type decides.
func regularOrDir(fi archives.FileInfo) error {
	if h, ok := fi.Header.(*tar.Header); ok {
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg {
			return fmt.Errorf("entry %s has type %q; a bundle holds only directories and regular files", h.Name, h.Typeflag)
		}
		return nil
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() || fi.LinkTarget != "" {
		return fmt.Errorf("entry %s is a %s; a bundle holds only directories and regular files", fi.NameInArchive, fi.Mode().Type())
	}
	return nil
}
