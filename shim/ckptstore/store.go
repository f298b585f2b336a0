// Package ckptstore keeps complete checkpoint generations so that the last
// good checkpoint is never lost.
//
// DMTCP writes one image per process into its checkpoint directory and
// replaces each one by itself (write .temp, rename). A multi-process job's
// images are therefore replaced one by one, and a kill between two renames
// leaves a mix of two checkpoints that cannot be restarted. The engine
// writes elsewhere, and once a checkpoint is complete the store hard-links
// (or copies) its files into a new generation directory and writes the
// generation's manifest last, atomically. Only then are older generations
// deleted. A kill at any moment leaves at least one generation whose
// manifest lists files that all exist with the recorded sizes.
//
// Layout of a store directory (0700, files 0600):
//
//	lock              flock'ed by the running shim
//	gen-00000007/     a generation: the images + manifest.json
package ckptstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/shim/internal/fsutil"
	"github.com/dmtcp-condor/dmtcp-condor/shim/platform"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

const (
	manifestName = "manifest.json"
	genPrefix    = "gen-"
	lockName     = "lock"
)

// File is one file of a generation, relative to the generation directory.
type File struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Image bool   `json:"image,omitempty"` // an image to hand to the restart
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
			return nil, fmt.Errorf("%w: %s is locked by another shim_dmtcp (pid %s); give each job its own --ckpt-dir",
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

// generations lists the gen-N directories, newest first.
func (s *Store) generations() ([]genDir, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) && s.lock == nil {
		return nil, nil // Inspect of a directory not made yet
	}
	if err != nil {
		return nil, fmt.Errorf("list checkpoint directory: %w", err)
	}
	var gens []genDir
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), genPrefix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), genPrefix))
		if err != nil || n <= 0 {
			continue
		}
		gens = append(gens, genDir{n, e.Name()})
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i].n > gens[j].n })
	return gens, nil
}

// Latest returns the newest complete generation, or nil if there is none.
// Generations that are not complete are skipped; why is returned in skipped
// so the caller can log it.
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

// errIncomplete marks a generation whose manifest was never written: a
// commit that was interrupted.
var errIncomplete = errors.New("incomplete (no manifest: the commit was interrupted)")

func (s *Store) load(gd genDir) (*Generation, error) {
	dir := filepath.Join(s.dir, gd.name)
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errIncomplete
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest unreadable: %w", err)
	}
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("manifest format %d, this shim reads %d", m.Format, FormatVersion)
	}
	if m.Generation != gd.n {
		return nil, fmt.Errorf("manifest says generation %d", m.Generation)
	}
	if len(m.Images()) == 0 {
		return nil, errors.New("manifest lists no images")
	}
	for _, f := range m.Files {
		if !localName(f.Name) {
			return nil, fmt.Errorf("manifest names %q outside the generation", f.Name)
		}
		st, err := os.Lstat(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, fmt.Errorf("file %s missing", f.Name)
		}
		if !st.Mode().IsRegular() || st.Size() != f.Size {
			return nil, fmt.Errorf("file %s has %d bytes, manifest says %d", f.Name, st.Size(), f.Size)
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
// takes. m's Files and Generation are filled in here. After the manifest is
// durable, older generations are deleted and the committed files are
// removed from src, so the engine's next checkpoint writes new files and
// cannot touch this generation.
func (s *Store) Commit(src string, names []string, images map[string]bool, m Manifest) (*Generation, error) {
	gens, err := s.generations()
	if err != nil {
		return nil, err
	}
	n := 1
	if len(gens) > 0 {
		n = gens[0].n + 1
	}
	name := fmt.Sprintf("%s%08d", genPrefix, n)
	dir := filepath.Join(s.dir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create generation %s: %w", name, err)
	}
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
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, manifestName), append(data, '\n')); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	g := &Generation{Dir: dir, Manifest: m}
	// The new generation is durable: everything older may go.
	for _, old := range gens {
		if err := os.RemoveAll(filepath.Join(s.dir, old.name)); err != nil {
			return g, fmt.Errorf("remove superseded %s: %w", old.name, err)
		}
	}
	for _, rel := range names {
		if err := os.RemoveAll(filepath.Join(src, rel)); err != nil {
			return g, fmt.Errorf("clear %s: %w", src, err)
		}
	}
	return g, nil
}

// linkTree hard-links src (a file, or a directory of files) to dstRoot/rel,
// falling back to a copy where the file system has no hard links, and syncs
// each file so that the manifest never outlives the data it describes.
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
			size, err := syncFile(dst)
			if err != nil {
				return err
			}
			files = append(files, File{Name: name, Size: size})
		}
		return nil // symlinks and the like do not travel
	})
	return files, err
}

// syncFile makes a file private and durable and returns its size.
func syncFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
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

// Tidy removes what an interrupted run left behind and can never become
// complete: generations without a manifest. Complete generations are kept,
// even ones older than the newest: only Commit deletes those.
func (s *Store) Tidy() error {
	gens, err := s.generations()
	if err != nil {
		return err
	}
	for _, gd := range gens {
		_, err := os.Stat(filepath.Join(s.dir, gd.name, manifestName))
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.RemoveAll(filepath.Join(s.dir, gd.name)); err != nil {
				return fmt.Errorf("remove incomplete %s: %w", gd.name, err)
			}
		}
	}
	return nil
}

// Remove deletes every checkpoint once the job has finished for good: they
// can no longer be used, and HTCondor would transfer them back to the
// submit directory. The directory itself stays, empty: a submit file's
// transfer_output_files names it, and HTCondor holds a job whose listed
// output is missing.
func (s *Store) Remove() error {
	s.Close()
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	return os.Mkdir(s.dir, 0o700)
}
