// Package dmtcp runs a job under DMTCP for the shim: it finds an install,
// starts the job's own coordinator, launches or restarts the job, takes
// checkpoints and knows when they are really complete, and stops the job.
//
// For most uses: Locate an Install, Probe it, make an Engine, then Launch
// or Restart a job and call its Checkpoint and Stop methods.
package dmtcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
	"github.com/dmtcp-condor/dmtcp-condor/shim/engine"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// Engine launches and restarts jobs with one DMTCP install.
type Engine struct {
	Install *Install
}

// Name is the engine's name in manifests and logs.
func (e *Engine) Name() string { return "dmtcp" }

// Version is the DMTCP version, recorded with every checkpoint.
func (e *Engine) Version() string { return e.Install.Version }

// Job is one running computation: its coordinator and its main process.
type Job struct {
	inst   *Install
	coord  *Coordinator
	client Client
	cmd    *exec.Cmd
	dir    string // DMTCP's checkpoint directory
	done   chan struct{}
	status engine.Status
	logf   func(format string, args ...any)
	// failCode is the exit code DMTCP_FAIL_RC gives a failure of DMTCP.
	failCode int
}

// Launch starts spec's program under dmtcp_launch with a new coordinator.
func (e *Engine) Launch(ctx context.Context, spec engine.Spec) (*Job, error) {
	// DMTCP's own gzip runs on one core while the job is suspended (25
	// MB/s: 20 s to leave for a 512 MiB job); the shim compresses complete
	// images itself, off the critical path.
	args := append([]string{"--no-gzip"}, spec.Argv...)
	return e.start(ctx, spec, e.Install.Launch, exitcode.Launch, args)
}

// Restart resumes the computation in images (absolute paths; every image
// of one checkpoint) with a new coordinator, from spec.Dir, which may be a
// different directory on another machine.
func (e *Engine) Restart(ctx context.Context, spec engine.Spec, images []string) (*Job, error) {
	if len(images) == 0 {
		return nil, errors.New("restart: no images")
	}
	if err := stageSavedFiles(images, spec.CkptDir); err != nil {
		return nil, exitcode.Errorf(exitcode.Restart, "restart: %w", err)
	}
	return e.start(ctx, spec, e.Install.Restart, exitcode.Restart, images)
}

// filesDirOf names the directory where DMTCP keeps copies of files an
// image's process had open but that may not exist at restart (deleted or
// shared-memory files; a forked Python child always has one).
func filesDirOf(image string) string {
	return strings.TrimSuffix(image, ".dmtcp") + "_files"
}

// stageSavedFiles puts each image's saved-files directory back into DMTCP's
// checkpoint directory. DMTCP 4.2 records their absolute path at checkpoint
// time and, when that path is gone (a new scratch directory), finds them
// only at the same place relative to the restart's working and checkpoint
// directories; without them the restart dies with "Unable to find
// checkpointed copy of file". They are copied, not linked: DMTCP rewrites
// those names in place at the next checkpoint, which would change the
// generation being restarted from.
func stageSavedFiles(images []string, ckptDir string) error {
	for _, img := range images {
		src := filesDirOf(img)
		st, err := os.Stat(src)
		if err != nil || !st.IsDir() {
			continue
		}
		dst := filepath.Join(ckptDir, filepath.Base(src))
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		if err := fsutil.CopyTree(src, dst); err != nil {
			return fmt.Errorf("stage %s: %w", filepath.Base(src), err)
		}
	}
	return nil
}

// start runs dmtcp_launch or dmtcp_restart joined to a fresh coordinator.
// DMTCP_FAIL_RC makes a failure of DMTCP itself exit with failCode, which
// the shim reports as such instead of passing DMTCP's 99 off as the job's.
func (e *Engine) start(ctx context.Context, spec engine.Spec, bin string, failCode int, args []string) (*Job, error) {
	env := jobEnv(spec, failCode)
	// The coordinator's diagnostics go through its stderr to the log
	// filter, not straight into the log file.
	coord, err := StartCoordinator(ctx, e.Install, spec.CkptDir, spec.LogLine, withoutVar(env, "JALIB_STDERR_PATH"))
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Coordinator, "start coordinator: %w", err)
	}
	port := strconv.Itoa(coord.Port)
	full := append([]string{"--join-coordinator", "--coord-host", LoopbackHost, "--coord-port", port,
		"--ckptdir", spec.CkptDir}, args...)
	cmd := exec.Command(bin, full...)
	cmd.Dir = spec.Dir
	cmd.Env = append(env, "DMTCP_COORD_HOST="+LoopbackHost, "DMTCP_COORD_PORT="+port)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	// Its own process group: a terminal's Ctrl-C goes to the shim, which
	// checkpoints, instead of killing the job under it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		coord.Kill()
		return nil, exitcode.Errorf(failCode, "start %s: %w", bin, err)
	}
	j := &Job{
		inst: e.Install, coord: coord, cmd: cmd, dir: spec.CkptDir, done: make(chan struct{}),
		client: Client{Command: e.Install.Command, Port: coord.Port}, failCode: failCode,
		logf: func(format string, args ...any) {
			if spec.LogLine != nil {
				spec.LogLine(fmt.Sprintf(format, args...))
			}
		},
	}
	go func() {
		_ = cmd.Wait()
		j.status = engine.StatusOf(cmd.ProcessState)
		close(j.done)
	}()
	return j, nil
}

// jobEnv is the job's environment with DMTCP's settings: diagnostics to
// the shim log (never /dev/null), no DMTCP-driven interval (the shim
// drives checkpoints itself: dmtcp_command -i does nothing in 3.1-4.2.0),
// and the shim's failure code.
func jobEnv(spec engine.Spec, failCode int) []string {
	drop := map[string]bool{
		"DMTCP_COORD_HOST": true, "DMTCP_COORD_PORT": true, "DMTCP_CHECKPOINT_INTERVAL": true,
		"DMTCP_CHECKPOINT_DIR": true, "DMTCP_FAIL_RC": true, "DMTCP_GZIP": true, "JALIB_STDERR_PATH": true,
	}
	var env []string
	for _, kv := range spec.Env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env,
		"DMTCP_CHECKPOINT_DIR="+spec.CkptDir,
		"DMTCP_FAIL_RC="+strconv.Itoa(failCode),
		"DMTCP_GZIP=0", // read inside the job at each checkpoint, restarts included
	)
	if spec.LogPath != "" {
		env = append(env, "JALIB_STDERR_PATH="+spec.LogPath)
	}
	return env
}

func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// PID is the job's main process (dmtcp_launch execs into the program, and
// dmtcp_restart into the restored process).
func (j *Job) PID() int { return j.cmd.Process.Pid }

// Done is closed when the job's main process has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Status is how the job ended; valid after Done is closed.
func (j *Job) Status() engine.Status { return j.status }

// Signal sends sig to the job's main process.
func (j *Job) Signal(sig syscall.Signal) error {
	return j.cmd.Process.Signal(sig)
}

// pollInterval bounds how often a checkpoint in progress is looked at: a
// status query costs a few milliseconds, and a checkpoint's suspended phase
// lasts hundreds.
const (
	pollFirst = 2 * time.Millisecond
	pollMax   = 20 * time.Millisecond
)

// coordinatorGoneWait is how long a checkpoint whose coordinator exited
// waits for the job's own end before it reports the coordinator.
const coordinatorGoneWait = 2 * time.Second

// refusedPause is how long to wait before asking again after the
// coordinator refused a checkpoint request ("not in running state"), as
// DMTCP does while a process of the job is still joining: a job that
// keeps starting short-lived processes can have one joining at any
// moment, and a refusal must not cost a vacate its checkpoint.
const refusedPause = 50 * time.Millisecond

// Checkpoint takes a checkpoint and returns when it is really complete:
// every image renamed into place and the coordinator's restart script
// rewritten (DMTCP writes it last), with the job running again. atSuspend
// is called once, while the job is suspended for the checkpoint, so the
// caller can record what the job's files look like at that moment. exit
// changes nothing: the job goes on until Stop.
//
// A request the coordinator refuses is sent again until it takes one;
// once it has, DMTCP 4.2.0 refuses every other until that checkpoint is
// over, so none is sent (a checkpoint that never ends is the caller's
// --ckpt-timeout). A checkpoint complete on disk counts when DMTCP failed
// under the job or the coordinator went while the job lived, but not when
// the job ended by itself: its own end is the result then.
func (j *Job) Checkpoint(ctx context.Context, exit bool, atSuspend func()) (engine.Checkpoint, error) {
	res := engine.Checkpoint{}
	start := time.Now()
	// A checkpoint asked for before the job has joined its coordinator is
	// ignored by DMTCP; wait until it has.
	if err := j.waitRunning(ctx); err != nil {
		return res, err
	}
	before, err := restartScripts(j.dir)
	if err != nil {
		return res, err
	}
	var reqErr chan error // the request in flight, if any
	ask := func() {
		reqErr = make(chan error, 1)
		c := reqErr
		go func() { c <- j.client.Checkpoint(ctx, 24*time.Hour) }()
	}
	// finish waits for a request still in flight: DMTCP 4.2.0 would start
	// another checkpoint on one that arrives after this checkpoint ended,
	// while the caller moves its images.
	finish := func(r engine.Checkpoint, err error) (engine.Checkpoint, error) {
		if reqErr != nil {
			select {
			case <-reqErr:
			case <-ctx.Done():
			}
		}
		return r, err
	}
	salvage := func(err error) (engine.Checkpoint, error) {
		if !j.endedByItself() {
			if images, ok, cerr := j.complete(before); cerr == nil && ok {
				return finish(j.result(res, images, start), nil)
			}
		}
		return finish(res, err)
	}
	ask()
	accepted, refused := false, 0
	var reaskAt time.Time // after a refusal: when to ask again

	wait := pollFirst
	for {
		select {
		case <-ctx.Done():
			return finish(res, fmt.Errorf("checkpoint: %w", ctx.Err()))
		case <-j.done:
			return salvage(fmt.Errorf("checkpoint: the job ended (%s) during the checkpoint", describe(j.status)))
		case <-j.coord.Done():
			// The coordinator follows its last process out
			// (--exit-on-last), so a job that ended by itself just as the
			// checkpoint began shows first as a coordinator gone. Give
			// the job's end a moment to show, so the caller can tell.
			select {
			case <-j.done:
			case <-time.After(coordinatorGoneWait):
			case <-ctx.Done():
			}
			return salvage(errors.New("checkpoint: the coordinator exited during the checkpoint"))
		case err := <-reqErr:
			reqErr = nil
			switch {
			case errors.Is(err, ErrNotRunning) && !accepted:
				refused++
				reaskAt = time.Now().Add(refusedPause)
				if refused == 1 || refused%100 == 0 {
					j.logf("the coordinator refused the checkpoint %d time(s) (not in a running state: a process of the job is joining it); asking again", refused)
				}
			case err != nil:
				return salvage(fmt.Errorf("checkpoint: %w", err))
			default:
				accepted = true
				if refused > 0 {
					j.logf("the coordinator took the checkpoint request after %d refusal(s)", refused)
				}
			}
		case <-time.After(wait):
		}
		if wait < pollMax {
			wait *= 2
		}
		if !accepted && reqErr == nil && !reaskAt.IsZero() && time.Now().After(reaskAt) {
			ask()
			reaskAt = time.Time{}
		}
		st, err := j.client.Status(ctx)
		if err != nil {
			select {
			case <-j.done: // the loop reports it
				continue
			case <-j.coord.Done():
				continue
			default:
			}
			return salvage(fmt.Errorf("checkpoint: %w", err))
		}
		// RUNNING=no comes as soon as the coordinator starts the
		// checkpoint, before the job's threads have stopped. Images are
		// written only after every process has passed DMTCP's suspend
		// barrier, so a .temp image means the job is really suspended.
		if st.Peers > 0 && !st.Running && !res.Suspended && writingImages(j.dir) {
			res.Suspended = true
			res.Processes = st.Peers
			if atSuspend != nil {
				atSuspend()
			}
		}
		if !st.Running {
			continue
		}
		images, ok, err := j.complete(before)
		if err != nil {
			return finish(res, err)
		}
		if ok {
			if res.Processes == 0 {
				res.Processes = st.Peers
			}
			return finish(j.result(res, images, start), nil)
		}
	}
}

// endedByItself reports whether the job has ended with an exit code of its
// own, not DMTCP's failure code nor a signal.
func (j *Job) endedByItself() bool {
	select {
	case <-j.done:
		return j.status.Exited() && j.status.Code != j.failCode
	default:
		return false
	}
}

// result completes res with the images and the files DMTCP saved beside
// them.
func (j *Job) result(res engine.Checkpoint, images []string, start time.Time) engine.Checkpoint {
	res.Images = images
	res.Files = append([]string(nil), images...)
	for _, img := range images {
		// DMTCP puts files it copied for an image beside it.
		filesDir := filesDirOf(img)
		if st, err := os.Stat(filepath.Join(j.dir, filesDir)); err == nil && st.IsDir() {
			res.Files = append(res.Files, filesDir)
		}
	}
	if res.Processes == 0 {
		res.Processes = len(images)
	}
	res.Duration = time.Since(start)
	return res
}

// WaitRestarted returns once a restarted job is running again: DMTCP's
// coordinator reports RUNNING only when every restored process has passed
// the restart barriers.
func (j *Job) WaitRestarted(ctx context.Context) error { return j.waitRunning(ctx) }

// waitRunning waits until the coordinator has the job and is not in a
// checkpoint.
func (j *Job) waitRunning(ctx context.Context) error {
	wait := pollFirst
	for {
		st, err := j.client.Status(ctx)
		if err == nil && st.Peers > 0 && st.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the job to join its coordinator: %w", ctx.Err())
		case <-j.done:
			return fmt.Errorf("the job ended (%s) before it could be checkpointed", describe(j.status))
		case <-j.coord.Done():
			return errors.New("the coordinator exited")
		case <-time.After(wait):
		}
		if wait < pollMax {
			wait *= 2
		}
	}
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

// restartScripts stamps the coordinator's restart scripts, which it
// rewrites after every image of a checkpoint is in place.
func restartScripts(dir string) (map[string]fileStamp, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "dmtcp_restart_script_*.sh"))
	if err != nil {
		return nil, err
	}
	out := make(map[string]fileStamp, len(matches))
	for _, m := range matches {
		st, err := os.Stat(m)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		var ino uint64
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			ino = sys.Ino
		}
		out[m] = fileStamp{st.ModTime(), st.Size(), ino}
	}
	return out, nil
}

// complete reports whether the checkpoint started after before was taken is
// on disk: a restart script was (re)written since, no image is still being
// written, and every image the script names exists. It returns the images'
// names relative to the checkpoint directory.
func (j *Job) complete(before map[string]fileStamp) ([]string, bool, error) {
	now, err := restartScripts(j.dir)
	if err != nil {
		return nil, false, err
	}
	var script string
	for name, st := range now {
		if old, ok := before[name]; !ok || old != st {
			script = name
			break
		}
	}
	if script == "" {
		return nil, false, nil
	}
	if writingImages(j.dir) {
		return nil, false, nil
	}
	images, err := scriptImages(script)
	if err != nil || len(images) == 0 {
		// Not every DMTCP names its images the same way in the script:
		// take what is in the directory.
		images, err = dirImages(j.dir)
		if err != nil {
			return nil, false, err
		}
	}
	var rel []string
	for _, img := range images {
		name := filepath.Base(img)
		if _, err := os.Stat(filepath.Join(j.dir, name)); err != nil {
			return nil, false, nil // not renamed into place yet
		}
		rel = append(rel, name)
	}
	sort.Strings(rel)
	return rel, len(rel) > 0, nil
}

// writingImages reports whether an image is being written (DMTCP writes
// NAME.dmtcp.temp and renames it when done).
func writingImages(dir string) bool {
	temps, _ := filepath.Glob(filepath.Join(dir, "*.dmtcp.temp"))
	return len(temps) > 0
}

// scriptImages reads given_ckpt_files="..." from a DMTCP restart script.
func scriptImages(script string) ([]string, error) {
	f, err := os.Open(script)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "given_ckpt_files="); ok {
			return strings.Fields(strings.Trim(v, `"'`)), nil
		}
	}
	return nil, sc.Err()
}

func dirImages(dir string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, "ckpt_*.dmtcp"))
}

// StopTimeout bounds how long a killed job may take to go away before its
// process group gets SIGKILL.
const StopTimeout = 10 * time.Second

// Stop ends the computation after a checkpoint: through the coordinator,
// which makes every process exit 0 (the caller must remember it asked),
// then by force if it lingers. The coordinator exits with its last client.
func (j *Job) Stop(ctx context.Context) error {
	err := j.client.Kill(ctx)
	select {
	case <-j.done:
	case <-time.After(StopTimeout):
		_ = syscall.Kill(-j.cmd.Process.Pid, syscall.SIGKILL)
		<-j.done
	}
	j.coord.Wait(StopTimeout)
	if err != nil {
		return fmt.Errorf("stop job: %w", err)
	}
	return nil
}

// Close waits briefly for the coordinator to follow its last client out,
// then makes sure it is gone.
func (j *Job) Close() {
	j.coord.Wait(2 * time.Second)
}

func describe(s engine.Status) string {
	if s.Signal != 0 {
		return "signal " + s.Signal.String()
	}
	return "exit code " + strconv.Itoa(s.Code)
}
