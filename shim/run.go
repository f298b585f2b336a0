// Package shim is shim_dmtcp: the program a scheduler runs in place of a
// long job so that the job survives eviction.
//
// It runs the job under a checkpoint engine (DMTCP), checkpoints it every
// --ckptint and when the scheduler's vacate signal arrives, keeps complete
// checkpoint generations, and on its next start resumes the job from the
// newest complete one, possibly in another directory on another machine.
// The job's stdout and stderr stay the job's; the shim's own messages go to
// --log. Main is the whole program; cmd/shim_dmtcp only calls it.
package shim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
	"github.com/dmtcp-condor/dmtcp-condor/gridengine"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
	"github.com/dmtcp-condor/dmtcp-condor/shim/condorckpt"
	"github.com/dmtcp-condor/dmtcp-condor/shim/engine"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
	"github.com/dmtcp-condor/dmtcp-condor/shim/platform"
)

// Version is stamped at build time (-ldflags "-X ...shim.Version=1.2.0").
var Version = "devel"

// Engine starts a job under a checkpointing system.
type Engine interface {
	Name() string
	Version() string
	Launch(ctx context.Context, spec engine.Spec) (Job, error)
	Restart(ctx context.Context, spec engine.Spec, images []string) (Job, error)
}

// Job is a running, checkpointable computation.
type Job interface {
	PID() int
	Done() <-chan struct{}
	Status() engine.Status
	Signal(sig syscall.Signal) error
	// Checkpoint returns once the checkpoint is complete on disk, calling
	// atSuspend while the job is suspended for it. With exit the job may
	// end with the checkpoint (an engine whose programs checkpoint-and-exit
	// in one step does so); Stop follows either way.
	Checkpoint(ctx context.Context, exit bool, atSuspend func()) (engine.Checkpoint, error)
	// Stop ends the computation after a checkpoint.
	Stop(ctx context.Context) error
	Close()
}

// Main runs shim_dmtcp with os.Args-style args and returns its exit code.
// It does not return when the job died of a signal: the shim then dies of
// the same signal.
//
// Started under one of the Grid Engine commands' names (a symlink named
// dmtcp_starter, dmtcp_checkpoint, ...) it is that command instead.
func Main(args []string) int {
	if len(args) > 0 {
		if role, ok := gridengine.RoleOf(args[0]); ok {
			return gridengine.Main(role, args[1:], Main)
		}
		if filepath.Base(args[0]) == CompressRole {
			return compressMain(args[1:])
		}
	}
	opts, err := ParseOptions(args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim_dmtcp: error: %v\nRun 'shim_dmtcp --help' for usage.\n", err)
		return exitcode.Usage
	}
	if opts.ShowHelp {
		Usage(os.Stdout)
		return 0
	}
	if opts.ShowVersion {
		fmt.Printf("shim_dmtcp %s\n", Version)
		return 0
	}
	log, err := openLog(opts.Log, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim_dmtcp: error: %v; check the --log path\n", err)
		return exitcode.Usage
	}
	defer log.Close()
	// HTCondor's transfer_output_files names these: they must exist however
	// the shim ends, or the job is held for a missing output file.
	for _, f := range []string{opts.Stdout, opts.Stderr} {
		if f != "" {
			if fh, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
				fh.Close()
			}
		}
	}
	os.Mkdir(opts.CkptDir, 0o700)

	// Cleared first: a status left by an earlier run must not describe this one.
	if opts.StatusFile != "" {
		_ = os.Remove(opts.StatusFile)
	}
	status := func(word string, n any) {
		if opts.StatusFile == "" {
			return
		}
		if err := os.WriteFile(opts.StatusFile, fmt.Appendf(nil, "%s %v\n", word, n), 0o644); err != nil {
			log.Printf("warning: write --status-file: %v", err)
		}
	}

	s := &supervisor{opts: opts, log: log}
	res, err := s.run(context.Background())
	if err != nil {
		code := exitcode.Of(err)
		log.Printf("fatal: %v (exit code %d)", err, code)
		fmt.Fprintf(os.Stderr, "shim_dmtcp: error: %v (exit code %d; details in %s)\n", err, code, log.where())
		status("failed", code)
		return code
	}
	switch {
	case res.checkpointed:
		log.Printf("exit %d: checkpointed and stopped", opts.CheckpointExitCode)
		status("checkpointed", opts.CheckpointExitCode)
		return opts.CheckpointExitCode
	case res.status.Signal != 0:
		log.Printf("the job died of %s; the shim does too", SignalName(res.status.Signal))
		status("signal", SignalName(res.status.Signal))
		log.Close()
		dieOfSignal(res.status.Signal)
	}
	log.Printf("exit %d: the job's own exit code", res.status.Code)
	status("exit", res.status.Code)
	return res.status.Code
}

// result is how a run ended without a fatal error.
type result struct {
	status       engine.Status // the job's own end
	checkpointed bool          // stopped after a checkpoint
}

type supervisor struct {
	opts Options
	log  *logger

	cwd   string
	store *ckptstore.Store
	stage string // DMTCP's checkpoint directory, at a stable path
	key   string // stage's last element; kept in every manifest
	// privateParent: stage's parent is this job's own (not the shared
	// dmtcp-condor-UID), to be removed with it.
	privateParent bool
	engine        Engine
	here          *platform.Info // this machine, collected once
	job           Job
	stdio         stdioFiles
	excl          []string // paths never reported as the job's open files
	chirped       bool
	// runtime is the bundle's runtime-library plan for this node (nil
	// without a bundle that carries libraries); runtimeUsed what it
	// chose, recorded with every checkpoint.
	runtime     *runtimelib.Plan
	runtimeUsed []runtimelib.Used
	// compressing is the background compression of the newest
	// generation, while one runs (see compressLater).
	compressing *compression
	// restartExtra lengthens --restart-timeout by the time DMTCP may take
	// to unpack compressed images itself.
	restartExtra time.Duration
	// lastSize is the newest generation's size in bytes (0: none yet),
	// the best guess at what the next checkpoint will need.
	lastSize int64
}

// signals: trapped ones ask the job to leave; forwarded ones go to the
// job. SIGUSR2 (also trapped) asks for a checkpoint now, the job going on.
func (s *supervisor) signals() (trapped, forwarded []os.Signal) {
	trapped = []os.Signal{s.opts.Signal}
	if s.opts.Signal != syscall.SIGTERM {
		trapped = append(trapped, syscall.SIGTERM)
	}
	if s.opts.Engine == "condor-syscall" && s.opts.Signal != syscall.SIGTSTP {
		// The checkpoint library's own "checkpoint and exit" signal.
		trapped = append(trapped, syscall.SIGTSTP)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1} {
		if sig != s.opts.Signal {
			forwarded = append(forwarded, sig)
		}
	}
	return trapped, forwarded
}

func (s *supervisor) run(ctx context.Context) (result, error) {
	// Listen first: a vacate signal that arrives while DMTCP starts up must
	// not kill the shim.
	trapped, forwarded := s.signals()
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, append(append(trapped, forwarded...), syscall.SIGUSR2)...)
	defer signal.Stop(sigc)

	var err error
	if s.cwd, err = os.Getwd(); err != nil {
		return result{}, exitcode.Errorf(exitcode.Internal, "working directory: %w", err)
	}
	if strings.HasPrefix(s.opts.Program, "-") {
		return result{}, exitcode.Errorf(exitcode.Usage, "program name %q starts with '-'; write ./%s", s.opts.Program, s.opts.Program)
	}
	s.log.Printf("shim_dmtcp %s starting in %s: %s", Version, s.cwd, quoteArgv(append([]string{s.opts.Program}, s.opts.Args...)))

	if err := closeInheritedFDs(); err != nil {
		s.log.Printf("warning: cannot list the descriptors the shim inherited: %v", err)
	}
	if s.store, err = ckptstore.Open(s.opts.CkptDir); errors.Is(err, ckptstore.ErrLocked) {
		return result{}, exitcode.Errorf(exitcode.CheckpointDir, "%w; give each job its own --ckpt-dir", err)
	} else if err != nil {
		return result{}, exitcode.Errorf(exitcode.CheckpointDir, "%w", err)
	}
	defer s.store.Close()
	gen, err := s.resumable()
	if err != nil {
		return result{}, err
	}
	if err := s.makeStage(gen); err != nil {
		return result{}, exitcode.Errorf(exitcode.CheckpointDir, "%w", err)
	}
	defer s.removeStage()

	if err := s.findEngine(ctx); err != nil {
		return result{}, err
	}
	if gen != nil {
		err = s.restart(ctx, gen)
	} else {
		err = s.launch(ctx)
	}
	if err != nil {
		return result{}, err
	}
	defer s.job.Close()
	return s.supervise(ctx, sigc, trapped)
}

// findEngine sets up the engine the options name.
func (s *supervisor) findEngine(ctx context.Context) error {
	if s.opts.Engine == "condor-syscall" {
		flags, err := condorckpt.ParsePersonality(s.opts.Setarch)
		if err != nil {
			return exitcode.Errorf(exitcode.Usage, "--setarch: %w", err)
		}
		file := s.opts.CkptFile
		if file == "" {
			file = filepath.Base(s.opts.Program) + ".ckpt"
		}
		s.engine = engineOf[*condorckpt.Job]{&condorckpt.Engine{File: file, Personality: flags}}
		s.excl = []string{s.store.Dir(), s.stage}
		s.log.Printf("engine condor-syscall: checkpoint file %s, personality flags %#x", file, flags)
		return nil
	}
	self, _ := os.Executable()
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	inst, err := dmtcp.Locate(dmtcp.Search{
		Prefix:    s.opts.DMTCPPrefix,
		Cwd:       s.cwd,
		SelfDir:   filepath.Dir(self),
		EnvPrefix: os.Getenv("DMTCP_PREFIX"),
		Path:      os.Getenv("PATH"),
	})
	if err != nil {
		return exitcode.Errorf(exitcode.DMTCPNotFound, "%w", dmtcp.PrefixHint(err, "--dmtcp-prefix"))
	}
	// A bundle's copies of DMTCP's C++ runtime go on the loader path of
	// DMTCP's commands and the job only where this node lacks them,
	// through links in the staging directory, which has the same path on
	// every machine (see package runtimelib); DMTCP's commands inherit
	// the shim's environment.
	if plan, err := runtimelib.Select(inst.Prefix, runtimelib.Node{LDLibraryPath: os.Getenv("LD_LIBRARY_PATH")}); err != nil {
		return exitcode.Errorf(exitcode.DMTCPNotFound, "DMTCP at %s: %w", inst.Prefix, err)
	} else if plan != nil {
		s.runtime, s.runtimeUsed = plan, plan.Used("")
		s.log.Printf("%s", plan.Summary())
		if ok, why := plan.GLIBCOK(); !ok {
			s.log.Printf("warning: %s", why)
		}
		dir := filepath.Join(s.stage, runtimelib.LinkDir)
		if err := plan.Link(dir); err != nil {
			return exitcode.Errorf(exitcode.CheckpointDir, "link the bundle's libraries: %w", err)
		}
		os.Setenv("LD_LIBRARY_PATH", runtimelib.LoaderPath(dir, os.Getenv("LD_LIBRARY_PATH")))
	}
	if err := inst.Probe(ctx); err != nil {
		return exitcode.Errorf(exitcode.DMTCPNotFound, "DMTCP at %s does not run here: %w", inst.Prefix, err)
	}
	s.log.Printf("DMTCP %s at %s (found via %s)", inst.Version, inst.Prefix, inst.Where)
	s.engine = engineOf[*dmtcp.Job]{&dmtcp.Engine{Install: inst}}
	s.excl = []string{s.store.Dir(), s.stage, inst.Prefix}
	return nil
}

// engineOf adapts an engine package, whose Launch and Restart return its
// own job type, to the Engine interface.
type engineOf[J Job] struct {
	e interface {
		Name() string
		Version() string
		Launch(context.Context, engine.Spec) (J, error)
		Restart(context.Context, engine.Spec, []string) (J, error)
	}
}

func (a engineOf[J]) Name() string    { return a.e.Name() }
func (a engineOf[J]) Version() string { return a.e.Version() }
func (a engineOf[J]) Launch(ctx context.Context, spec engine.Spec) (Job, error) {
	j, err := a.e.Launch(ctx, spec)
	if err != nil {
		return nil, err
	}
	return j, nil
}
func (a engineOf[J]) Restart(ctx context.Context, spec engine.Spec, images []string) (Job, error) {
	j, err := a.e.Restart(ctx, spec, images)
	if err != nil {
		return nil, err
	}
	return j, nil
}

func (s *supervisor) spec() engine.Spec {
	logPath := ""
	if s.log.path != "" {
		logPath, _ = filepath.Abs(s.log.path)
	} else {
		// DMTCP's diagnostics go to a file, never to /dev/null; with no
		// --log, one beside the checkpoints.
		logPath = filepath.Join(s.store.Dir(), "dmtcp-diagnostics.log")
	}
	return engine.Spec{
		Argv:    append([]string{s.opts.Program}, s.opts.Args...),
		Dir:     s.cwd,
		Env:     absEnv(os.Environ(), s.cwd, "DMTCP_TMPDIR", "TMPDIR"),
		Stdin:   s.stdio.in,
		Stdout:  s.stdio.out,
		Stderr:  s.stdio.err,
		CkptDir: s.stage,
		LogLine: func(line string) { s.log.Printf("%s", line) },
		LogPath: logPath,
	}
}

func (s *supervisor) platform(ctx context.Context) platform.Info {
	if s.here == nil {
		p := platform.Collect(ctx, s.engine.Version())
		s.here = &p
	}
	return *s.here
}

func (s *supervisor) launch(ctx context.Context) error {
	if err := checkProgram(s.opts.Program, s.cwd); err != nil {
		return exitcode.Errorf(exitcode.Launch, "%w", err)
	}
	var err error
	if s.stdio, err = openStdio(s.opts, nil); err != nil {
		return exitcode.Errorf(exitcode.Usage, "%w", err)
	}
	defer s.stdio.closeOurs()
	start := time.Now()
	if s.job, err = s.engine.Launch(ctx, s.spec()); err != nil {
		return err
	}
	s.log.Printf("launched pid %d under %s in %s", s.job.PID(), engineTitle(s.engine.Name()), time.Since(start).Round(time.Millisecond))
	return nil
}

func (s *supervisor) restart(ctx context.Context, gen *ckptstore.Generation) error {
	m := gen.Manifest
	s.log.Printf("resuming from checkpoint generation %d of %s (%d process(es), taken %s on %s in %s)",
		m.Generation, gen.Dir, m.Processes, m.Created.Format(time.RFC3339), m.Platform.Hostname, m.Cwd)
	if !sameArgv(m.Argv, append([]string{s.opts.Program}, s.opts.Args...)) {
		s.log.Printf("note: the checkpointed job was started as %s; resuming it, not the new command line", quoteArgv(m.Argv))
	}
	if m.Engine != s.engine.Name() {
		return exitcode.Errorf(exitcode.Incompatible, "checkpoint generation %d was written by the %s engine; run the shim with --engine %s", m.Generation, m.Engine, m.Engine)
	}
	verdict := platform.Check(m.Platform, s.platform(ctx))
	for _, w := range verdict.Warnings {
		s.log.Printf("note: %s", w)
	}
	if !verdict.OK() {
		return exitcode.Errorf(exitcode.Incompatible, "cannot restart checkpoint generation %d here: %s",
			m.Generation, strings.Join(verdict.Problems, "; "))
	}
	if s.runtime != nil {
		notes, err := s.runtime.Compare(m.RuntimeLibs, "")
		if err != nil {
			return exitcode.Errorf(exitcode.Incompatible, "cannot restart checkpoint generation %d here: %w", m.Generation, err)
		}
		for _, n := range notes {
			s.log.Printf("note: %s", n)
		}
	}
	if missing := missingFiles(m.OpenFiles); len(missing) > 0 {
		return exitcode.Errorf(exitcode.MissingFiles,
			"cannot restart: the job had these files open outside its working directory and they are missing here: %s; make them available at the same path (or keep job files inside the working directory)",
			strings.Join(missing, ", "))
	}
	var err error
	if s.stdio, err = openStdio(s.opts, &m.Stdio); err != nil {
		return exitcode.Errorf(exitcode.Restart, "%w", err)
	}
	defer s.stdio.closeOurs()
	start := time.Now()
	images, unpacked, err := s.decompressForRestart(ctx, gen)
	if err != nil {
		return exitcode.Errorf(exitcode.Restart, "%w", err)
	}
	if s.job, err = s.engine.Restart(ctx, s.spec(), images); err != nil {
		return err
	}
	if err := s.awaitRestart(ctx); err != nil {
		return err
	}
	if unpacked != "" && s.opts.RestartTimeout > 0 {
		// Running: DMTCP has read them. (Without the wait they go with
		// the staging directory when the shim ends.)
		_ = os.RemoveAll(unpacked)
	}
	s.log.Printf("restarted pid %d from %d image(s) in %s", s.job.PID(), len(images), time.Since(start).Round(time.Millisecond))
	return nil
}

// checkpointDone is a finished checkpoint attempt.
type checkpointDone struct {
	ckpt  engine.Checkpoint
	stdio ckptstore.Stdio
	open  []string
	err   error
}

// supervise waits for the job, the vacate signal and the checkpoint timer.
// The shim uses no CPU in between: it only blocks on these channels.
func (s *supervisor) supervise(ctx context.Context, sigc <-chan os.Signal, trapped []os.Signal) (result, error) {
	var tick <-chan time.Time
	var timer *time.Timer
	rearm := func() {
		if s.opts.CkptInterval > 0 {
			if timer == nil {
				timer = time.NewTimer(s.opts.CkptInterval)
			} else {
				timer.Reset(s.opts.CkptInterval)
			}
			tick = timer.C
		}
	}
	rearm()
	var ckptc chan checkpointDone // non-nil while a checkpoint runs
	vacating, stopAfter := false, false
	// giveUp fires --ckpt-timeout after the job was asked to leave: a
	// checkpoint still hanging then (DMTCP stuck) would only wait for the
	// scheduler's SIGKILL, which tells nobody why. Periodic checkpoints
	// have no limit: a slow one is not a reason to stop the job.
	var giveUp <-chan time.Time
	leave := func() {
		vacating, stopAfter = true, true
		if s.opts.CkptTimeout > 0 && giveUp == nil {
			giveUp = time.After(s.opts.CkptTimeout)
		}
	}
	ckptCtx, cancelCkpt := context.WithCancel(ctx)
	defer cancelCkpt()
	defer s.stopCompressing()
	evicted := false // asked to leave by a signal, not by self-checkpointing

	for {
		select {
		case <-s.job.Done():
			var ckptErr error
			if ckptc != nil {
				// It ends promptly once the job has. A checkpoint-and-exit
				// engine's job ends this way on purpose.
				done := <-ckptc
				ckptc = nil
				if ckptErr = done.err; ckptErr == nil {
					// Committed even when the job is not to stop: a
					// job that DMTCP failed right after a complete
					// checkpoint resumes from it.
					_, ckptErr = s.commit(ctx, done)
					if ckptErr == nil && stopAfter {
						s.job.Close()
						return result{checkpointed: true}, nil
					}
				}
			}
			return s.ended(ckptErr, stopAfter)

		case sig := <-sigc:
			if sig == syscall.SIGUSR2 {
				if ckptc == nil && !vacating {
					s.log.Printf("received %s: checkpointing now, the job goes on", sig)
					ckptc = s.startCheckpoint(ckptCtx, false)
				}
				continue
			}
			if !isTrapped(sig, trapped) {
				s.log.Printf("forwarding %s to the job", sig)
				_ = s.job.Signal(sig.(syscall.Signal))
				continue
			}
			evicted = true
			if vacating {
				s.log.Printf("received %s again: already checkpointing to leave", sig)
				continue
			}
			leave()
			if ckptc != nil {
				s.log.Printf("received %s: the checkpoint under way will be the last", sig)
				continue
			}
			s.log.Printf("received %s: checkpointing, then stopping", sig)
			ckptc = s.startCheckpoint(ckptCtx, true)

		case <-giveUp:
			cancelCkpt()
			s.log.Printf("the checkpoint did not complete within --ckpt-timeout %s of the request to leave; stopping the job (the previous checkpoint, if any, is kept)", s.opts.CkptTimeout)
			s.forceStop()
			return result{}, exitcode.Errorf(exitcode.CheckpointFailed, "checkpoint did not complete within --ckpt-timeout %s", s.opts.CkptTimeout)

		case <-tick:
			tick = nil
			if ckptc == nil {
				if why := s.noRoom(); why != "" {
					// DMTCP ends the job when it cannot write an
					// image: a skipped checkpoint costs far less.
					s.log.Printf("skipping this periodic checkpoint: %s; the job goes on, and so does the previous checkpoint; trying again in %s", why, s.opts.CkptInterval)
					rearm()
					continue
				}
			}
			if ckptc == nil {
				stopAfter = s.opts.ExitAfterCheckpoint
				if stopAfter {
					leave()
				}
				s.log.Printf("periodic checkpoint")
				ckptc = s.startCheckpoint(ckptCtx, stopAfter)
			}

		case done := <-ckptc:
			ckptc = nil
			if done.err != nil {
				select {
				case <-s.job.Done():
					// The job ended by itself as the checkpoint began
					// (or DMTCP failed under it): that end, not the
					// checkpoint, is the result.
					return s.ended(done.err, stopAfter)
				default:
				}
				if stopAfter {
					s.log.Printf("checkpoint failed: %v; stopping the job without it (the previous checkpoint, if any, is kept)", done.err)
					_ = s.job.Stop(ctx)
					return result{}, exitcode.Errorf(exitcode.CheckpointFailed, "checkpoint failed: %w", done.err)
				}
				s.log.Printf("periodic checkpoint failed: %v; the job goes on, and so does the previous checkpoint", done.err)
				rearm()
				continue
			}
			gen, err := s.commit(ctx, done)
			if err != nil {
				if stopAfter {
					s.log.Printf("%v; stopping the job without it (the previous checkpoint, if any, is kept)", err)
					_ = s.job.Stop(ctx)
					return result{}, exitcode.Errorf(exitcode.CheckpointFailed, "%w", err)
				}
				s.log.Printf("periodic %v; the job goes on, and so does the previous checkpoint; trying again in %s", err, s.opts.CkptInterval)
				rearm()
				continue
			}
			if stopAfter {
				start := time.Now()
				if err := s.job.Stop(ctx); err != nil {
					s.log.Printf("warning: %v", err)
				}
				s.log.Printf("job stopped in %s", time.Since(start).Round(time.Millisecond))
				if !evicted && len(sigc) == 0 {
					// A self-checkpoint exit, with no request to leave
					// waiting: compressing may take its budget.
					s.compressWithin(gen)
				}
				return result{checkpointed: true}, nil
			}
			s.compressLater(gen)
			rearm()
		}
	}
}

// forceStop ends a job whose checkpoint hung: the engine's own stop is given
// a bounded time (its coordinator may be the part that hangs), then the
// job's process group is killed.
func (s *supervisor) forceStop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped := make(chan struct{})
	go func() { _ = s.job.Stop(ctx); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		s.log.Printf("the job did not stop; killing its process group")
		_ = syscall.Kill(-s.job.PID(), syscall.SIGKILL)
	}
}

func isTrapped(sig os.Signal, trapped []os.Signal) bool {
	for _, t := range trapped {
		if sig == t {
			return true
		}
	}
	return false
}

// startCheckpoint runs one checkpoint in the background; the supervisor
// keeps watching the job and signals meanwhile.
func (s *supervisor) startCheckpoint(ctx context.Context, exit bool) chan checkpointDone {
	// The disk is the checkpoint's alone: a vacate must not wait for a
	// compression, nor a periodic checkpoint's stall grow by one.
	s.stopCompressing()
	out := make(chan checkpointDone, 1)
	pid := s.job.PID()
	exclude := append(s.excl, s.stdio.paths()...)
	go func() {
		var d checkpointDone
		// A program that ends itself to checkpoint is gone by the time
		// the checkpoint is complete: list its open files while it runs.
		if e, ok := s.job.(checkpointExiter); ok && e.EndsToCheckpoint() && exit {
			d.open = openFiles(pid, s.cwd, exclude)
		}
		capture := func() {
			d.stdio = s.stdio.measure(pid)
			if open := openFiles(pid, s.cwd, exclude); len(open) > 0 || d.open == nil {
				d.open = open
			}
		}
		d.ckpt, d.err = s.job.Checkpoint(ctx, exit, func() {
			capture()
			d.stdio.Exact = true
		})
		if d.err == nil && !d.ckpt.Suspended {
			// Too fast to see suspended: the best left is right after.
			capture()
		}
		out <- d
	}()
	return out
}

// commit makes a completed checkpoint the newest generation.
func (s *supervisor) commit(ctx context.Context, d checkpointDone) (*ckptstore.Generation, error) {
	images := make(map[string]bool, len(d.ckpt.Images))
	for _, img := range d.ckpt.Images {
		images[img] = true
	}
	gen, err := s.store.Commit(s.stage, d.ckpt.Files, images, ckptstore.Manifest{
		Engine:      s.engine.Name(),
		Platform:    s.platform(ctx),
		Cwd:         s.cwd,
		Argv:        append([]string{s.opts.Program}, s.opts.Args...),
		Stdio:       d.stdio,
		OpenFiles:   d.open,
		Processes:   d.ckpt.Processes,
		StageKey:    s.key,
		StageDir:    s.stage,
		RuntimeLibs: s.runtimeUsed,
	})
	if gen == nil {
		// Nothing of it is kept: free the staging space it took too, so
		// the next attempt has room.
		for _, rel := range d.ckpt.Files {
			_ = os.RemoveAll(filepath.Join(s.stage, rel))
		}
		return nil, fmt.Errorf("checkpoint could not be saved in %s: %w%s", s.store.Dir(), err, spaceHint(err, s.store.Dir()))
	}
	if err != nil {
		s.log.Printf("warning: %v", err)
	}
	// Only now, with a newer generation complete and read back, may older
	// ones go; failing to is no reason to lose this one.
	if err := s.store.Prune(s.opts.KeepGenerations); err != nil {
		s.log.Printf("warning: %v (they take disk space, but are never restarted from while a newer one is usable)", err)
	}
	s.lastSize = gen.Manifest.RawSize()
	s.log.Printf("checkpoint generation %d complete: %d process(es), %d image(s), %.1f MB, %s",
		gen.Manifest.Generation, d.ckpt.Processes, len(d.ckpt.Images), float64(gen.Manifest.Size())/1e6, d.ckpt.Duration.Round(time.Millisecond))
	if !d.stdio.Exact {
		s.log.Printf("warning: the checkpoint was too quick to read the job's output sizes while it was suspended; after a restart a few lines of output may repeat")
	}
	if s.opts.ChirpPlatform && !s.chirped {
		s.chirped = true
		chirpPlatform(ctx, s.log)
	}
	return gen, nil
}

// checkpointExiter is a job that ends itself to checkpoint (a program of
// HTCondor's checkpoint library exits after a checkpoint-and-exit).
type checkpointExiter interface{ EndsToCheckpoint() bool }

// ended is the shim's result once the job has ended, after a checkpoint
// that failed (ckptErr) or none. A job whose engine ends it to checkpoint
// ended because it was asked to, so a failed checkpoint-and-exit is the
// checkpoint's failure, not the job's end.
func (s *supervisor) ended(ckptErr error, stopAfter bool) (result, error) {
	defer s.job.Close()
	if ckptErr != nil {
		st := s.job.Status()
		e, ok := s.job.(checkpointExiter)
		selfEnding := ok && e.EndsToCheckpoint()
		if stopAfter && (selfEnding || s.engineFailed(st)) {
			// The job was to leave and its checkpoint failed: that is
			// the failure, whatever it did to the job (DMTCP ends the
			// job with its own failure code when it cannot write an
			// image, a full disk say).
			s.log.Printf("checkpoint failed: %v; the previous checkpoint, if any, is kept", ckptErr)
			return result{}, exitcode.Errorf(exitcode.CheckpointFailed, "checkpoint did not complete: %w%s", ckptErr, spaceHint(ckptErr, s.stage))
		}
		s.log.Printf("checkpoint failed: %v", ckptErr)
	}
	return s.finished(s.job.Status())
}

// engineFailed reports whether the job ended with the engine's own failure
// code (DMTCP_FAIL_RC) rather than by itself.
func (s *supervisor) engineFailed(st engine.Status) bool {
	return st.Exited() && (st.Code == exitcode.Launch || st.Code == exitcode.Restart)
}

// finished turns the job's own end into the shim's result.
func (s *supervisor) finished(st engine.Status) (result, error) {
	if s.engineFailed(st) {
		// DMTCP_FAIL_RC: DMTCP itself failed. Keep the checkpoints.
		return result{}, exitcode.Errorf(st.Code, "DMTCP itself failed while running the job%s; its diagnostics are in %s", spaceHint(nil, s.stage), s.log.where())
	}
	s.stopCompressing()
	if st.Exited() {
		s.log.Printf("the job exited with code %d; removing its checkpoints", st.Code)
		if err := s.store.Remove(); err != nil {
			s.log.Printf("warning: remove checkpoints: %v", err)
		}
	} else {
		s.log.Printf("the job died of %s; keeping its checkpoints", SignalName(st.Signal))
	}
	return result{status: st}, nil
}

// checkProgram fails early, with a message that says what to do, when the
// program is not there: DMTCP's own message is cryptic.
func checkProgram(prog, cwd string) error {
	if strings.Contains(prog, "/") {
		p := prog
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return fmt.Errorf("program %s not found in %s; was it transferred with the job (transfer_input_files)?", prog, cwd)
		case st.IsDir():
			return fmt.Errorf("program %s is a directory", prog)
		case st.Mode()&0o111 == 0:
			return fmt.Errorf("program %s is not executable; chmod +x it (HTCondor keeps the mode of transferred files)", prog)
		}
		return nil
	}
	if _, err := exec.LookPath(prog); err != nil {
		return fmt.Errorf("program %s not found on PATH; give its path, e.g. ./%s", prog, prog)
	}
	return nil
}

// absEnv makes the named directory variables absolute: a submit file's
// DMTCP_TMPDIR=. means the sandbox, not whatever directory the job is in
// when DMTCP reads it.
func absEnv(env []string, cwd string, names ...string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		out[i] = kv
		k, v, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if k == n && v != "" && !filepath.IsAbs(v) {
				out[i] = k + "=" + filepath.Join(cwd, v)
			}
		}
	}
	return out
}

func missingFiles(paths []string) []string {
	var missing []string
	for _, p := range paths {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
		}
	}
	return missing
}

func sameArgv(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// quoteArgv shows an argument vector unambiguously in the log.
func quoteArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`") {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

// engineTitle is how the log names an engine.
func engineTitle(name string) string {
	switch name {
	case "dmtcp":
		return "DMTCP"
	case "condor-syscall":
		return "HTCondor's checkpoint-library protocol"
	}
	return name
}
