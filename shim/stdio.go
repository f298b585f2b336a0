package shim

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
)

// stdioFiles are the job's standard streams. DMTCP does not restore fds
// 0-2 on restart: the restarted job writes wherever dmtcp_restart's fds
// point, so the shim opens them again each time, in append mode.
type stdioFiles struct {
	in, out, err *os.File
	// names of the files the shim opened ("" where the job shares the
	// shim's own stream), for measuring and excluding.
	inName, outName, errName string
	ours                     []*os.File // opened here; closed once the job has them
}

// openStdio opens the job's streams. On a restart (at != nil) stdout and
// stderr are first cut back to their sizes at the checkpoint: whatever the
// job wrote after it will be written again by the resumed job. stdin is
// positioned where the job had read it to.
func openStdio(o Options, at *ckptstore.Stdio) (stdioFiles, error) {
	var s stdioFiles
	var err error
	inPath := o.Stdin
	if inPath == "" {
		inPath = os.DevNull
	}
	if s.in, err = os.Open(inPath); err != nil {
		return s, fmt.Errorf("open --stdin: %w", err)
	}
	if o.Stdin != "" {
		// Kept open: it shares its offset with the job's fd 0, which
		// tells where the job had read to once the job itself is gone
		// (a program that ends to checkpoint).
		s.inName = absPath(o.Stdin)
	} else {
		s.ours = append(s.ours, s.in)
	}
	if at != nil && at.StdinOffset > 0 && s.inName != "" {
		if _, err := s.in.Seek(at.StdinOffset, io.SeekStart); err != nil {
			return s, fmt.Errorf("position --stdin at %d: %w", at.StdinOffset, err)
		}
	}
	open := func(path string, size int64, std *os.File, what string) (*os.File, string, error) {
		if path == "" {
			return std, "", nil
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
		if at == nil && !o.KeepOutput {
			flags |= os.O_TRUNC
		}
		f, err := os.OpenFile(path, flags, 0o644)
		if err != nil {
			return nil, "", fmt.Errorf("open %s: %w", what, err)
		}
		s.ours = append(s.ours, f)
		if at != nil && size >= 0 {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > size {
				if err := f.Truncate(size); err != nil {
					return nil, "", fmt.Errorf("cut %s back to its checkpoint size: %w", what, err)
				}
			}
		}
		return f, absPath(path), nil
	}
	var outSize, errSize int64 = -1, -1
	if at != nil {
		outSize, errSize = at.StdoutSize, at.StderrSize
	}
	if s.out, s.outName, err = open(o.Stdout, outSize, os.Stdout, "--stdout"); err != nil {
		return s, err
	}
	if s.err, s.errName, err = open(o.Stderr, errSize, os.Stderr, "--stderr"); err != nil {
		return s, err
	}
	return s, nil
}

// closeOurs closes the shim's copies once the job holds its own.
func (s *stdioFiles) closeOurs() {
	for _, f := range s.ours {
		f.Close()
	}
	s.ours = nil
}

// measure records the streams' state now (while the job is suspended for a
// checkpoint). pid is the job's main process, whose stdin offset counts.
func (s *stdioFiles) measure(pid int) ckptstore.Stdio {
	st := ckptstore.Stdio{StdoutSize: fileSize(s.outName), StderrSize: fileSize(s.errName), StdinOffset: -1}
	if s.inName != "" {
		st.StdinOffset = fdOffset(pid, 0)
		if st.StdinOffset < 0 && s.in != nil {
			if off, err := s.in.Seek(0, io.SeekCurrent); err == nil {
				st.StdinOffset = off
			}
		}
	}
	return st
}

// paths are the files the shim opened for the job.
func (s *stdioFiles) paths() []string {
	var out []string
	for _, p := range []string{s.inName, s.outName, s.errName} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func fileSize(path string) int64 {
	if path == "" {
		return -1
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
