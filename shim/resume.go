package shim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/proctree"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// resumable finds the generation a start resumes from: the newest one
// that verifies, or nil to launch the program. Damaged generations are set
// aside, never deleted, and said on the log and the job's stderr. When
// checkpoints exist but none is usable, the program is not started over
// unless the user allowed it (--fresh-start): starting over in silence
// would throw away every hour the job had run.
func (s *supervisor) resumable() (*ckptstore.Generation, error) {
	if err := s.store.Tidy(); err != nil {
		return nil, exitcode.Errorf(exitcode.CheckpointDir, "%w", err)
	}
	start := time.Now()
	gen, damaged, err := s.store.Usable()
	if errors.Is(err, ckptstore.ErrNewerFormat) {
		return nil, exitcode.Errorf(exitcode.Incompatible, "checkpoint %v: run the job with the newer shim_dmtcp that wrote it", err)
	}
	if err != nil {
		return nil, exitcode.Errorf(exitcode.CheckpointDir, "read checkpoints: %w (nothing was moved or deleted; run the job again once the checkpoint directory reads)", err)
	}
	for _, d := range damaged {
		s.warn("checkpoint %s", d)
	}
	switch {
	case gen != nil:
		s.lastSize = gen.Manifest.RawSize()
		s.log.Printf("checkpoint generation %d verified: %d file(s), %.1f MB in %s",
			gen.Manifest.Generation, len(gen.Manifest.Files), float64(gen.Manifest.Size())/1e6, time.Since(start).Round(time.Millisecond))
		if len(damaged) > 0 {
			s.warn("falling back to checkpoint generation %d, the newest usable one: the job resumes from there and does again the work done after it", gen.Manifest.Generation)
		}
		return gen, nil
	}
	// Generations set aside by this start or an earlier one are the job's
	// work too: until one is restored (or removed by hand), a start that
	// finds nothing usable must not begin from zero.
	setAside := s.store.SetAside()
	switch {
	case len(setAside) == 0:
		return nil, nil
	case !s.opts.FreshStart:
		what := []string{}
		for _, d := range damaged {
			what = append(what, d.String())
		}
		if len(damaged) == 0 {
			what = append(what, "only generations set aside as damaged are left ("+strings.Join(baseNames(setAside), ", ")+")")
		}
		return nil, exitcode.Errorf(exitcode.NoUsableCheckpoint,
			"no usable checkpoint in %s: %s; nothing was deleted and the program was not started over: restore a good copy of the generation (rename it back to gen-N) and run again, or run with --fresh-start (fresh_start: true under checkpoint: in the job description) to start the program from the beginning",
			s.store.Dir(), strings.Join(what, "; "))
	}
	newest := filepath.Base(setAside[len(setAside)-1])
	s.warn("no usable checkpoint; starting the program over, as --fresh-start allows (the damaged checkpoints stay in %s)", s.store.Dir())
	for _, path := range []string{s.opts.Stdout, s.opts.Stderr} {
		if path == "" || s.opts.KeepOutput {
			continue
		}
		aside, err := keepAside(path, path+"."+newest)
		if err != nil {
			return nil, exitcode.Errorf(exitcode.CheckpointDir, "keep the old output %s aside before starting over: %w", path, err)
		}
		if aside != "" {
			s.log.Printf("the output of the run before is kept as %s", aside)
		}
	}
	return nil, nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// keepAside renames path to name (name.2, ... if that is taken); a path
// that does not exist is left alone.
func keepAside(path, name string) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	target := name
	for i := 2; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
			break
		}
		target = fmt.Sprintf("%s.%d", name, i)
	}
	return target, os.Rename(path, target)
}

// warn says something the job's owner must know: in the log and, when the
// log is a file, on the shim's stderr too (the job's error file).
func (s *supervisor) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Printf("warning: %s", msg)
	if s.log.path != "" {
		fmt.Fprintf(os.Stderr, "shim_dmtcp: warning: %s\n", msg)
	}
}

// restartWaiter is a job that can tell when a restart has it running
// again (DMTCP: every process rejoined its coordinator and resumed).
type restartWaiter interface {
	WaitRestarted(ctx context.Context) error
}

// awaitRestart gives a restart --restart-timeout to have the job running.
// One that hangs (DMTCP 4.2.0 can wait in a futex for ever) is reported
// with what its threads wait on, and killed; the checkpoint stays, for a
// later try.
func (s *supervisor) awaitRestart(ctx context.Context) error {
	w, ok := s.job.(restartWaiter)
	if !ok || s.opts.RestartTimeout <= 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.RestartTimeout+s.restartExtra)
	defer cancel()
	if err := w.WaitRestarted(wctx); err == nil || wctx.Err() == nil {
		// Running, or already ended (supervise reports how).
		return nil
	}
	s.log.Printf("the restarted job is not running after --restart-timeout %s; its threads wait on:", s.opts.RestartTimeout)
	for _, line := range threadReport(s.job.PID()) {
		s.log.Printf("  %s", line)
	}
	// Nothing of it is worth a checkpoint: the one it came from is kept.
	for _, pid := range append(proctree.Descendants(s.job.PID()), -s.job.PID()) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-s.job.Done()
	s.job.Close()
	return exitcode.Errorf(exitcode.RestartTimeout,
		"the restart did not have the job running within --restart-timeout %s (DMTCP hung; what its threads waited on is in %s); the checkpoint is kept: run the job again (condor_release) to retry",
		s.opts.RestartTimeout, s.log.where())
}

// spaceHint says how much room is left where a checkpoint failed, when it
// was (or may have been) a full disk: DMTCP reports that only as its own
// failure.
func spaceHint(err error, dir string) string {
	free, ok := freeSpace(dir)
	if !ok {
		return ""
	}
	if errors.Is(err, syscall.ENOSPC) || free < 64<<20 {
		return fmt.Sprintf(" (the file system of %s has %.1f MB free: no space left?)", dir, float64(free)/1e6)
	}
	return ""
}

// noRoom says why the next checkpoint would not fit, or "" when it may:
// DMTCP writes it into the staging directory, and the store copies it when
// the checkpoint directory is on another file system. The estimate is the
// size of the newest generation; before the first one nothing is known,
// and the checkpoint is tried.
func (s *supervisor) noRoom() string {
	if s.lastSize == 0 {
		return ""
	}
	need := s.lastSize + s.lastSize/4
	stageFree, ok1 := freeSpace(s.stage)
	storeFree, ok2 := freeSpace(s.store.Dir())
	if !ok1 || !ok2 {
		return ""
	}
	if stageFree < need {
		return fmt.Sprintf("the staging file system (%s) has %.1f MB free and the last checkpoint took %.1f MB", s.stage, float64(stageFree)/1e6, float64(s.lastSize)/1e6)
	}
	// Hard links cost the checkpoint directory nothing on the same file
	// system; on another, the store copies the images.
	if !sameFS(s.stage, s.store.Dir()) && storeFree < need {
		return fmt.Sprintf("the checkpoint directory's file system (%s) has %.1f MB free and the last checkpoint took %.1f MB", s.store.Dir(), float64(storeFree)/1e6, float64(s.lastSize)/1e6)
	}
	return ""
}

// freeSpace is what an unprivileged writer can still put on dir's file
// system.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &st) != nil {
		return 0, false
	}
	return int64(st.Bavail) * st.Bsize, true
}

// sameFS reports whether two paths are on one file system.
func sameFS(a, b string) bool {
	var sa, sb syscall.Stat_t
	return syscall.Stat(a, &sa) == nil && syscall.Stat(b, &sb) == nil && sa.Dev == sb.Dev
}
