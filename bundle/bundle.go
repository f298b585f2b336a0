package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	dmtcpcondor "github.com/dmtcp-condor/dmtcp-condor"
	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

//go:embed README.tmpl example/job.yaml.tmpl example/count.sh
var assets embed.FS

// DefaultNameTemplate is the tarball name release engineers have used
// since the first releases (seed 000). A bundle of x86_64 binaries may
// prefer "dmtcp_condor_integration-{{.Version}}-{{.Arch}}-Linux.tar.{{.Ext}}".
const DefaultNameTemplate = "dmtcp_condor_integration-{{.Version}}-Any-Any.tar.{{.Ext}}"

// TopDir is the directory every entry of a bundle lives under; job
// descriptions name it in dmtcp.bundle.
func TopDir(version string) string { return "dmtcp_condor_integration-" + version }

// Options are the inputs of Build. The same Options give the same bytes.
type Options struct {
	Version      string         // the release, "1.2.0"
	Install      *dmtcp.Install // a complete DMTCP install (Locate), its Version learnt
	Shim         string         // a static shim_dmtcp for the same architecture (ResolveShim)
	OutDir       string         // where the tarball goes; "" is the current directory
	NameTemplate string         // file name (text/template over NameData); "" is DefaultNameTemplate
	Compression  string         // one of Compressions; "" is gz
	MTime        time.Time      // every entry's mtime (SourceDate); must be set
	// LibPath are extra directories to resolve DMTCP's shared libraries
	// in, before the system's (the caller's $LD_LIBRARY_PATH: EasyBuild
	// modules rely on it).
	LibPath []string
	// Progress reports each step; nil is silent.
	Progress func(format string, args ...any)
}

// NameData is what NameTemplate sees.
type NameData struct {
	Version      string // the release
	DMTCPVersion string // "4.2.0", or "unknown"
	Arch         string // the binaries' architecture as uname -m says it: x86_64, aarch64
	GOARCH       string // the same in Go's words: amd64, arm64
	OS           string // "Linux"
	Ext          string // the compression: gz, zst or xz
}

// Result describes a written bundle.
type Result struct {
	Path    string   `json:"path"`
	Size    int64    `json:"size"`
	SHA256  string   `json:"sha256"`
	TopDir  string   `json:"top_dir"`
	Entries []string `json:"entries"` // every name in the tarball, in order
	// SharedLibs are the libraries copied into lib/ with what needs them.
	SharedLibs []SharedLib `json:"shared_libs,omitempty"`
	// Unresolved are libraries DMTCP needs that were not found here: the
	// bundle runs only where the execute node has them.
	Unresolved []string `json:"unresolved,omitempty"`
	// Licenses are the licence texts in the bundle and what each covers;
	// LicenseMissing the copied libraries whose licence was not found.
	Licenses       []License `json:"licenses"`
	LicenseMissing []string  `json:"license_missing,omitempty"`
	// Verified says how the bundle was checked after it was written.
	Verified string `json:"verified"`
}

// entry is one file or directory of the tarball.
type entry struct {
	name string // below TopDir, slash-separated; directories end in "/"
	src  string // file on disk, or "" with data
	data []byte
	exec bool
	sum  string // sha256, hex
	size int64
}

// Build writes the bundle and then verifies it (see Verify). It refuses an
// incomplete DMTCP install, a shim that is not static or not for DMTCP's
// architecture, and a name that is not a plain file name.
func Build(ctx context.Context, o Options) (*Result, error) {
	say := o.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	if err := CheckVersion(o.Version); err != nil {
		return nil, err
	}
	if o.MTime.IsZero() {
		return nil, errors.New("bundle: no timestamp for the entries; set SOURCE_DATE_EPOCH or build inside the project's git checkout")
	}
	in := o.Install
	if in == nil || len(in.Missing) > 0 {
		missing := "no install given"
		if in != nil {
			missing = in.Prefix + " has no " + strings.Join(in.Missing, ", ")
		}
		return nil, badInput("Install", fmt.Errorf("DMTCP is incomplete (%s); give a complete install (dmtcp-condor locate shows what it finds)", missing))
	}
	target, err := targetArch(in)
	if err != nil {
		return nil, err
	}
	if err := checkShim(o.Shim, target); err != nil {
		return nil, err
	}
	name, err := fileName(o, target)
	if err != nil {
		return nil, err
	}

	say("collecting DMTCP %s (%d programs, %d libraries)", orUnknown(in.Version), len(in.Programs), len(in.Libraries))
	files, err := dmtcpEntries(in)
	if err != nil {
		return nil, err
	}
	files = append(files, &entry{name: "bin/shim_dmtcp", src: o.Shim, exec: true})

	say("resolving shared libraries of DMTCP's programs")
	var elfs []string
	for _, e := range files {
		if e.src != "" && e.name != "bin/shim_dmtcp" {
			elfs = append(elfs, e.src)
		}
	}
	libs, unresolved := resolveSharedLibs(elfs, searchDirs(in, o.LibPath))
	copies := map[string]string{}
	for _, l := range libs {
		// Each library alone in its own directory, so that a node puts on
		// its loader path only those it lacks (see package runtimelib).
		files = append(files, &entry{name: runtimelib.Dir + "/" + l.Name + "/" + l.Name, src: l.Path})
		elfs = append(elfs, l.Path)
		copies[l.Name] = l.Path
		by := l.NeededBy
		if len(by) > 3 {
			by = append(by[:3:3], fmt.Sprintf("%d more", len(l.NeededBy)-3))
		}
		say("  lib/%s from %s (needed by %s)", l.Name, l.Path, strings.Join(by, ", "))
	}
	for _, u := range unresolved {
		say("  warning: %s not found here; the bundle runs only where the execute node has it", u)
	}

	glibc := ""
	if len(libs) > 0 {
		m, err := runtimelib.Describe(elfs, copies, func(p string) (string, error) { sum, _, err := sumFile(p); return sum, err })
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return nil, err
		}
		files = append(files, &entry{name: runtimelib.Dir + "/" + runtimelib.ManifestFile, data: append(data, '\n')})
		if glibc = m.GLIBC; glibc != "" {
			say("  DMTCP and these libraries need glibc %s or newer on the execute nodes", m.GLIBC)
		}
	}

	hasCOPYING := false
	for _, e := range files {
		hasCOPYING = hasCOPYING || e.name == "doc/dmtcp/COPYING"
	}
	licEntries, lics, licMissing := runtimeLicenses(ctx, libs, hasCOPYING)
	for _, m := range licMissing {
		say("  warning: no licence of %s found in this machine's package documentation; add it to the bundle before you distribute it", m)
	}
	files = append(files, licEntries...)
	files = append(files, &entry{name: "LICENSE", data: dmtcpcondor.License})
	lics = append([]License{{Name: "LICENSE", Covers: []string{"dmtcp-condor: shim_dmtcp, job.yaml, job.sub, examples/"}}}, lics...)
	if hasCOPYING {
		lics = append(lics, License{Name: "doc/dmtcp/COPYING", Covers: []string{"DMTCP: bin/dmtcp_*, bin/mtcp_restart, lib/dmtcp/"}})
	}
	sort.Slice(lics, func(i, j int) bool { return lics[i].Name < lics[j].Name })

	generated, err := generatedEntries(o, files, libs, glibc, lics)
	if err != nil {
		return nil, err
	}
	files = append(files, generated...)
	for _, e := range files {
		if err := e.hash(); err != nil {
			return nil, err
		}
	}
	files = append(files, sumsEntry(files))
	entries := withDirs(files)

	outDir := o.OutDir
	if outDir == "" {
		outDir = "."
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory %s: %w", outDir, err)
	}
	out, err := OutputPath(outDir, name)
	if err != nil {
		return nil, err
	}
	say("writing %s (%d entries)", out, len(entries))
	res := &Result{Path: out, TopDir: TopDir(o.Version), SharedLibs: libs, Unresolved: unresolved, Licenses: lics, LicenseMissing: licMissing}
	if err := WriteFileAtomic(out, func(w io.Writer) error {
		return writeTar(ctx, w, o.Compression, TopDir(o.Version), entries, o.MTime)
	}); err != nil {
		return nil, err
	}
	for _, e := range entries {
		res.Entries = append(res.Entries, TopDir(o.Version)+"/"+e.name)
	}
	if res.SHA256, res.Size, err = sumFile(out); err != nil {
		return nil, err
	}

	say("verifying: extracting and running bin/%s --version and bin/shim_dmtcp --version", filepath.Base(in.Launch))
	res.Verified, err = Verify(ctx, out, VerifyOptions{Version: o.Version, DMTCPVersion: in.Version, Launch: filepath.Base(in.Launch), GOARCH: target.goarch})
	if err != nil {
		return res, fmt.Errorf("bundle %s was written but does not work: %w", out, err)
	}
	return res, nil
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// fileName renders the name template and insists on a plain file name;
// its error is an *InputError for "NameTemplate" or "Compression".
func fileName(o Options, target arch) (string, error) {
	tmplText := o.NameTemplate
	if tmplText == "" {
		tmplText = DefaultNameTemplate
	}
	t, err := template.New("name").Option("missingkey=error").Parse(tmplText)
	if err != nil {
		return "", badInput("NameTemplate", fmt.Errorf("name template %q: %w", tmplText, err))
	}
	var b strings.Builder
	ext := o.Compression
	if ext == "" {
		ext = "gz"
	}
	if _, err := compression(ext); err != nil {
		return "", err
	}
	data := NameData{Version: o.Version, DMTCPVersion: orUnknown(o.Install.Version), Arch: target.uname, GOARCH: target.goarch, OS: "Linux", Ext: ext}
	if err := t.Execute(&b, data); err != nil {
		return "", badInput("NameTemplate", fmt.Errorf("name template %q: %w (fields: .Version .DMTCPVersion .Arch .GOARCH .OS .Ext)", tmplText, err))
	}
	name := b.String()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00\n") {
		return "", badInput("NameTemplate", fmt.Errorf("name template %q gives %q, which is not a file name; the template names only the file, not its directory", tmplText, name))
	}
	if !strings.HasSuffix(name, ".tar."+ext) {
		return "", badInput("NameTemplate", fmt.Errorf("name template %q gives %q, which does not end in .tar.%s as compression %s writes; end it with .tar.{{.Ext}}", tmplText, name, ext, ext))
	}
	return name, nil
}

// dmtcpEntries lays DMTCP out the way it resolves itself: its programs in
// bin/ (mtcp_restart stays under lib/dmtcp/ where the install kept it
// there), its libraries and plugins in lib/dmtcp/ whatever the install
// called that directory (lib64/dmtcp on Fedora), and its license.
func dmtcpEntries(in *dmtcp.Install) ([]*entry, error) {
	var out []*entry
	binDir := filepath.Dir(in.Launch)
	for _, p := range in.Programs {
		dir := "bin/"
		if filepath.Dir(p) != binDir {
			dir = "lib/dmtcp/"
		}
		out = append(out, &entry{name: dir + filepath.Base(p), src: p, exec: true})
	}
	for _, p := range in.Libraries {
		out = append(out, &entry{name: "lib/dmtcp/" + filepath.Base(p), src: p})
	}
	if lic := dmtcpLicense(in.Prefix); lic != "" {
		out = append(out, &entry{name: "doc/dmtcp/COPYING", src: lic})
	}
	seen := map[string]bool{}
	for _, e := range out {
		real, err := insidePrefix(in.Prefix, e.src)
		if err != nil {
			return nil, err
		}
		e.src = real // read what was checked, not the link again
		if seen[e.name] {
			return nil, fmt.Errorf("bundle: DMTCP at %s has two files named %s", in.Prefix, e.name)
		}
		seen[e.name] = true
	}
	return out, nil
}

// insidePrefix resolves every symbolic link in p, a file of the DMTCP
// install at prefix, and refuses one that leads out of the prefix: a
// link to /etc/shadow would otherwise put that file into a tarball that
// anyone may download. The bundle copies files from outside the prefix
// only as shared libraries the loader search found (resolveSharedLibs).
func insidePrefix(prefix, p string) (string, error) {
	root, err := filepath.EvalSymlinks(prefix)
	if err != nil {
		return "", fmt.Errorf("bundle: resolve the DMTCP prefix %s: %w", prefix, err)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("bundle: %s: %w", p, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("bundle: %s is a symbolic link to %s, outside the DMTCP install %s; a bundle copies only DMTCP's own files: replace the link with the file it should be, or remove it", p, real, prefix)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("bundle: %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("bundle: %s is not a regular file (%v); a bundle holds only files", p, st.Mode().Type())
	}
	return real, nil
}

// dmtcpLicense finds DMTCP's license text, which must travel with its
// binaries (LGPL).
func dmtcpLicense(prefix string) string {
	for _, pattern := range []string{
		filepath.Join(prefix, "share", "doc", "dmtcp-*", "COPYING"),
		filepath.Join(prefix, "share", "doc", "dmtcp", "COPYING"),
		filepath.Join(prefix, "share", "doc", "dmtcp", "copyright"),
	} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

// generatedEntries are the files the bundle adds: the example job, its
// submit file rendered by submitgen for this bundle, README and VERSION.
func generatedEntries(o Options, files []*entry, libs []SharedLib, glibc string, lics []License) ([]*entry, error) {
	in := o.Install
	data := map[string]any{
		"Version":      o.Version,
		"DMTCPVersion": orUnknown(in.Version),
		"DMTCPMajor":   orUnknown(strings.SplitN(in.Version, ".", 2)[0]),
		"Rule":         strings.Repeat("=", len("dmtcp_condor_integration "+o.Version)),
		"GLIBC":        glibc,
		"Licenses":     licenseLines(lics),
	}
	var progs, dmtcpLibs, shared []string
	for _, e := range files {
		switch dir, base := path.Split(e.name); {
		case dir == "bin/" && base != "shim_dmtcp", dir == "lib/dmtcp/" && e.exec:
			progs = append(progs, base)
		case dir == "lib/dmtcp/":
			dmtcpLibs = append(dmtcpLibs, base)
		}
	}
	for _, l := range libs {
		shared = append(shared, l.Name)
	}
	sort.Strings(progs)
	data["Programs"] = progs
	data["Libraries"] = dmtcpLibs
	data["SharedLibs"] = shared

	readme, err := execAsset("README.tmpl", data)
	if err != nil {
		return nil, err
	}
	jobYAML, err := execAsset("example/job.yaml.tmpl", data)
	if err != nil {
		return nil, err
	}
	job, err := submitgen.Decode("job.yaml", jobYAML)
	if err != nil {
		return nil, fmt.Errorf("bundle: the example job description does not decode: %w", err)
	}
	r, err := submitgen.NewRenderer("")
	if err != nil {
		return nil, err
	}
	var sub bytes.Buffer
	if err := r.Render(&sub, job); err != nil {
		return nil, fmt.Errorf("bundle: render the example job.sub: %w", err)
	}
	count, err := assets.ReadFile("example/count.sh")
	if err != nil {
		return nil, err
	}
	return []*entry{
		{name: "README", data: readme},
		{name: "VERSION", data: []byte(o.Version + "\n")},
		{name: "job.yaml", data: jobYAML},
		{name: "job.sub", data: sub.Bytes()},
		{name: "examples/count.sh", data: count, exec: true},
	}, nil
}

// licenseLines lays out the licences for README: each file, then what
// it covers, indented below it.
func licenseLines(lics []License) string {
	var b strings.Builder
	for _, l := range lics {
		fmt.Fprintf(&b, "  %s\n", l.Name)
		fmt.Fprintf(&b, "      %s\n", strings.Join(l.Covers, ", "))
	}
	return strings.TrimRight(b.String(), "\n")
}

func execAsset(name string, data any) ([]byte, error) {
	t, err := template.New(path.Base(name)).Option("missingkey=error").Funcs(template.FuncMap{"wrap": wrap}).ParseFS(assets, name)
	if err != nil {
		return nil, fmt.Errorf("bundle: parse %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("bundle: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// wrap lays out names as an indented paragraph for README, 76 columns wide.
func wrap(names []string) string {
	const indent, width = "                        ", 76
	var lines []string
	line := indent
	for _, n := range names {
		if len(line) > len(indent) && len(line)+1+len(n) > width {
			lines = append(lines, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += n
	}
	return strings.Join(append(lines, line), "\n")
}

// hash reads the entry once to learn its checksum and size (and whether a
// file given as a program really is one).
func (e *entry) hash() error {
	h := sha256.New()
	if e.src == "" {
		h.Write(e.data)
		e.size = int64(len(e.data))
	} else {
		f, err := os.Open(e.src)
		if err != nil {
			return fmt.Errorf("bundle: read %s for %s: %w", e.src, e.name, err)
		}
		defer f.Close()
		if e.size, err = io.Copy(h, f); err != nil {
			return fmt.Errorf("bundle: read %s for %s: %w", e.src, e.name, err)
		}
	}
	e.sum = hex.EncodeToString(h.Sum(nil))
	return nil
}

// sumsEntry is SHA256SUMS: every file of the bundle, in sha256sum -c
// format, relative to the top directory.
func sumsEntry(files []*entry) *entry {
	sorted := append([]*entry(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var b strings.Builder
	for _, e := range sorted {
		fmt.Fprintf(&b, "%s  %s\n", e.sum, e.name)
	}
	e := &entry{name: "SHA256SUMS", data: []byte(b.String())}
	_ = e.hash()
	return e
}

// withDirs adds every parent directory as its own entry and sorts
// everything by name, so parents come before their contents.
func withDirs(files []*entry) []*entry {
	dirs := map[string]bool{}
	out := append([]*entry(nil), files...)
	for _, e := range files {
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				out = append(out, &entry{name: d + "/"})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// WriteFileAtomic writes path (mode 0644) through a temporary file in the
// same directory, so an interrupted run never leaves half a tarball or
// package under the final name.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func sumFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
