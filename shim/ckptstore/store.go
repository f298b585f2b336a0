// Package ckptstore keeps complete checkpoint generations so that the last
// good checkpoint is never lost.
//
// DMTCP writes one image per process into its checkpoint directory and
// replaces each one by itself (write .temp, rename). A multi-process job's
// images are therefore replaced one by one, and a kill between two renames
// leaves a mix of two checkpoints that cannot be restarted. The engine
// writes elsewhere, and once a checkpoint is complete the store hard-links
// (or copies) its files into a new generation directory and writes the
// generation's manifest last, then renames the generation into place. Only
// then are generations older than the last few deleted. A kill at any
// moment leaves at least one generation whose manifest lists files that all
// exist with the recorded sizes.
//
// Disks and transfers damage files too. The manifest records each file's
// size and CRC-32C, which Verify checks before a restart relies on the
// generation: CRC-32C runs at memory speed on every x86-64 and arm64 CPU
// (SSE4.2, ARMv8 CRC), so a 512 MiB image costs a fraction of a second, and
// it catches the damage that happens (truncation, garbage, lost blocks); it
// is no defence against someone who can write the manifest as well. A
// generation that fails is never deleted: it is moved aside as bad-gen-N.
//
// Layout of a store directory (0700, files 0600):
//
//	lock                    flock'ed by the running shim
//	gen-00000007/           a generation: the images + manifest.json
//	gen-00000008.partial/   a commit under way (or interrupted: never used)
//	bad-gen-00000006/       a generation that failed verification, kept aside
package ckptstore

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
	"github.com/dmtcp-condor/dmtcp-condor/shim/platform"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

const (
	manifestName  = "manifest.json"
	genPrefix     = "gen-"
	badPrefix     = "bad-gen-"
	partialSuffix = ".partial"
	lockName      = "lock"
)

// DefaultKeep is how many complete generations a commit leaves: the new one
// and the one before it, so that a new generation found damaged at the next
// start still has a complete predecessor to fall back on. It costs one more
// checkpoint's worth of disk (and of transfer, where the scheduler carries
// the directory).
const DefaultKeep = 2

// File is one file of a generation, relative to the generation directory.
type File struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Image bool   `json:"image,omitempty"` // an image to hand to the restart
	// CRC32C is the file's CRC-32C (Castagnoli), 8 hex digits; empty in
	// manifests written before it was recorded.
	CRC32C string `json:"crc32c,omitempty"`
	// Gzip marks an image the shim compressed after the checkpoint (see
	// Compress); RawSize is then its size uncompressed.
	Gzip    bool  `json:"gzip,omitempty"`
	RawSize int64 `json:"raw_size,omitempty"`
	// Members are the sizes of the gzip members the image is made of, in
	// order, each holding chunkSize bytes of it (the last fewer): they can
	// be decompressed in parallel (see Decompress).
	Members []int64 `json:"members,omitempty"`
}

// Stdio records the job's standard streams at the checkpoint moment, so a
// restart can cut stdout and stderr back to what the checkpointed job had
// written (no duplicated lines) and give stdin back at the same offset.
type Stdio struct {
	StdoutSize  int64 `json:"stdout_size"`  // -1: unknown (not a regular file)
	StderrSize  int64 `json:"stderr_size"`  // -1: unknown
	StdinOffset int64 `json:"stdin_offset"` // -1: unknown
	// Exact is true when the output sizes were read while the job could
	// not write (suspended for the checkpoint, or ended by a
	// checkpoint-and-exit), false when they could only be read after it
	// went on. It says nothing of StdinOffset, which has its own -1.
	Exact bool `json:"exact"`
}

// Manifest describes one complete generation.
type Manifest struct {
	Format     int           `json:"format"`
	Generation int           `json:"generation"`
	Created    time.Time     `json:"created"`
	Engine     string        `json:"engine"`
	Files      []File        `json:"files"`
	Platform   platform.Info `json:"platform"`
	Cwd        string        `json:"cwd"`  // the working directory at launch
	Argv       []string      `json:"argv"` // the program and its arguments
	Stdio      Stdio         `json:"stdio"`
	// OpenFiles are regular files the job had open outside its working
	// directory: DMTCP needs them at the same path to restart.
	OpenFiles []string `json:"open_files,omitempty"`
	Processes int      `json:"processes"`
	// StageKey names the engine's staging directory, which must have the
	// same absolute path at every restart (see package shim).
	StageKey string `json:"stage_key,omitempty"`
	// RuntimeLibs records which copy of each of DMTCP's runtime libraries
	// (the bundle's or the node's) the job ran with, so that a restart on
	// a node that differs says so (see package runtimelib).
	RuntimeLibs []runtimelib.Used `json:"runtime_libs,omitempty"`
	// StageDir is that directory's absolute path (empty in manifests
	// written before it was recorded: the default parent, then StageKey).
	StageDir string `json:"stage_dir,omitempty"`
}

// Size is what the generation's files take on disk.
func (m *Manifest) Size() (n int64) {
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// RawSize is what they take uncompressed: what DMTCP, which writes
// uncompressed images, needs for a checkpoint like this one.
func (m *Manifest) RawSize() (n int64) {
	for _, f := range m.Files {
		if f.Gzip && f.RawSize > 0 {
			n += f.RawSize
		} else {
			n += f.Size
		}
	}
	return n
}

// Images lists the generation's images, in manifest order.
func (m *Manifest) Images() []string {
	var out []string
	for _, f := range m.Files {
		if f.Image {
			out = append(out, f.Name)
		}
	}
	return out
}

// Generation is a complete checkpoint on disk.
type Generation struct {
	Dir      string
	Manifest Manifest
}

// ImagePaths are the absolute paths of the generation's images.
func (g *Generation) ImagePaths() []string {
	var out []string
	for _, name := range g.Manifest.Images() {
		out = append(out, filepath.Join(g.Dir, name))
	}
	return out
}

// Store is an open, locked checkpoint directory.
type Store struct {
	dir  string
	lock *os.File
}

// ErrLocked means another shim is using the same checkpoint directory.
// Open's error names the directory and the holder's pid; the program that
// chose the directory adds how to give each job its own.
var ErrLocked = errors.New("checkpoint directory in use")

// Open creates (0700) and locks the checkpoint directory dir. Two shims in
// one directory would overwrite each other's generations.
func Open(dir string) (*Store, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create checkpoint directory: %w", err)
	}
	// Images hold process memory: keep the directory private even if it
	// was created by someone else's umask or came back from a transfer.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make checkpoint directory private: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(lock)
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked by another shim_dmtcp (pid %s)",
				ErrLocked, dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	_ = lock.Truncate(0)
	_, _ = lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Store{dir: dir, lock: lock}, nil
}

// Inspect gives read-only access to the checkpoint directory dir without
// creating or locking it: for tools that watch a running shim's
// generations (the Grid Engine checkpoint commands). Only Latest may be
// used on it. A directory that does not exist holds no generation.
func Inspect(dir string) (*Store, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's absolute path.
func (s *Store) Dir() string { return s.dir }

// Close releases the lock.
func (s *Store) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

type genDir struct {
	n    int
	name string
}

// entries lists the store's gen-N directories (newest first) and the
// highest number any generation, partial or set aside, has used: numbers
// are never reused, so a bad-gen-N always names one generation.
func (s *Store) entries() (gens []genDir, highest int, err error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) && s.lock == nil {
		return nil, 0, nil // Inspect of a directory not made yet
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list checkpoint directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		num := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(name, badPrefix), genPrefix), partialSuffix)
		if num == name {
			continue
		}
		if _, err := strconv.Atoi(num); err != nil {
			// bad-gen-N.2, a second one set aside under the same number
			num, _, _ = strings.Cut(num, ".")
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			continue
		}
		highest = max(highest, n)
		if name == genName(n) {
			gens = append(gens, genDir{n, name})
		}
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i].n > gens[j].n })
	return gens, highest, nil
}

func genName(n int) string { return fmt.Sprintf("%s%08d", genPrefix, n) }

// generations lists the gen-N directories, newest first.
func (s *Store) generations() ([]genDir, error) {
	gens, _, err := s.entries()
	return gens, err
}

// Latest returns the newest generation whose manifest and files look
// complete (names and sizes; the contents are not read), or nil if there is
// none; why others were passed over is returned in skipped. It is for
// watchers of a running shim (Inspect); a restart uses Usable.
func (s *Store) Latest() (g *Generation, skipped []string, err error) {
	gens, err := s.generations()
	if err != nil {
		return nil, nil, err
	}
	for _, gd := range gens {
		gen, err := s.load(gd)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", gd.name, err))
			continue
		}
		return gen, skipped, nil
	}
	return nil, skipped, nil
}

// SetAside lists the generations set aside as damaged (bad-gen-N).
func (s *Store) SetAside() []string {
	m, _ := filepath.Glob(filepath.Join(s.dir, badPrefix+"*"))
	return m
}

// StageParent is the default parent of a user's staging directories (the
// engine's own checkpoint directory, see Manifest.StageDir) under stageDir:
// one per user, so that jobs of different users never share one.
func StageParent(stageDir string, uid int) string {
	return filepath.Join(stageDir, fmt.Sprintf("dmtcp-condor-%d", uid))
}

// StagePathOK reports whether dir, read from a manifest, is a staging
// directory the shim makes for user uid: an absolute, clean path ending in
// dmtcp-condor-UID[-XXXXXX]/KEY, KEY hex. Anything else could make the shim
// (or a Grid Engine clean command) empty or chmod a directory that is not
// its own.
func StagePathOK(dir, key string, uid int) bool {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || filepath.Base(dir) != key || !StageKeyOK(key) {
		return false
	}
	parent := filepath.Base(filepath.Dir(dir))
	own := filepath.Base(StageParent("/", uid))
	return parent == own || strings.HasPrefix(parent, own+"-")
}

// StageKeyOK reports whether key is a stage key the shim makes (hex).
func StageKeyOK(key string) bool {
	if key == "" {
		return false
	}
	for _, c := range key {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// Damaged is a generation that failed verification and was moved aside.
type Damaged struct {
	Generation int
	Aside      string // the directory it now is, bad-gen-N
	Reason     string
}

func (d Damaged) String() string {
	return fmt.Sprintf("generation %d is damaged (%s); kept aside as %s", d.Generation, d.Reason, d.Aside)
}

// Usable returns the newest generation that Verify proves intact, moving
// each newer one that fails aside (bad-gen-N; nothing is deleted) and
// saying so in damaged. A nil generation with damaged non-empty means
// checkpoints existed but none can be used. It needs the lock (Open).
func (s *Store) Usable() (g *Generation, damaged []Damaged, err error) {
	if s.lock == nil {
		return nil, nil, errors.New("checkpoint store opened read-only")
	}
	gens, err := s.generations()
	if err != nil {
		return nil, nil, err
	}
	for _, gd := range gens {
		gen, err := s.load(gd)
		if err == nil {
			err = gen.Verify()
		}
		if err == nil {
			return gen, damaged, nil
		}
		if !IsDamage(err) {
			// An I/O error, or a manifest of a newer shim: nothing says
			// the generation is bad, so it is left where it is.
			return nil, damaged, fmt.Errorf("generation %d: %w", gd.n, err)
		}
		aside, merr := s.setAside(gd)
		if merr != nil {
			return nil, damaged, fmt.Errorf("generation %d is damaged (%v) and cannot be moved aside: %w", gd.n, err, merr)
		}
		damaged = append(damaged, Damaged{Generation: gd.n, Aside: aside, Reason: err.Error()})
	}
	return nil, damaged, nil
}

// setAside renames a damaged generation to bad-gen-N (bad-gen-N.2, ... if
// that is taken), so that it is never restarted from nor deleted.
func (s *Store) setAside(gd genDir) (string, error) {
	base := badPrefix + strings.TrimPrefix(gd.name, genPrefix)
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(filepath.Join(s.dir, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(filepath.Join(s.dir, gd.name), filepath.Join(s.dir, name)); err != nil {
		return "", err
	}
	return name, syncDir(s.dir)
}

// Verify proves a generation's files are what its manifest recorded: each
// file's size and, where recorded, its CRC-32C. What it finds wrong with
// the contents is a damage error (IsDamage); an error reading them is not.
func (g *Generation) Verify() error {
	for _, f := range g.Manifest.Files {
		if f.CRC32C == "" {
			continue // an older manifest: load checked the size
		}
		sum, size, err := fileCRC(filepath.Join(g.Dir, f.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return damagef("file %s missing", f.Name)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		if size != f.Size {
			return damagef("file %s has %d bytes, manifest says %d", f.Name, size, f.Size)
		}
		if sum != f.CRC32C {
			return damagef("file %s is damaged: its CRC-32C is %s, manifest says %s", f.Name, sum, f.CRC32C)
		}
	}
	return nil
}

// damage is what is wrong with a generation's contents (as opposed to an
// error reading them, which may pass).
type damage struct{ msg string }

func (d *damage) Error() string { return d.msg }

func damagef(format string, args ...any) error {
	return &damage{fmt.Sprintf(format, args...)}
}

// IsDamage reports whether err says a generation's contents are wrong:
// missing or garbled manifest, a file missing, cut short or changed.
func IsDamage(err error) bool {
	var d *damage
	return errors.As(err, &d)
}

// ErrNewerFormat marks a generation written by a newer shim: not damage,
// but not this shim's to read either.
var ErrNewerFormat = errors.New("written by a newer shim_dmtcp (manifest format)")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc is a running CRC-32C.
type crc struct{ sum uint32 }

func newCRC() *crc { return &crc{} }

func (c *crc) Write(p []byte) { c.sum = crc32.Update(c.sum, castagnoli, p) }

func (c *crc) hex() string { return fmt.Sprintf("%08x", c.sum) }

// fileCRC reads a file through once: its CRC-32C and size.
func fileCRC(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// load reads a generation's manifest and checks that its files are there
// with their sizes. A gen-N directory without a manifest is damage, not an
// interrupted commit: a commit renames a generation into place only after
// its manifest is durable.
func (s *Store) load(gd genDir) (*Generation, error) {
	dir := filepath.Join(s.dir, gd.name)
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, damagef("its manifest.json is missing")
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, damagef("manifest unreadable: %v", err)
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("%w %d; this shim reads %d", ErrNewerFormat, m.Format, FormatVersion)
	}
	if m.Format != FormatVersion {
		return nil, damagef("manifest format %d, this shim reads %d", m.Format, FormatVersion)
	}
	if m.Generation != gd.n {
		return nil, damagef("manifest says generation %d", m.Generation)
	}
	if len(m.Images()) == 0 {
		return nil, damagef("manifest lists no images")
	}
	for _, f := range m.Files {
		if !localName(f.Name) {
			return nil, damagef("manifest names %q outside the generation", f.Name)
		}
		st, err := os.Lstat(filepath.Join(dir, f.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, damagef("file %s missing", f.Name)
		}
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() || st.Size() != f.Size {
			return nil, damagef("file %s has %d bytes, manifest says %d", f.Name, st.Size(), f.Size)
		}
	}
	return &Generation{Dir: dir, Manifest: m}, nil
}

func localName(name string) bool {
	return name != "" && filepath.IsLocal(name)
}

// Commit turns the checkpoint the engine wrote into src into the newest
// generation. names are paths relative to src: images, and any directory
// of files that travels with them; images marks which of them the restart
// takes. m's Files and Generation are filled in here.
//
// The generation is built as gen-N.partial (files linked or copied,
// synced, checksummed, manifest last) and renamed to gen-N only once it
// reads back complete. On an error nothing of it is left and the older
// generations are untouched. A nil error means the generation is durable.
// Then the committed files are removed from src, so the engine's next
// checkpoint writes new files and cannot touch this generation: a failure
// there returns the generation with ErrClear. Older generations are left
// to Prune.
func (s *Store) Commit(src string, names []string, images map[string]bool, m Manifest) (g *Generation, err error) {
	_, highest, err := s.entries()
	if err != nil {
		return nil, err
	}
	n := highest + 1
	final := filepath.Join(s.dir, genName(n))
	dir := final + partialSuffix
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create generation %d: %w", n, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	m.Format, m.Generation, m.Files = FormatVersion, n, nil
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	for _, rel := range names {
		if !localName(rel) {
			return nil, fmt.Errorf("commit: %q is not inside %s", rel, src)
		}
		files, err := linkTree(filepath.Join(src, rel), dir, rel)
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", rel, err)
		}
		for i := range files {
			files[i].Image = images[files[i].Name]
		}
		m.Files = append(m.Files, files...)
	}
	if len(m.Images()) == 0 {
		return nil, errors.New("commit: no images")
	}
	if err := s.writeManifest(dir, m); err != nil {
		return nil, err
	}
	if err := os.Rename(dir, final); err != nil {
		return nil, fmt.Errorf("complete generation %d: %w", n, err)
	}
	dir = final
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	// Read back what a restart would read before anything older may go.
	if g, err = s.load(genDir{n, genName(n)}); err != nil {
		return nil, fmt.Errorf("generation %d does not read back: %w", n, err)
	}
	for _, rel := range names {
		if err := os.RemoveAll(filepath.Join(src, rel)); err != nil {
			return g, fmt.Errorf("%w: %v", ErrClear, err)
		}
	}
	return g, nil
}

// writeManifest writes (or replaces, in one rename) a generation's
// manifest durably.
func (s *Store) writeManifest(dir string, m Manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, manifestName), data); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return syncDir(dir)
}

func encodeManifest(m Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(data, '\n'), nil
}

// ErrClear means a generation was committed, but the engine's copy of its
// files could not be removed from the engine's directory.
var ErrClear = errors.New("generation committed; clearing the engine's directory failed")

// Prune deletes complete generations beyond the newest keep (at least 1).
// It is called only after a newer generation is committed, so a generation
// is never deleted before a newer complete one exists.
func (s *Store) Prune(keep int) error {
	gens, err := s.generations()
	if err != nil {
		return err
	}
	keep = max(keep, 1)
	var errs []error
	kept := 0
	for _, gd := range gens {
		if kept < keep {
			if _, err := s.load(gd); err == nil {
				kept++
				continue
			}
			// Not complete: it is no reason to delete a good one. The
			// next start sets it aside.
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, gd.name)); err != nil {
			errs = append(errs, fmt.Errorf("remove superseded %s: %w", gd.name, err))
		}
	}
	return errors.Join(errs...)
}

// linkTree hard-links src (a file, or a directory of files) to dstRoot/rel,
// falling back to a copy where the file system has no hard links (or src is
// on another one), and syncs and checksums each file so that the manifest
// never outlives the data it describes.
func linkTree(src, dstRoot, rel string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		sub, _ := filepath.Rel(src, path)
		name := filepath.Join(rel, sub)
		dst := filepath.Join(dstRoot, name)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o700)
		case d.Type().IsRegular():
			if err := os.Link(path, dst); err != nil {
				if err := fsutil.CopyFile(path, dst); err != nil {
					return err
				}
			}
			if err := syncFile(dst); err != nil {
				return err
			}
			sum, size, err := fileCRC(dst)
			if err != nil {
				return err
			}
			files = append(files, File{Name: name, Size: size, CRC32C: sum})
		}
		return nil // symlinks and the like do not travel
	})
	return files, err
}

// syncFile makes a file private and durable.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Tidy removes what an interrupted commit left behind, which never became
// a generation: gen-N.partial directories. Generations, complete or
// damaged, are never touched here.
func (s *Store) Tidy() error {
	partial, err := filepath.Glob(filepath.Join(s.dir, genPrefix+"*"+partialSuffix))
	if err != nil {
		return err
	}
	for _, p := range partial {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove interrupted commit %s: %w", filepath.Base(p), err)
		}
	}
	gens, err := s.generations()
	if err != nil {
		return err
	}
	for _, gd := range gens {
		if g, err := s.load(gd); err == nil {
			g.tidyCompression()
		}
	}
	return nil
}

// tidyCompression removes what an interrupted Compress left in a complete
// generation: the compressed copies when the manifest still names the
// uncompressed images, or the uncompressed ones once it names the others.
func (g *Generation) tidyCompression() {
	inZ := false
	for _, f := range g.Manifest.Files {
		inZ = inZ || strings.HasPrefix(f.Name, compressedDir+"/")
	}
	_ = os.Remove(filepath.Join(g.Dir, manifestName+".tmp"))
	if !inZ {
		_ = os.RemoveAll(filepath.Join(g.Dir, compressedDir))
		return
	}
	entries, _ := os.ReadDir(g.Dir)
	for _, e := range entries {
		if e.Name() != manifestName && e.Name() != compressedDir {
			_ = os.RemoveAll(filepath.Join(g.Dir, e.Name()))
		}
	}
}

// Remove deletes every checkpoint once the job has finished for good: they
// can no longer be used, and HTCondor would transfer them back to the
// submit directory. Generations set aside as damaged stay, for whoever
// wants to know what happened; the directory itself stays too: a submit
// file's transfer_output_files names it, and HTCondor holds a job whose
// listed output is missing.
func (s *Store) Remove() error {
	s.Close()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), badPrefix) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
