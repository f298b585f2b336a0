// Package condorckpt runs programs linked with HTCondor's old checkpoint
// library (the standard universe's condor_compile), in the vanilla universe,
// as the shim's second checkpoint engine.
//
// The protocol, from HTCondor's own documentation of such programs: start
// with address-space randomisation off (setarch -R, here the personality
// system call), with "-_condor_ckpt FILE" the first time and
// "-_condor_restart FILE -_condor_relocatable" when FILE exists. SIGUSR2
// makes the program write a checkpoint and go on; SIGTSTP makes it write one
// and exit, dying of SIGUSR2. A checkpoint is written to FILE.tmp and
// renamed to FILE, so FILE is always complete and FILE.tmp never is.
package condorckpt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
	"github.com/dmtcp-condor/dmtcp-condor/shim/engine"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// Personality flags of setarch(8).
const (
	AddrNoRandomize  = 0x0040000 // -R
	AddrCompatLayout = 0x0200000 // -L
	AddrLimit32Bit   = 0x0800000 // -B
)

// ParsePersonality reads setarch-style flag letters: R, L and B.
func ParsePersonality(flags string) (int, error) {
	p := 0
	for _, c := range flags {
		switch c {
		case 'R', 'r':
			p |= AddrNoRandomize
		case 'L', 'l':
			p |= AddrCompatLayout
		case 'B', 'b':
			p |= AddrLimit32Bit
		case ',', ' ', '-':
		default:
			return 0, fmt.Errorf("setarch flag %q: use the letters R (no address randomisation), L (legacy layout), B (32-bit address limit)", string(c))
		}
	}
	return p, nil
}

// Engine starts programs that speak the checkpoint library's protocol.
type Engine struct {
	// File is the checkpoint file's name inside the checkpoint directory.
	File string
	// Personality is ORed into the program's personality (AddrNoRandomize
	// at least: the library cannot restore a randomised address space).
	Personality int
}

// Name is the engine's name in manifests and logs.
func (e *Engine) Name() string { return "condor-syscall" }

// Version is the protocol's version: there is only one.
func (e *Engine) Version() string { return "" }

// Job is one running program.
type Job struct {
	cmd    *exec.Cmd
	file   string // absolute path of the checkpoint file
	done   chan struct{}
	status engine.Status
}

// Launch starts the program with "-_condor_ckpt FILE".
func (e *Engine) Launch(ctx context.Context, spec engine.Spec) (*Job, error) {
	file := filepath.Join(spec.CkptDir, e.File)
	return e.start(spec, file, exitcode.Launch, "-_condor_ckpt", file)
}

// Restart puts the generation's checkpoint file back into the checkpoint
// directory (a hard link: the program replaces FILE by rename, never in
// place, so the generation stays as it was) and starts the program with
// "-_condor_restart FILE -_condor_relocatable".
func (e *Engine) Restart(ctx context.Context, spec engine.Spec, images []string) (*Job, error) {
	if len(images) != 1 {
		return nil, exitcode.Errorf(exitcode.Restart, "restart: want one checkpoint file, the generation has %d", len(images))
	}
	file := filepath.Join(spec.CkptDir, e.File)
	_ = os.Remove(file)
	if err := os.Link(images[0], file); err != nil {
		if err := fsutil.CopyFile(images[0], file); err != nil {
			return nil, exitcode.Errorf(exitcode.Restart, "restart: %w", err)
		}
	}
	return e.start(spec, file, exitcode.Restart, "-_condor_restart", file, "-_condor_relocatable")
}

func (e *Engine) start(spec engine.Spec, file string, failCode int, extra ...string) (*Job, error) {
	argv := append(append([]string{}, spec.Argv...), extra...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = spec.Dir, spec.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startWithPersonality(cmd, e.Personality); err != nil {
		return nil, exitcode.Errorf(failCode, "start %s: %w", argv[0], err)
	}
	j := &Job{cmd: cmd, file: file, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		j.status = engine.StatusOf(cmd.ProcessState)
		close(j.done)
	}()
	return j, nil
}

// startWithPersonality starts cmd with extra personality flags. The
// personality is a property of the thread that forks, and is inherited by
// the child; the shim's own thread gets its old one back at once.
func startWithPersonality(cmd *exec.Cmd, flags int) error {
	if flags == 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, _, errno := syscall.RawSyscall(syscall.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if errno != 0 {
		return fmt.Errorf("read personality: %w", errno)
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PERSONALITY, old|uintptr(flags), 0, 0); errno != 0 {
		return fmt.Errorf("set personality %#x: %w", flags, errno)
	}
	err := cmd.Start()
	syscall.RawSyscall(syscall.SYS_PERSONALITY, old, 0, 0)
	return err
}

// PID is the program's process.
func (j *Job) PID() int { return j.cmd.Process.Pid }

// Done is closed when the program has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Status is how the program ended; valid after Done is closed.
func (j *Job) Status() engine.Status { return j.status }

// Signal sends sig to the program.
func (j *Job) Signal(sig syscall.Signal) error { return j.cmd.Process.Signal(sig) }

type stamp struct {
	ino   uint64
	mtime time.Time
	size  int64
}

func stampOf(path string) (stamp, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{}, false
	}
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	return stamp{ino, st.ModTime(), st.Size()}, true
}

// Checkpoint asks for a checkpoint (SIGUSR2), or with exit for a
// checkpoint-and-exit (SIGTSTP), and returns once FILE has been replaced
// and, with exit, the program has ended. The library does not suspend the
// program for a checkpoint: atSuspend is called only for a
// checkpoint-and-exit, once the program has ended and its output can no
// longer grow. After a checkpoint that lets the program go on, the output
// sizes recorded are those right after it.
func (j *Job) Checkpoint(ctx context.Context, exit bool, atSuspend func()) (engine.Checkpoint, error) {
	var res engine.Checkpoint
	start := time.Now()
	before, _ := stampOf(j.file)
	sig := syscall.SIGUSR2
	if exit {
		sig = syscall.SIGTSTP
	}
	if err := j.cmd.Process.Signal(sig); err != nil {
		return res, fmt.Errorf("checkpoint: signal the program: %w", err)
	}
	written := func() bool {
		now, ok := stampOf(j.file)
		_, tmpErr := os.Stat(j.file + ".tmp")
		return ok && now != before && errors.Is(tmpErr, os.ErrNotExist)
	}
	wait := 2 * time.Millisecond
	for {
		select {
		case <-j.done:
			// With exit this is the expected end; without, the program
			// ended by itself, perhaps after writing the checkpoint.
			if !written() {
				return res, fmt.Errorf("checkpoint: the program ended (%+v) without writing %s", j.status, filepath.Base(j.file))
			}
			if exit && atSuspend != nil {
				atSuspend()
				res.Suspended = true
			}
			return j.result(res, start), nil
		default:
		}
		if !exit && written() {
			return j.result(res, start), nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("checkpoint: %w", ctx.Err())
		case <-j.done:
		case <-time.After(wait):
		}
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
}

func (j *Job) result(res engine.Checkpoint, start time.Time) engine.Checkpoint {
	name := filepath.Base(j.file)
	res.Files, res.Images, res.Processes = []string{name}, []string{name}, 1
	res.Duration = time.Since(start)
	return res
}

// Stop ends the program if a checkpoint-and-exit has not already.
func (j *Job) Stop(ctx context.Context) error {
	select {
	case <-j.done:
		return nil
	default:
	}
	_ = syscall.Kill(-j.cmd.Process.Pid, syscall.SIGKILL)
	<-j.done
	return nil
}

// EndsToCheckpoint says that a checkpoint-and-exit ends the program on
// purpose: its end then is no end of the job.
func (j *Job) EndsToCheckpoint() bool { return true }

// Close has nothing to release: there is no coordinator.
func (j *Job) Close() {}
