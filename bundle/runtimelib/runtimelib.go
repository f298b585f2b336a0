// Package runtimelib decides, on the machine where a bundle runs, which of
// the bundle's copies of the C++ runtime (libstdc++, libgcc_s, libatomic:
// whatever DMTCP needs besides glibc) DMTCP must use, and which the
// machine supplies itself.
//
// A bundle keeps each copied library alone in its own directory,
// lib/runtime/SONAME/SONAME, and lists in lib/runtime/libs.json the
// symbol versions DMTCP's files need from it (GLIBCXX_3.4.30, ...). On an
// execute node, Select looks for the node's own copy of each library where
// the dynamic loader would find it; a library is taken from the bundle
// only when the node has none, or has one that lacks a version DMTCP
// needs. Only those libraries go on the loader path: the shim links them
// into a directory of its own (Link, LoaderPath); the bundle's self-test
// and "bundle verify" use their directories directly (LDLibraryPath).
//
// Why this is safe for the job: DMTCP preloads libdmtcp.so into the job,
// and libdmtcp.so needs libstdc++.so.6, so whichever libstdc++ the loader
// finds first is the one the whole job gets (a process holds one library
// per soname). Where the node's copy is good enough for DMTCP, the bundle
// adds nothing and the job gets the node's copy, newer or not: the
// bundle's copies never leak into a C++ job that needs the node's newer
// library. Where the node has none, nothing the job could need is hidden.
// Where the node's copy is older than DMTCP needs, DMTCP cannot run with
// it; the bundle's newer copy is then given to both, and GCC's runtime
// libraries keep every older symbol version, so a job built against the
// node's older library still runs. RUNPATH set at bundle time cannot do
// this: it is searched before the system's directories, so libdmtcp.so
// would pull the bundle's libstdc++ into every job; a fixed
// LD_LIBRARY_PATH has the same flaw.
//
// The package has no dependencies beyond the standard library, so the
// static shim can use it on the execute node.
package runtimelib

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Dir is where a bundle keeps its copied libraries, relative to its top.
const Dir = "lib/runtime"

// ManifestFile is the list of those libraries, in Dir.
const ManifestFile = "libs.json"

// Manifest describes the libraries a bundle carries for DMTCP.
type Manifest struct {
	// Machine and Class are the ELF machine and class of DMTCP's files
	// ("EM_X86_64", "ELFCLASS64"): a node's library for another
	// architecture does not count.
	Machine string `json:"machine"`
	Class   string `json:"class"`
	// GLIBC is the newest glibc symbol version DMTCP's files and the
	// copied libraries need ("2.34"): the oldest glibc they run on.
	GLIBC string `json:"glibc,omitempty"`
	Libs  []Lib  `json:"libs"`
}

// Lib is one copied library.
type Lib struct {
	Name   string `json:"name"`   // its soname, the file name in Dir/Name/
	SHA256 string `json:"sha256"` // of the copy
	// Versions are the symbol versions bundled files need from it; a
	// node's copy that defines all of them is good enough.
	Versions []string `json:"versions,omitempty"`
	NeededBy []string `json:"needed_by"` // the bundled files that need it
}

// Describe makes a bundle's manifest: libs maps each copied library's
// soname to its file; files are every ELF file of the bundle (DMTCP's
// programs and libraries and the copies), whose version needs are read.
// sum gives a file's SHA-256.
func Describe(files []string, libs map[string]string, sum func(string) (string, error)) (*Manifest, error) {
	m := &Manifest{}
	versions := map[string]map[string]bool{}
	neededBy := map[string]map[string]bool{}
	for name := range libs {
		versions[name], neededBy[name] = map[string]bool{}, map[string]bool{}
	}
	glibc := ""
	soname := map[string]string{} // a copy's file -> its soname
	for name, path := range libs {
		soname[path] = name
	}
	for _, file := range files {
		who := filepath.Base(file)
		if n, ok := soname[file]; ok {
			who = n
		}
		f, err := elf.Open(file)
		if err != nil {
			continue // a script or a test's stand-in
		}
		if m.Machine == "" {
			m.Machine, m.Class = f.Machine.String(), f.Class.String()
		}
		needs, _ := f.DynamicVersionNeeds()
		imported, _ := f.ImportedLibraries()
		f.Close()
		for _, lib := range imported {
			if neededBy[lib] != nil {
				neededBy[lib][who] = true
			}
		}
		for _, n := range needs {
			for _, d := range n.Needs {
				if versions[n.Name] != nil {
					versions[n.Name][d.Dep] = true
				}
				if v, ok := strings.CutPrefix(d.Dep, "GLIBC_"); ok && isGlibcLib(n.Name) && newer(v, glibc) {
					glibc = v
				}
			}
		}
	}
	m.GLIBC = glibc
	for name, path := range libs {
		s, err := sum(path)
		if err != nil {
			return nil, err
		}
		m.Libs = append(m.Libs, Lib{Name: name, SHA256: s, Versions: sortedKeys(versions[name]), NeededBy: sortedKeys(neededBy[name])})
	}
	sort.Slice(m.Libs, func(i, j int) bool { return m.Libs[i].Name < m.Libs[j].Name })
	return m, nil
}

func isGlibcLib(name string) bool {
	return name == "libc.so.6" || name == "libm.so.6" || name == "libpthread.so.0" || name == "libdl.so.2" ||
		name == "librt.so.1" || strings.HasPrefix(name, "ld-linux")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newer says whether dotted version a is above b ("2.34" > "2.9"); ""
// is below everything.
func newer(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	if b == "" {
		return a != ""
	}
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x > y
		}
	}
	return false
}

// Read loads top/lib/runtime/libs.json. A directory without one (a DMTCP
// install that is not a bundle) gives nil and no error.
func Read(top string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(top, Dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(top, Dir, ManifestFile), err)
	}
	return &m, nil
}

// Node says how to look at the machine.
type Node struct {
	// Root is the machine's root directory; "" is "/" (a test's chroot
	// otherwise). Paths in LDLibraryPath are inside it.
	Root string
	// LDLibraryPath is the environment's $LD_LIBRARY_PATH, which the
	// loader searches first.
	LDLibraryPath string
	// All takes every library from the bundle, as on a node that has
	// none of them (the bundle's self-test).
	All bool
}

// Choice is the decision for one library.
type Choice struct {
	Lib
	NodeCopy string   // the node's copy the loader would find, "" when none
	Lacks    []string // versions DMTCP needs that the node's copy lacks
	// FromBundle says the bundle's copy is used; Dir is then its
	// directory, which goes on the loader path.
	FromBundle bool
	Dir        string
}

// Plan is what a node needs from a bundle.
type Plan struct {
	Choices   []Choice
	GLIBC     string // what the bundle needs, "" when unknown
	NodeGLIBC string // what the node's libc.so.6 provides, "" when not found
}

// Select decides, for the bundle at top (the directory holding bin/ and
// lib/), which copied libraries this node needs. It returns nil for a
// directory that is not a bundle.
func Select(top string, n Node) (*Plan, error) {
	m, err := Read(top)
	if m == nil || err != nil {
		return nil, err
	}
	dirs := searchDirs(n, m.Machine)
	p := &Plan{GLIBC: m.GLIBC}
	if libc := find("libc.so.6", dirs, n.Root, m); libc != "" {
		p.NodeGLIBC = newestDefined(filepath.Join(n.Root, libc), "GLIBC_")
	}
	for _, l := range m.Libs {
		c := Choice{Lib: l, NodeCopy: find(l.Name, dirs, n.Root, m)}
		if c.NodeCopy == "" {
			c.FromBundle = true
		} else {
			c.Lacks = lacking(filepath.Join(n.Root, c.NodeCopy), l.Versions)
			c.FromBundle = len(c.Lacks) > 0
		}
		c.FromBundle = c.FromBundle || n.All
		if c.FromBundle {
			c.Dir = filepath.Join(top, Dir, l.Name)
			if _, err := os.Stat(filepath.Join(c.Dir, l.Name)); err != nil {
				return nil, fmt.Errorf("this machine needs the bundle's %s, but it is missing: %w", l.Name, err)
			}
		}
		p.Choices = append(p.Choices, c)
	}
	return p, nil
}

// LDLibraryPath is the loader path DMTCP's commands and the job need:
// the directories of the bundle's libraries this node lacks, before
// current. It is current unchanged when the node lacks nothing. The
// bundle's directories come first because the loader takes the first
// copy it finds, and where a copy is taken from the bundle the node's
// own (if any) cannot serve DMTCP.
func (p *Plan) LDLibraryPath(current string) string {
	var dirs []string
	for _, c := range p.Choices {
		if c.FromBundle {
			dirs = append(dirs, c.Dir)
		}
	}
	if current != "" {
		dirs = append(dirs, current)
	}
	return strings.Join(dirs, ":")
}

// LinkDir is the name of the directory, in the shim's staging directory,
// through which a job and DMTCP reach the bundle's libraries (see Link).
const LinkDir = ".runtime-libs"

// Link makes dir hold, by soname, a symbolic link to each bundle copy
// this node needs, and nothing else (dir is made afresh).
//
// dir, not the bundle's own directories, goes on the loader path
// (LoaderPath), because a restarted job keeps the environment it had at
// its checkpoint: its LD_LIBRARY_PATH must name a directory that exists
// at the same path on the next machine, whatever the new sandbox is
// called and whatever that machine lacks. The shim's staging directory is
// such a path (the same on every machine and for every run of a job), and
// Link fills it anew on each start for the machine the job is on now:
// empty on one that has every library, the links it needs on one that
// lacks some. Without it, programs a job starts after a restart on a bare
// node find no libstdc++ (the old sandbox's path is gone).
func (p *Plan) Link(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range p.Choices {
		if c.FromBundle {
			if err := os.Symlink(filepath.Join(c.Dir, c.Name), filepath.Join(dir, c.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoaderPath is LD_LIBRARY_PATH for a job whose libraries Link put in
// dir: dir before current. dir is there even when empty, so that a
// restart on a node that lacks a library finds it at the same path.
func LoaderPath(dir, current string) string {
	if current == "" {
		return dir
	}
	return dir + ":" + current
}

// GLIBCOK says whether the node's C library is new enough for the
// bundle, with the reason when it is not (or cannot be told).
func (p *Plan) GLIBCOK() (bool, string) {
	switch {
	case p.GLIBC == "":
		return true, ""
	case p.NodeGLIBC == "":
		return false, "no libc.so.6 found where the loader looks"
	case newer(p.GLIBC, p.NodeGLIBC):
		return false, fmt.Sprintf("DMTCP in this bundle needs glibc %s, this machine has %s; build the bundle on a machine with the oldest glibc of your execute nodes", p.GLIBC, p.NodeGLIBC)
	}
	return true, ""
}

// Summary says in one line what the node uses, for logs.
func (p *Plan) Summary() string {
	var parts []string
	for _, c := range p.Choices {
		switch {
		case c.FromBundle && c.NodeCopy == "":
			parts = append(parts, c.Name+" from the bundle (this machine has none)")
		case c.FromBundle && len(c.Lacks) > 0:
			parts = append(parts, fmt.Sprintf("%s from the bundle (this machine's %s lacks %s)", c.Name, c.NodeCopy, strings.Join(c.Lacks, ", ")))
		case c.FromBundle:
			parts = append(parts, c.Name+" from the bundle")
		default:
			parts = append(parts, c.Name+" from this machine ("+c.NodeCopy+")")
		}
	}
	if len(parts) == 0 {
		return "runtime libraries: the bundle carries none"
	}
	return "runtime libraries: " + strings.Join(parts, "; ")
}

// searchDirs are the directories the loader searches, in its order:
// $LD_LIBRARY_PATH, /etc/ld.so.conf (what ldconfig puts in its cache),
// then the defaults for machine (an ELF machine name). Paths are inside
// n.Root.
func searchDirs(n Node, machine string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(n.LDLibraryPath) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, LdSoConf(n.Root, "/etc/ld.so.conf", 0)...)
	if t := triplets[machine]; t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// triplets are the multiarch directory names Debian's loader searches by
// default, even without /etc/ld.so.conf (a node without libc-bin).
var triplets = map[string]string{
	"EM_X86_64": "x86_64-linux-gnu", "EM_AARCH64": "aarch64-linux-gnu", "EM_386": "i386-linux-gnu",
	"EM_PPC64": "powerpc64le-linux-gnu", "EM_RISCV": "riscv64-linux-gnu", "EM_S390": "s390x-linux-gnu",
}

// LdSoConf reads the loader's configuration file (a path inside root),
// following include lines, and returns its directories.
func LdSoConf(root, file string, depth int) []string {
	f, err := os.Open(filepath.Join(root, file))
	if err != nil || depth > 4 {
		return nil
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "include "); ok {
			pattern := strings.TrimSpace(rest)
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(file), pattern)
			}
			matches, _ := filepath.Glob(filepath.Join(root, pattern))
			sort.Strings(matches)
			for _, m := range matches {
				rel, _ := filepath.Rel(filepath.Join(root, "/"), m)
				dirs = append(dirs, LdSoConf(root, "/"+rel, depth+1)...)
			}
			continue
		}
		if line != "" && filepath.IsAbs(line) {
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// find returns the first file called name in dirs (paths inside root)
// that is an ELF library of the manifest's machine and class, as the
// loader would pick it; "" when there is none.
func find(name string, dirs []string, root string, m *Manifest) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		f, err := elf.Open(filepath.Join(root, p))
		if err != nil {
			continue
		}
		ok := (m.Machine == "" || f.Machine.String() == m.Machine) && (m.Class == "" || f.Class.String() == m.Class)
		f.Close()
		if ok {
			return p
		}
	}
	return ""
}

// lacking lists the versions in want that the library at path does not
// define.
func lacking(path string, want []string) []string {
	f, err := elf.Open(path)
	if err != nil {
		return want
	}
	defer f.Close()
	defs, _ := f.DynamicVersions()
	have := map[string]bool{}
	for _, d := range defs {
		have[d.Name] = true
	}
	var out []string
	for _, v := range want {
		if !have[v] {
			out = append(out, v)
		}
	}
	return out
}

// newestDefined is the highest version with prefix (GLIBC_) that the
// library at path defines, without the prefix.
func newestDefined(path, prefix string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	defs, _ := f.DynamicVersions()
	best := ""
	for _, d := range defs {
		if v, ok := strings.CutPrefix(d.Name, prefix); ok && newer(v, best) {
			best = v
		}
	}
	return best
}

// Used is what a checkpoint records of one runtime library: where the job
// and DMTCP got it on the machine that wrote the checkpoint. The shim
// keeps the list in the checkpoint's manifest and gives it to Compare on
// restart.
type Used struct {
	Name   string `json:"name"`
	From   string `json:"from"`           // "bundle" or "node"
	Path   string `json:"path,omitempty"` // the node's copy, for "node"
	SHA256 string `json:"sha256"`         // of the copy used
}

// Used lists, for the checkpoint's manifest, which copy of each library
// this node uses. root is the node's root ("" for "/").
func (p *Plan) Used(root string) []Used {
	var out []Used
	for _, c := range p.Choices {
		u := Used{Name: c.Name, From: "bundle", SHA256: c.SHA256}
		if !c.FromBundle {
			u.From, u.Path = "node", c.NodeCopy
			u.SHA256, _ = fileSum(filepath.Join(root, c.NodeCopy))
		}
		out = append(out, u)
	}
	return out
}

// Compare checks a restart on this node against what the checkpoint
// recorded. The restored processes keep in memory the libraries they had
// at the checkpoint, so a difference does not stop the restart; the notes
// say what differs, for the log (programs the job starts after the restart
// get this node's choice). The error is for a node the bundled DMTCP
// cannot run on at all (its glibc is too old), which dmtcp_restart would
// otherwise report only as a loader error.
func (p *Plan) Compare(recorded []Used, root string) (notes []string, err error) {
	if ok, why := p.GLIBCOK(); !ok {
		return nil, errors.New(why)
	}
	now := map[string]Used{}
	for _, u := range p.Used(root) {
		now[u.Name] = u
	}
	for _, was := range recorded {
		is, ok := now[was.Name]
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("%s: the checkpoint used %s, this bundle no longer carries it", was.Name, was.describe()))
		case is.SHA256 != was.SHA256 || is.From != was.From:
			notes = append(notes, fmt.Sprintf("%s: the checkpoint used %s, this node uses %s; the restored processes keep the checkpoint's copy, programs they start get this node's", was.Name, was.describe(), is.describe()))
		}
	}
	return notes, nil
}

func (u Used) describe() string {
	sum := u.SHA256
	if len(sum) > 12 {
		sum = sum[:12]
	}
	if u.From == "node" {
		return fmt.Sprintf("the node's %s (sha256 %s)", u.Path, sum)
	}
	return fmt.Sprintf("the bundle's copy (sha256 %s)", sum)
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
