package dmtcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Install is a DMTCP installation: where its commands, libraries and
// plugins are and which version they are. The JSON form is what
// "dmtcp-condor locate --json" prints.
type Install struct {
	// Prefix is the directory DMTCP resolves its pieces from:
	// dirname(dirname(realpath(dmtcp_launch))).
	Prefix      string `json:"prefix"`
	Launch      string `json:"launch"` // dmtcp_launch (dmtcp_checkpoint before 2.0)
	Coordinator string `json:"coordinator"`
	Command     string `json:"command"`
	Restart     string `json:"restart"`
	MtcpRestart string `json:"mtcp_restart"` // in bin/, or lib*/dmtcp/ in old layouts
	LibDir      string `json:"lib_dir"`      // the directory with libdmtcp.so (or dmtcphijack.so)
	Library     string `json:"library"`      // libdmtcp.so, or dmtcphijack.so before 2.0
	// Libraries are every shared object in LibDir: the library, the
	// plugins and, in old layouts, libmtcp.so.
	Libraries []string `json:"libraries"`
	// Plugins are the plugin names (libdmtcp_pid.so -> "pid").
	Plugins []string `json:"plugins"`
	// Programs are every DMTCP program of this install (dmtcp_* and
	// mtcp_* beside the launch command, and mtcp_restart wherever it is):
	// what a bundle copies.
	Programs []string `json:"programs"`
	// Legacy is true for the DMTCP 1.x names (dmtcp_checkpoint,
	// dmtcphijack.so), whose images and options the shim cannot drive.
	Legacy      bool   `json:"legacy_names"`
	Version     string `json:"version"`      // "4.2.0"; empty until Probe or DetectVersion
	VersionFrom string `json:"version_from"` // how Version was learnt
	Where       string `json:"found_via"`    // how it was found, for messages
	// Missing names the pieces DMTCP needs that are absent, relative to
	// Prefix; an Install returned by Locate has none.
	Missing []string `json:"missing,omitempty"`
}

// Search says where to look for DMTCP, in order: an explicit prefix (a
// command's option), the job's working directory (a bundle
// transferred with the job), the directory the shim itself sits in (an
// extracted bundle), $DMTCP_PREFIX, PATH, and then Roots.
type Search struct {
	Prefix    string // explicit; when set, nothing else is tried
	Cwd       string
	SelfDir   string // directory of the running shim binary
	EnvPrefix string // $DMTCP_PREFIX
	Path      string // $PATH
	// Roots are further install prefixes tried last, such as the
	// distribution and build-system layouts KnownRoots lists. The shim
	// leaves it empty: on an execute node DMTCP comes with the job or is
	// named.
	Roots []string
}

// ErrNotFound means no DMTCP install was found anywhere. Locate's errors
// are *NotFoundError values that match it with errors.Is.
var ErrNotFound = errors.New("DMTCP not found")

// NotFoundError says where Locate looked and which installs it found with
// pieces missing, so a caller can print (or encode) exactly what is
// missing rather than only that something is. Its message names no
// command's option: a command adds how its user names an install with
// PrefixHint.
type NotFoundError struct {
	Looked  []string   // the places searched, in order ("PATH" for all of $PATH)
	Partial []*Install // installs with a launch command but Missing pieces
}

// Error names the incomplete installs, or else every place looked in.
func (e *NotFoundError) Error() string {
	if len(e.Partial) > 0 {
		var parts []string
		for _, in := range e.Partial {
			parts = append(parts, fmt.Sprintf("%s (found via %s) has no %s", in.Prefix, in.Where, strings.Join(in.Missing, ", ")))
		}
		return fmt.Sprintf("%v: incomplete install: %s: DMTCP needs bin/ and lib/dmtcp/ side by side; reinstall DMTCP there",
			ErrNotFound, strings.Join(parts, "; "))
	}
	return fmt.Sprintf("%v (looked in %s); transfer a dmtcp_condor_integration bundle with the job",
		ErrNotFound, strings.Join(e.Looked, ", "))
}

// PrefixHint adds to a Locate error how to name an install instead: with
// flag, the option of the caller's command that sets Search.Prefix
// ("--dmtcp-prefix"). Other errors come back as they are.
func PrefixHint(err error, flag string) error {
	var nf *NotFoundError
	switch {
	case !errors.As(err, &nf):
		return err
	case len(nf.Partial) > 0:
		return fmt.Errorf("%w or give %s DIR of a complete install", err, flag)
	default:
		return fmt.Errorf("%w, or give %s DIR (the directory holding bin/dmtcp_launch)", err, flag)
	}
}

// Is makes errors.Is(err, ErrNotFound) true for every NotFoundError.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// launchNames are the names of the launch command, newest first.
var launchNames = []string{"dmtcp_launch", "dmtcp_checkpoint"}

// Locate finds a DMTCP install. The error for a missing or partial install
// is a *NotFoundError naming every place looked at and what was missing.
func Locate(s Search) (*Install, error) {
	// A relative prefix (a submit file's ".") means the directory the
	// shim started in.
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
		add(filepath.Join(s.Prefix, "bin"), "the given prefix "+s.Prefix)
		add(s.Prefix, "the given prefix "+s.Prefix)
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
		for _, root := range s.Roots {
			add(filepath.Join(root, "bin"), "layout "+root)
		}
	}
	nf := &NotFoundError{}
	seen := map[string]bool{}
	for _, c := range cands {
		for _, name := range launchNames {
			p := filepath.Join(c.dir, name)
			if !isExecutable(p) {
				continue
			}
			inst, err := Inspect(p, c.where)
			if err != nil {
				continue // removed while we looked: as if it were not there
			}
			if seen[inst.Launch] {
				continue
			}
			seen[inst.Launch] = true
			if len(inst.Missing) > 0 {
				nf.Partial = append(nf.Partial, inst)
				continue
			}
			return inst, nil
		}
	}
	for _, c := range cands {
		if c.where != "PATH" {
			nf.Looked = append(nf.Looked, c.dir)
		}
	}
	if s.Path != "" && s.Prefix == "" {
		nf.Looked = append(nf.Looked, "PATH")
	}
	return nil, nf
}

// Inspect describes the install around a launch command the way DMTCP
// itself finds its pieces: from the real path of the binary, bin/ beside
// lib64/dmtcp/ or lib/dmtcp/. Pieces DMTCP needs but that are absent are
// listed in Missing; the error is only for a launch path that cannot be
// resolved.
func Inspect(launch, where string) (*Install, error) {
	real, err := filepath.EvalSymlinks(launch)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", launch, err)
	}
	binDir := filepath.Dir(real)
	inst := &Install{Prefix: filepath.Dir(binDir), Launch: real, Where: where}
	inst.Legacy = filepath.Base(real) == "dmtcp_checkpoint"
	libDirs := []string{
		filepath.Join(inst.Prefix, "lib64", "dmtcp"),
		filepath.Join(inst.Prefix, "lib", "dmtcp"),
	}
	find := func(name string, dirs ...string) string {
		for _, d := range dirs {
			if p := filepath.Join(d, name); isExecutable(p) {
				return p
			}
		}
		return ""
	}
	inst.Coordinator = find("dmtcp_coordinator", binDir)
	inst.Command = find("dmtcp_command", binDir)
	inst.Restart = find("dmtcp_restart", binDir)
	// DMTCP 1.x/2.x and some distributions kept mtcp_restart under lib/dmtcp.
	inst.MtcpRestart = find("mtcp_restart", append([]string{binDir}, libDirs...)...)
	for _, d := range libDirs {
		for _, lib := range []string{"libdmtcp.so", "dmtcphijack.so"} {
			if p := filepath.Join(d, lib); fileExists(p) {
				inst.LibDir, inst.Library = d, p
				inst.Legacy = inst.Legacy || lib == "dmtcphijack.so"
				break
			}
		}
		if inst.LibDir != "" {
			break
		}
	}
	inst.Programs = programsIn(binDir)
	if inst.MtcpRestart != "" && filepath.Dir(inst.MtcpRestart) != binDir {
		inst.Programs = append(inst.Programs, inst.MtcpRestart)
	}
	if inst.LibDir != "" {
		inst.Libraries, inst.Plugins = librariesIn(inst.LibDir)
	}
	libName := "lib/dmtcp/libdmtcp.so"
	if inst.Legacy {
		libName = "lib/dmtcp/dmtcphijack.so"
	}
	for _, m := range []struct{ path, name string }{
		{inst.Coordinator, "bin/dmtcp_coordinator"},
		{inst.Command, "bin/dmtcp_command"},
		{inst.Restart, "bin/dmtcp_restart"},
		{inst.MtcpRestart, "bin/mtcp_restart"},
		{inst.LibDir, libName},
	} {
		if m.path == "" {
			inst.Missing = append(inst.Missing, m.name)
		}
	}
	return inst, nil
}

// programsIn lists DMTCP's programs in a bin directory. Distributions
// share /usr/bin with everything else, so only DMTCP's names count.
func programsIn(binDir string) []string {
	entries, err := os.ReadDir(binDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "dmtcp_") && !strings.HasPrefix(name, "mtcp_") {
			continue
		}
		if p := filepath.Join(binDir, name); isExecutable(p) {
			out = append(out, p)
		}
	}
	return out
}

// librariesIn lists the shared objects in DMTCP's library directory and
// the plugin names among them.
func librariesIn(libDir string) (libs, plugins []string) {
	entries, err := os.ReadDir(libDir)
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.Contains(name, ".so") || e.IsDir() {
			continue
		}
		libs = append(libs, filepath.Join(libDir, name))
		if p, ok := strings.CutPrefix(name, "libdmtcp_"); ok {
			plugins = append(plugins, strings.TrimSuffix(p, ".so"))
		}
	}
	return libs, plugins
}

var versionRE = regexp.MustCompile(`\b(\d+\.\d+(?:\.\d+)?)\b`)

// Probe asks dmtcp_launch for its version. It fails when DMTCP does not
// run here, which is what the shim needs to know before it starts a job.
func (in *Install) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, in.Launch, "--version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	m := versionRE.FindStringSubmatch(first)
	if m == nil {
		if err != nil {
			if first = strings.TrimSpace(first); first != "" {
				err = fmt.Errorf("%w: %s", err, first)
			}
			return fmt.Errorf("run %s --version: %w", in.Launch, err)
		}
		return fmt.Errorf("%s --version printed no version: %q", in.Launch, first)
	}
	in.Version = m[1]
	in.VersionFrom = filepath.Base(in.Launch) + " --version"
	return nil
}

// DetectVersion learns the version without running DMTCP, for an install
// built for another machine or one that does not run here: from the
// installed version.h, the version DMTCP compiles into its library, a
// share/doc/dmtcp-VERSION directory, or a Spack (dmtcp-VERSION-HASH) or
// EasyBuild (DMTCP/VERSION) prefix. It reports false when none says.
func (in *Install) DetectVersion() bool {
	for _, h := range []string{
		filepath.Join(in.Prefix, "include", "dmtcp", "version.h"),
		filepath.Join(in.Prefix, "include", "version.h"),
	} {
		if v := versionFromHeader(h); v != "" {
			in.Version, in.VersionFrom = v, h
			return true
		}
	}
	if in.Library != "" {
		if v := versionFromLibrary(in.Library); v != "" {
			in.Version, in.VersionFrom = v, in.Library
			return true
		}
	}
	if docs, _ := filepath.Glob(filepath.Join(in.Prefix, "share", "doc", "dmtcp-*")); len(docs) > 0 {
		if v := strings.TrimPrefix(filepath.Base(docs[len(docs)-1]), "dmtcp-"); semverLike.MatchString(v) {
			in.Version, in.VersionFrom = v, docs[len(docs)-1]
			return true
		}
	}
	if v := versionFromPrefix(in.Prefix); v != "" {
		in.Version, in.VersionFrom = v, "install prefix "+in.Prefix
		return true
	}
	return false
}

var (
	headerVersionRE = regexp.MustCompile(`#define\s+DMTCP_PACKAGE_VERSION\s+"([^"]+)"`)
	// DMTCP's plugin descriptors hold "\0VERSION\0DMTCP\0".
	libraryVersionRE = regexp.MustCompile(`\x00(\d+\.\d+\.\d+)\x00DMTCP\x00`)
	semverLike       = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)
	// dmtcp-4.2.0-abcdef (Spack), DMTCP/4.2.0-GCCcore-12.2.0 (EasyBuild), dmtcp-4.2.0.
	prefixVersionRE = regexp.MustCompile(`(?i)(?:^dmtcp[-_]|^)(\d+\.\d+(?:\.\d+)?)(?:[-_].*)?$`)
)

func versionFromHeader(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if m := headerVersionRE.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// versionFromLibrary scans at most the first 64 MiB of the library.
func versionFromLibrary(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return ""
	}
	if m := libraryVersionRE.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// versionFromPrefix reads a version from the last two path elements of a
// build system's prefix: .../dmtcp-4.2.0-hash (Spack), .../DMTCP/4.2.0
// (EasyBuild), /opt/dmtcp-4.2.0.
func versionFromPrefix(prefix string) string {
	base := filepath.Base(prefix)
	parent := filepath.Base(filepath.Dir(prefix))
	if strings.EqualFold(parent, "dmtcp") {
		if m := prefixVersionRE.FindStringSubmatch(base); m != nil {
			return m[1]
		}
	}
	if strings.HasPrefix(strings.ToLower(base), "dmtcp-") || strings.HasPrefix(strings.ToLower(base), "dmtcp_") {
		if m := prefixVersionRE.FindStringSubmatch(base); m != nil {
			return m[1]
		}
	}
	return ""
}

// KnownRoots lists the install prefixes distributions and build systems
// use, as seen under sysroot ("" or "/" for this machine; a directory of
// fake trees in tests): /usr (Debian, Arch: lib/dmtcp; Fedora, openSUSE:
// lib64/dmtcp), /usr/local, /opt/dmtcp and /opt/dmtcp-*, EasyBuild
// ($EBROOTDMTCP, $EASYBUILD_INSTALLPATH/software/DMTCP/*, the default
// ~/.local/easybuild) and Spack ($DMTCP_ROOT from its modules,
// $SPACK_ROOT/opt/spack/.../dmtcp-*). Versioned prefixes come newest first.
// getenv reads the environment (os.Getenv, or a map in tests); paths
// taken from it are used as they are.
func KnownRoots(sysroot string, getenv func(string) string) []string {
	under := func(p string) string { return filepath.Join(sysroot, p) }
	var roots []string
	for _, env := range []string{"EBROOTDMTCP", "DMTCP_ROOT"} {
		if v := getenv(env); v != "" {
			roots = append(roots, v)
		}
	}
	roots = append(roots, under("/usr"), under("/usr/local"), under("/opt/dmtcp"))
	roots = append(roots, newestFirst(glob(under("/opt/dmtcp-*")))...)
	var eb []string
	if p := getenv("EASYBUILD_INSTALLPATH"); p != "" {
		eb = append(eb, glob(filepath.Join(p, "software", "DMTCP", "*"))...)
	}
	if home := getenv("HOME"); home != "" {
		eb = append(eb, glob(filepath.Join(home, ".local", "easybuild", "software", "DMTCP", "*"))...)
	}
	roots = append(roots, newestFirst(eb)...)
	if sp := getenv("SPACK_ROOT"); sp != "" {
		var spack []string
		// <arch>/<compiler>/dmtcp-V-HASH (Spack < 1.0) and <arch>/dmtcp-V-HASH.
		spack = append(spack, glob(filepath.Join(sp, "opt", "spack", "*", "*", "dmtcp-*"))...)
		spack = append(spack, glob(filepath.Join(sp, "opt", "spack", "*", "dmtcp-*"))...)
		roots = append(roots, newestFirst(spack)...)
	}
	return roots
}

func glob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	return m
}

// newestFirst orders versioned prefixes by the version in their name,
// highest first, so a machine with several picks the newest.
func newestFirst(dirs []string) []string {
	key := func(d string) []int {
		v := versionFromPrefix(d)
		var out []int
		for _, f := range strings.Split(v, ".") {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
		return out
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		a, b := key(dirs[i]), key(dirs[j])
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
	return dirs
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Identify learns the version the best way available: it runs Probe and,
// when DMTCP does not run on this machine (built elsewhere, another
// architecture, a broken install), falls back to DetectVersion. It returns
// Probe's error, nil when DMTCP ran, so a caller can say both what the
// version is and that DMTCP does not run here.
func (in *Install) Identify(ctx context.Context) (runErr error) {
	runErr = in.Probe(ctx)
	if runErr != nil {
		in.DetectVersion()
	}
	return runErr
}
