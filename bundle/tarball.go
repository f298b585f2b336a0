package bundle

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compressions are the bundle's formats, by --compression name: the
// file name's extension after ".tar.".
var Compressions = []string{"gz", "zst", "xz"}

// compressor wraps w in the compression named c. Each is deterministic:
// gzip without name or time, zstd on one goroutine, xz single-threaded.
func compressor(w io.Writer, c string) (io.WriteCloser, error) {
	switch c {
	case "gz", "":
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case "zst":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	case "xz":
		return xz.WriterConfig{}.NewWriter(w)
	}
	return nil, fmt.Errorf("--compression %q: use one of %s", c, strings.Join(Compressions, ", "))
}

// decompressor reads a tarball compressed in any of Compressions, told
// apart by their magic numbers.
func decompressor(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xz.NewReader(br)
	}
	return nil, fmt.Errorf("not a tar.gz, tar.zst or tar.xz (starts with % x)", magic)
}

// writeTar writes entries (sorted, directories ending in "/") below top
// with every header field fixed: mtime, root:root, 0755 or 0644, no access
// or change times, compressed as c.
func writeTar(w io.Writer, c, top string, entries []*entry, mtime time.Time) error {
	zw, err := compressor(w, c)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	mtime = mtime.UTC().Truncate(time.Second)
	hdr := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: mtime,
			Uid: 0, Gid: 0, Uname: "root", Gname: "root"}
	}
	if err := tw.WriteHeader(hdr(top+"/", tar.TypeDir, 0o755, 0)); err != nil {
		return err
	}
	for _, e := range entries {
		name := top + "/" + e.name
		if err := checkName(top, name); err != nil {
			return err
		}
		if strings.HasSuffix(e.name, "/") {
			if err := tw.WriteHeader(hdr(name, tar.TypeDir, 0o755, 0)); err != nil {
				return err
			}
			continue
		}
		mode := int64(0o644)
		if e.exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(hdr(name, tar.TypeReg, mode, e.size)); err != nil {
			return err
		}
		if err := copyEntry(tw, e); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// copyEntry writes an entry's bytes and insists they are still the ones
// hashed for SHA256SUMS (a file changing under us would make a bundle
// whose manifest lies).
func copyEntry(w io.Writer, e *entry) error {
	if e.src == "" {
		_, err := w.Write(e.data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return fmt.Errorf("read %s: %w", e.src, err)
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, e.size))
	if err != nil {
		return fmt.Errorf("read %s: %w", e.src, err)
	}
	if n != e.size {
		return fmt.Errorf("%s changed while the bundle was written (now %d bytes, was %d); run again", e.src, n, e.size)
	}
	return nil
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

// extract unpacks a bundle into dir, accepting only directories and
// regular files below the bundle's own top directory; it returns that
// top directory's path.
func extract(tarball, dir string) (string, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := decompressor(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tarball, err)
	}
	tr := tar.NewReader(zr)
	top := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", tarball, err)
		}
		if top == "" {
			top = strings.TrimSuffix(h.Name, "/")
		}
		if err := checkName(top, h.Name); err != nil && h.Name != top+"/" {
			return "", fmt.Errorf("%s: %w", tarball, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(h.Mode)&0o755)
			if err != nil {
				return "", fmt.Errorf("extract %s: %w", h.Name, err)
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return "", fmt.Errorf("extract %s: %w", h.Name, err)
			}
		default:
			return "", fmt.Errorf("%s: entry %s has type %q; a bundle holds only directories and regular files", tarball, h.Name, h.Typeflag)
		}
	}
	if top == "" {
		return "", fmt.Errorf("%s is empty", tarball)
	}
	return filepath.Join(dir, top), nil
}
