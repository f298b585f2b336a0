package shim

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
)

// CompressRole is the name (argv[0]) under which the shim binary
// compresses one generation and exits: the shim runs itself so in a child
// process at the lowest priority (see compressLater).
const CompressRole = "shim_dmtcp-compress"

// compression is a generation being compressed by a child process.
type compression struct {
	gen   *ckptstore.Generation
	cmd   *exec.Cmd
	start time.Time
	done  chan struct{}
	err   error
}

// compressible reports whether the shim compresses this job's generations:
// DMTCP images (gzip, which dmtcp_restart reads), unless --no-compress. A
// program of HTCondor's checkpoint library reads only its own format.
func (s *supervisor) compressible() bool {
	return s.opts.Compress && s.engine.Name() == "dmtcp"
}

// compressLater compresses a just-committed generation while the job runs
// on, in a child process whose every thread has the lowest CPU priority,
// so that the job loses no time to it. DMTCP wrote the images
// uncompressed, so that the checkpoint (and a vacate) took no longer than
// the disk needs. The next checkpoint, or the job's end, stops a
// compression still running, and that generation simply stays
// uncompressed.
func (s *supervisor) compressLater(g *ckptstore.Generation) {
	if !s.compressible() || g == nil {
		return
	}
	s.stopCompressing()
	self, err := os.Executable()
	if err != nil {
		s.log.Printf("warning: cannot compress generation %d: %v", g.Manifest.Generation, err)
		return
	}
	cmd := exec.Command(self, g.Dir)
	cmd.Args[0] = CompressRole
	// Its own group, killed with the shim.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		s.log.Printf("warning: cannot compress generation %d: %v", g.Manifest.Generation, err)
		return
	}
	c := &compression{gen: g, cmd: cmd, start: time.Now(), done: make(chan struct{})}
	s.compressing = c
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.log.Printf("compress: %s", sc.Text())
		}
		c.err = cmd.Wait()
	}()
}

// stopCompressing ends a background compression, if one runs, and leaves
// its generation consistent: as it was, or compressed if it had finished.
func (s *supervisor) stopCompressing() {
	c := s.compressing
	if c == nil {
		return
	}
	s.compressing = nil
	select {
	case <-c.done:
	default:
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
	n := c.gen.Manifest.Generation
	if c.err != nil {
		// Killed at any step: what it left is tidied away.
		if err := s.store.Tidy(); err != nil {
			s.log.Printf("warning: %v", err)
		}
		s.log.Printf("compression of generation %d stopped after %s (%v); its images stay uncompressed", n, time.Since(c.start).Round(time.Millisecond), c.err)
	}
}

// compressWithin compresses a generation before a self-checkpoint exit,
// within --compress-budget, with the job already stopped: HTCondor then
// transfers less. Past the budget the generation leaves uncompressed.
func (s *supervisor) compressWithin(g *ckptstore.Generation) {
	if !s.compressible() || s.opts.CompressBudget <= 0 || g == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CompressBudget)
	defer cancel()
	start := time.Now()
	z, err := s.store.Compress(ctx, g, ckptstore.Compressing{})
	if err != nil {
		s.log.Printf("generation %d not compressed within --compress-budget %s (%v); it leaves uncompressed", g.Manifest.Generation, s.opts.CompressBudget, err)
		return
	}
	s.log.Printf("generation %d compressed: %.1f MB to %.1f MB in %s", g.Manifest.Generation,
		float64(g.Manifest.Size())/1e6, float64(z.Manifest.Size())/1e6, time.Since(start).Round(time.Millisecond))
}

// compressMain is the shim as CompressRole: it compresses the generation
// in args[0] with every thread at the lowest priority, and exits 0 when
// the generation is compressed (or was already).
func compressMain(args []string) int {
	// New threads take the priority of the thread that makes them: renice
	// the ones there are before the work starts any more.
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, t := range tasks {
		if tid, err := strconv.Atoi(filepath.Base(t)); err == nil {
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
		}
	}
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "usage: %s GENERATION-DIR\n", CompressRole)
		return 2
	}
	// For tests only: a compression that takes this long, so that a
	// checkpoint or a vacate meets it under way.
	if d, err := time.ParseDuration(os.Getenv("DMTCP_CONDOR_TEST_COMPRESS_DELAY")); err == nil {
		time.Sleep(d)
	}
	start := time.Now()
	g, err := ckptstore.CompressDir(context.Background(), args[0], ckptstore.Compressing{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "generation %d: %.1f MB to %.1f MB in %s\n", g.Manifest.Generation,
		float64(g.Manifest.RawSize())/1e6, float64(g.Manifest.Size())/1e6, time.Since(start).Round(time.Millisecond))
	return 0
}

// decompressForRestart unpacks a generation's compressed images into the
// staging directory before a restart: on every core when there is more
// than one (dmtcp_restart reads gzip images through a single gzip -d), and
// always when the node has no gzip on PATH for DMTCP. It returns the images
// to restart from and the directory to remove once the restart is running
// ("" when it unpacked nothing: DMTCP then reads the compressed images
// itself, and the restart is given longer for it).
func (s *supervisor) decompressForRestart(ctx context.Context, g *ckptstore.Generation) ([]string, string, error) {
	var raw, ours int64
	for _, f := range g.Manifest.Files {
		if f.Image && f.Gzip {
			raw += f.RawSize
			if len(f.Members) > 0 {
				ours += f.RawSize
			}
		}
	}
	_, noGzip := exec.LookPath("gzip")
	if raw == 0 || (noGzip == nil && (ours == 0 || runtime.NumCPU() < 2)) || s.stage == "" {
		s.restartExtra = time.Duration(raw / 20e6 * int64(time.Second)) // gzip -d, about 20 MB/s at worst
		return g.ImagePaths(), "", nil
	}
	if free, ok := freeSpace(s.stage); ok && free < raw+raw/4 {
		if noGzip != nil {
			return nil, "", fmt.Errorf("the checkpoint's images are compressed, this node has no gzip for DMTCP to read them with, and %s has too little room to unpack them (%.1f MB): install gzip or free space", s.stage, float64(raw)/1e6)
		}
		s.log.Printf("not unpacking the compressed images before the restart: %s has too little room; DMTCP reads them compressed", s.stage)
		s.restartExtra = time.Duration(raw / 20e6 * int64(time.Second))
		return g.ImagePaths(), "", nil
	}
	dir := filepath.Join(s.stage, ".restart")
	start := time.Now()
	images, err := g.Decompress(ctx, dir, ckptstore.Compressing{})
	if err == nil {
		// DMTCP finds an image's saved files beside it.
		for _, img := range g.ImagePaths() {
			files := strings.TrimSuffix(img, ".dmtcp") + "_files"
			if st, serr := os.Stat(files); serr == nil && st.IsDir() {
				if err = fsutil.CopyTree(files, filepath.Join(dir, filepath.Base(files))); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		if noGzip != nil {
			return nil, "", fmt.Errorf("unpack the checkpoint's compressed images (this node has no gzip for DMTCP): %w", err)
		}
		s.log.Printf("not unpacking the compressed images before the restart (%v); DMTCP reads them compressed", err)
		return g.ImagePaths(), "", nil
	}
	s.log.Printf("unpacked %d compressed image(s), %.1f MB, in %s", len(images), float64(raw)/1e6, time.Since(start).Round(time.Millisecond))
	return images, dir, nil
}
