package shim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
)

// makeStage creates the directory DMTCP writes checkpoints into: private,
// empty, and at the same absolute path wherever the job restarts (see
// DefaultStageDir), which is why a generation records it.
//
// The default parent sits in a shared directory (/tmp), where any local user
// can create it first: as a symlink (whose target the shim would then
// chmod) or as a directory of their own (where the shim cannot write). The
// shim never uses one that is not its user's own directory; it says so and
// makes a private parent with an unguessable name instead, which the
// generations record, so that another user can neither redirect nor block
// a user's jobs.
func (s *supervisor) makeStage(gen *ckptstore.Generation) error {
	var dir string
	switch {
	case gen != nil && gen.Manifest.StageDir != "":
		dir = gen.Manifest.StageDir
		if !ckptstore.StagePathOK(dir, gen.Manifest.StageKey, os.Getuid()) {
			return fmt.Errorf("checkpoint generation %d records %q as its staging directory, which is not one the shim makes (dmtcp-condor-UID[-XXXXXX]/KEY); the manifest is not to be trusted", gen.Manifest.Generation, dir)
		}
		s.privateParent = filepath.Base(filepath.Dir(dir)) != filepath.Base(ckptstore.StageParent("/", os.Getuid()))
		if err := ownDir(filepath.Dir(dir)); err != nil {
			return fmt.Errorf("the checkpoint must be restarted with DMTCP's staging directory at %s, the path it was taken with, and that path is not usable here: %w", dir, err)
		}
	default:
		key := ""
		if gen != nil {
			key = gen.Manifest.StageKey // written before the path was recorded
			if key != "" && !ckptstore.StageKeyOK(key) {
				return fmt.Errorf("checkpoint generation %d records the stage key %q, which is not one the shim makes", gen.Manifest.Generation, key)
			}
		}
		if key == "" {
			b := make([]byte, 8)
			if _, err := rand.Read(b); err != nil {
				return fmt.Errorf("stage key: %w", err)
			}
			key = hex.EncodeToString(b)
		}
		parent := ckptstore.StageParent(s.opts.StageDir, os.Getuid())
		if err := ownDir(parent); err != nil {
			if gen != nil {
				return fmt.Errorf("the checkpoint must be restarted with DMTCP's staging directory in %s, which is not usable here: %w", parent, err)
			}
			private, merr := os.MkdirTemp(s.opts.StageDir, filepath.Base(parent)+"-")
			if merr != nil {
				return fmt.Errorf("create staging directory in %s (--stage-dir): %w", s.opts.StageDir, merr)
			}
			s.warn("not using %s for DMTCP's staging directory: %v (another user may have made it); using %s instead, which the checkpoints record", parent, err, private)
			parent, s.privateParent = private, true
		}
		dir = filepath.Join(parent, key)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear staging directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("create staging directory (--stage-dir): %w", err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("staging directory: %w", err)
	}
	s.stage, s.key = real, filepath.Base(dir)
	return nil
}

// ownDir makes sure dir is a directory of this user's own, private (0700),
// creating it if it is missing. A symlink is refused, not followed.
func ownDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(dir)
		return fmt.Errorf("%s is a symbolic link (to %s), not a directory", dir, target)
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this job's user (uid %d)", dir, sys.Uid, os.Getuid())
	}
	if st.Mode().Perm() != 0o700 {
		// Ours and not a link (in a sticky /tmp nobody else can swap it).
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// removeStage removes the job's staging directory, and its parent when
// that was private to this job. The shared default parent stays: removing
// it would let another user recreate it between a job's check of it and
// its use.
func (s *supervisor) removeStage() {
	if s.stage == "" {
		return
	}
	if err := os.RemoveAll(s.stage); err != nil {
		s.log.Printf("warning: remove staging directory: %v", err)
	}
	if s.privateParent {
		_ = os.Remove(filepath.Dir(s.stage)) // only if empty
	}
}
