package bundle

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
)

// SharedLib is a library copied into a bundle's lib/ because DMTCP's
// programs or libraries need it and an execute node may not have it.
type SharedLib struct {
	Name     string   `json:"name"`      // the name programs ask for (DT_NEEDED), the file name in lib/
	Path     string   `json:"path"`      // where it was found on this machine
	NeededBy []string `json:"needed_by"` // file names that need it
}

// arch is the target architecture of a bundle, in the words of the three
// tools that name it.
type arch struct {
	machine elf.Machine
	goarch  string // amd64
	uname   string // x86_64
}

var arches = []arch{
	{elf.EM_X86_64, "amd64", "x86_64"},
	{elf.EM_AARCH64, "arm64", "aarch64"},
	{elf.EM_386, "386", "i686"},
	{elf.EM_PPC64, "ppc64le", "ppc64le"},
	{elf.EM_RISCV, "riscv64", "riscv64"},
	{elf.EM_S390, "s390x", "s390x"},
}

// ArchOf names the architecture of an ELF file in Go's words (amd64,
// arm64), for building a shim that matches DMTCP.
func ArchOf(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", fmt.Errorf("%s is not an ELF program: %w", file, err)
	}
	defer f.Close()
	for _, a := range arches {
		if a.machine == f.Machine {
			return a.goarch, nil
		}
	}
	return "", fmt.Errorf("%s is for %v, which dmtcp-condor does not build for", file, f.Machine)
}

// TargetGOARCH is the architecture a bundle of in is for: that of its
// launch command, or this machine's when the install has no ELF programs
// (a test's stand-ins).
func TargetGOARCH(in *dmtcp.Install, host string) string {
	if t, err := targetArch(in); err == nil && t.goarch != "" {
		return t.goarch
	}
	return host
}

// targetArch is the architecture of DMTCP's launch command; an install of
// stand-ins without ELF programs (a test's) is "noarch" and fits any shim.
func targetArch(in *dmtcp.Install) (arch, error) {
	if !isELF(in.Launch) {
		return arch{uname: "noarch"}, nil
	}
	goarch, err := ArchOf(in.Launch)
	if err != nil {
		return arch{}, fmt.Errorf("bundle: %w", err)
	}
	for _, a := range arches {
		if a.goarch == goarch {
			return a, nil
		}
	}
	return arch{}, fmt.Errorf("bundle: unknown architecture %s", goarch)
}

// isELF says whether file starts with the ELF magic number.
func isELF(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == elf.ELFMAG
}

// checkShim insists on a static shim for the bundle's architecture: the
// shim must run on execute nodes whatever C library they have. Its error
// is an *InputError for "Shim".
func checkShim(shim string, target arch) error {
	if shim == "" {
		return badInput("Shim", errors.New("no shim_dmtcp given; give a static one (Shim.Resolve finds or builds one)"))
	}
	f, err := elf.Open(shim)
	if err != nil {
		return badInput("Shim", fmt.Errorf("shim_dmtcp %s: not an ELF program (%v); build it with CGO_ENABLED=0 go build ./cmd/shim_dmtcp", shim, err))
	}
	defer f.Close()
	if static, why := isStatic(f); !static {
		return badInput("Shim", fmt.Errorf("shim_dmtcp %s is not static (%s); build it with CGO_ENABLED=0 go build ./cmd/shim_dmtcp", shim, why))
	}
	if target.goarch != "" && f.Machine != target.machine {
		return badInput("Shim", fmt.Errorf("shim_dmtcp %s is for %v but DMTCP is for %s; build it with GOARCH=%s CGO_ENABLED=0 go build ./cmd/shim_dmtcp", shim, f.Machine, target.uname, target.goarch))
	}
	return nil
}

func isStatic(f *elf.File) (bool, string) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, "it has a dynamic loader"
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return false, "it needs " + strings.Join(libs, ", ")
	}
	return true, ""
}

// systemLibs are glibc's libraries, which a bundle must never carry: a
// program has to use the C library of the machine it runs on, together
// with that machine's dynamic loader.
var systemLibs = map[string]bool{
	"libc.so.6": true, "libm.so.6": true, "libpthread.so.0": true, "libdl.so.2": true,
	"librt.so.1": true, "libresolv.so.2": true, "libutil.so.1": true, "libanl.so.1": true,
	"libnsl.so.1": true, "libBrokenLocale.so.1": true, "libmvec.so.1": true,
	"libthread_db.so.1": true, "libc_malloc_debug.so.0": true, "libmemusage.so": true,
	"libpcprofile.so": true, "libSegFault.so": true,
}

// isSystemLib says whether name is glibc or the dynamic loader.
func isSystemLib(name string) bool {
	return systemLibs[name] || strings.HasPrefix(name, "ld-linux") || strings.HasPrefix(name, "ld64.so") ||
		strings.HasPrefix(name, "ld.so") || strings.HasPrefix(name, "libnss_") || name == "linux-vdso.so.1"
}

// searchDirs are where the dynamic loader would look for DMTCP's
// libraries on this machine: extra (the caller's LD_LIBRARY_PATH), the
// install's own lib directories, /etc/ld.so.conf, and the defaults.
// RPATH/RUNPATH entries are added per file.
func searchDirs(in *dmtcp.Install, extra []string) []string {
	dirs := append([]string(nil), extra...)
	dirs = append(dirs, filepath.Join(in.Prefix, "lib"), filepath.Join(in.Prefix, "lib64"), in.LibDir)
	dirs = append(dirs, runtimelib.LdSoConf("", "/etc/ld.so.conf", 0)...)
	dirs = append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	return dirs
}

// resolveSharedLibs follows the ELF dependencies of files (transitively)
// and returns the libraries that are neither glibc, the loader, nor part
// of the files themselves, sorted by name. Files that are not ELF
// (scripts, stand-ins) have no dependencies. A library not found is
// returned in unresolved as "NAME (needed by FILE)".
func resolveSharedLibs(files []string, dirs []string) (libs []SharedLib, unresolved []string) {
	own := map[string]bool{}
	for _, f := range files {
		own[filepath.Base(f)] = true
	}
	found := map[string]*SharedLib{}
	missing := map[string][]string{}
	queue := append([]string(nil), files...)
	done := map[string]bool{}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		if done[file] {
			continue
		}
		done[file] = true
		f, err := elf.Open(file)
		if err != nil {
			continue // not ELF: a script or a stand-in
		}
		needed, _ := f.ImportedLibraries()
		runpath := dynPaths(f, file)
		class, machine := f.Class, f.Machine
		f.Close()
		for _, name := range needed {
			if isSystemLib(name) || own[name] {
				continue
			}
			who := filepath.Base(file)
			if l, ok := found[name]; ok {
				l.NeededBy = appendOnce(l.NeededBy, who)
				continue
			}
			p := findLib(name, append(runpath, dirs...), class, machine)
			if p == "" {
				missing[name] = appendOnce(missing[name], who)
				continue
			}
			found[name] = &SharedLib{Name: name, Path: p, NeededBy: []string{who}}
			queue = append(queue, p)
		}
	}
	for _, l := range found {
		sort.Strings(l.NeededBy)
		libs = append(libs, *l)
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].Name < libs[j].Name })
	for name, by := range missing {
		sort.Strings(by)
		unresolved = append(unresolved, fmt.Sprintf("%s (needed by %s)", name, strings.Join(by, ", ")))
	}
	sort.Strings(unresolved)
	return libs, unresolved
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// dynPaths are a file's RUNPATH (or, without one, RPATH) directories with
// $ORIGIN expanded.
func dynPaths(f *elf.File, file string) []string {
	paths, _ := f.DynString(elf.DT_RUNPATH)
	if len(paths) == 0 {
		paths, _ = f.DynString(elf.DT_RPATH)
	}
	origin := filepath.Dir(file)
	var out []string
	for _, p := range paths {
		for _, d := range filepath.SplitList(p) {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// findLib finds name in dirs with the class and machine of the program
// that needs it (a 64-bit program cannot use a 32-bit library of the same
// name), and returns its real path.
func findLib(name string, dirs []string, class elf.Class, machine elf.Machine) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		f, err := elf.Open(real)
		if err != nil {
			continue
		}
		// Only a shared library of the program's kind: a link in a
		// library directory to anything else is not copied.
		ok := f.Class == class && f.Machine == machine && f.Type == elf.ET_DYN
		f.Close()
		if ok {
			return real
		}
	}
	return ""
}
