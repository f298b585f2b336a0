package dmtcp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Install is a DMTCP installation: where its commands are and which version
// they are.
type Install struct {
	// Prefix is the directory DMTCP resolves its pieces from:
	// dirname(dirname(realpath(dmtcp_launch))).
	Prefix      string
	Launch      string // dmtcp_launch (dmtcp_checkpoint before 2.0)
	Coordinator string
	Command     string
	Restart     string
	MtcpRestart string
	LibDir      string // the directory with libdmtcp.so (or dmtcphijack.so)
	Version     string // "4.2.0"; empty until Probe
	Where       string // how it was found, for messages
}

// Search says where to look for DMTCP, in order: an explicit prefix (the
// shim's --dmtcp-prefix), the job's working directory (a bundle
// transferred with the job), the directory the shim itself sits in (an
// extracted bundle), $DMTCP_PREFIX, and PATH.
type Search struct {
	Prefix    string // explicit; when set, nothing else is tried
	Cwd       string
	SelfDir   string // directory of the running shim binary
	EnvPrefix string // $DMTCP_PREFIX
	Path      string // $PATH
}

// ErrNotFound means no DMTCP install was found anywhere.
var ErrNotFound = errors.New("DMTCP not found")

// launchNames are the names of the launch command, newest first.
var launchNames = []string{"dmtcp_launch", "dmtcp_checkpoint"}

// Locate finds a DMTCP install. The error for a missing or partial install
// names every place looked at and what was missing.
func Locate(s Search) (*Install, error) {
	// A relative prefix (a submit file's "--dmtcp-prefix .") means the
	// directory the shim started in.
	if s.Prefix != "" && !filepath.IsAbs(s.Prefix) {
		if abs, err := filepath.Abs(s.Prefix); err == nil {
			s.Prefix = abs
		}
	}
	type candidate struct{ dir, where string }
	var cands []candidate
	add := func(dir, where string) {
		if dir != "" {
			cands = append(cands, candidate{dir, where})
		}
	}
	if s.Prefix != "" {
		add(filepath.Join(s.Prefix, "bin"), "--dmtcp-prefix "+s.Prefix)
		add(s.Prefix, "--dmtcp-prefix "+s.Prefix)
	} else {
		if s.Cwd != "" {
			add(filepath.Join(s.Cwd, "bin"), "working directory (bin/)")
			add(filepath.Join(s.Cwd, "dmtcp", "bin"), "working directory (dmtcp/bin/)")
		}
		add(s.SelfDir, "beside shim_dmtcp")
		if s.EnvPrefix != "" {
			add(filepath.Join(s.EnvPrefix, "bin"), "$DMTCP_PREFIX "+s.EnvPrefix)
		}
		for _, dir := range filepath.SplitList(s.Path) {
			if dir != "" {
				add(dir, "PATH")
			}
		}
	}
	var partial []string
	for _, c := range cands {
		for _, name := range launchNames {
			p := filepath.Join(c.dir, name)
			if !isExecutable(p) {
				continue
			}
			inst, err := fromLaunch(p, c.where)
			if err != nil {
				partial = append(partial, err.Error())
				continue
			}
			return inst, nil
		}
	}
	if len(partial) > 0 {
		return nil, fmt.Errorf("%w: incomplete install: %s", ErrNotFound, strings.Join(partial, "; "))
	}
	var looked []string
	for _, c := range cands {
		if c.where != "PATH" {
			looked = append(looked, c.dir)
		}
	}
	if s.Path != "" && s.Prefix == "" {
		looked = append(looked, "PATH")
	}
	return nil, fmt.Errorf("%w (looked in %s); transfer a dmtcp_condor_integration bundle with the job, or give --dmtcp-prefix DIR (the directory holding bin/dmtcp_launch)",
		ErrNotFound, strings.Join(looked, ", "))
}

// fromLaunch builds an Install around a launch command, the way DMTCP
// itself finds its pieces: from the real path of the binary, bin/ beside
// lib/dmtcp/ (or lib64/dmtcp/).
func fromLaunch(launch, where string) (*Install, error) {
	real, err := filepath.EvalSymlinks(launch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", launch, err)
	}
	binDir := filepath.Dir(real)
	inst := &Install{Prefix: filepath.Dir(binDir), Launch: real, Where: where}
	find := func(name string, dirs ...string) string {
		for _, d := range dirs {
			if p := filepath.Join(d, name); isExecutable(p) {
				return p
			}
		}
		return ""
	}
	libDirs := []string{
		filepath.Join(inst.Prefix, "lib64", "dmtcp"),
		filepath.Join(inst.Prefix, "lib", "dmtcp"),
	}
	inst.Coordinator = find("dmtcp_coordinator", binDir)
	inst.Command = find("dmtcp_command", binDir)
	inst.Restart = find("dmtcp_restart", binDir)
	// Old layouts kept mtcp_restart under lib/dmtcp.
	inst.MtcpRestart = find("mtcp_restart", append([]string{binDir}, libDirs...)...)
	for _, d := range libDirs {
		for _, lib := range []string{"libdmtcp.so", "dmtcphijack.so"} {
			if fileExists(filepath.Join(d, lib)) {
				inst.LibDir = d
				break
			}
		}
		if inst.LibDir != "" {
			break
		}
	}
	var missing []string
	for _, m := range []struct{ path, name string }{
		{inst.Coordinator, "bin/dmtcp_coordinator"},
		{inst.Command, "bin/dmtcp_command"},
		{inst.Restart, "bin/dmtcp_restart"},
		{inst.MtcpRestart, "bin/mtcp_restart"},
		{inst.LibDir, "lib/dmtcp/libdmtcp.so"},
	} {
		if m.path == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s (found via %s) has no %s: DMTCP needs bin/ and lib/dmtcp/ side by side",
			inst.Prefix, where, strings.Join(missing, ", "))
	}
	return inst, nil
}

var versionRE = regexp.MustCompile(`\b(\d+\.\d+(?:\.\d+)?)\b`)

// Probe asks dmtcp_launch for its version.
func (in *Install) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, in.Launch, "--version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	m := versionRE.FindStringSubmatch(first)
	if m == nil {
		if err != nil {
			return fmt.Errorf("run %s --version: %w: %s", in.Launch, err, strings.TrimSpace(first))
		}
		return fmt.Errorf("%s --version printed no version: %q", in.Launch, first)
	}
	in.Version = m[1]
	return nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
