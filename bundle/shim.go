package bundle

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
)

// ShimPackage is the shim's main package, built when no shim_dmtcp for the
// target is at hand.
const ShimPackage = "github.com/dmtcp-condor/dmtcp-condor/cmd/shim_dmtcp"

// VersionVar is the variable a release stamps the shim's version into.
const VersionVar = "github.com/dmtcp-condor/dmtcp-condor/shim.Version"

// Program is one of the two release binaries: what it is called, where
// its source is, and how it says its version.
type Program struct {
	Name       string // shim_dmtcp
	Input      string // the field that gives a ready binary: "Shim" (see InputError)
	Package    string // its main package
	VersionVar string // the variable -X stamps the version into
	// VersionFormat is what "NAME --version" prints, with %s the version.
	VersionFormat string
}

var (
	// Shim is shim_dmtcp.
	Shim = Program{Name: "shim_dmtcp", Input: "Shim", Package: ShimPackage, VersionVar: VersionVar, VersionFormat: "shim_dmtcp %s"}
	// CLI is the dmtcp-condor tool.
	CLI = Program{Name: "dmtcp-condor", Input: "CLI", Package: "github.com/dmtcp-condor/dmtcp-condor/cmd/dmtcp-condor",
		VersionVar: "main.version", VersionFormat: "dmtcp-condor version %s"}
)

// Build builds a release binary of p from the source tree at dir ("" is
// the current directory) for goarch into out: static (CGO_ENABLED=0),
// stripped (-s -w), reproducible (-trimpath, no build ID, no VCS stamp)
// and stamped with version.
func (p Program) Build(ctx context.Context, dir, out, goarch, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X "+p.VersionVar+"="+version, "-o", out, p.Package)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", p.Package, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// CheckRelease says whether the binary at path is a release build of p
// for goarch and version: an ELF program for goarch, static, stripped,
// built with -trimpath and CGO off, and saying version. It runs
// "path --version" where it can run here; for another architecture it
// can only insist that the version string is in the binary. It returns
// what it checked; its error is an *InputError for p.Input.
func (p Program) CheckRelease(ctx context.Context, path, goarch, version string) (string, error) {
	checked, err := p.checkRelease(ctx, path, goarch, version)
	if err != nil {
		return "", badInput(p.Input, err)
	}
	return checked, nil
}

func (p Program) checkRelease(ctx context.Context, path, goarch, version string) (string, error) {
	rebuild := fmt.Sprintf("build it with CGO_ENABLED=0 GOARCH=%s go build -trimpath -ldflags \"-s -w -X %s=%s\" ./cmd/%s, or give none to build it from the source tree",
		goarch, p.VersionVar, version, p.Name)
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: not an ELF program (%v); %s", p.Name, path, err, rebuild)
	}
	static, why := isStatic(f)
	stripped := f.Section(".symtab") == nil
	f.Close()
	a, err := ArchOf(path)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s: %w", p.Name, err)
	case a != goarch:
		return "", fmt.Errorf("%s %s is for %s, not %s; %s", p.Name, path, a, goarch, rebuild)
	case !static:
		return "", fmt.Errorf("%s %s is not static (%s): a development build; %s", p.Name, path, why, rebuild)
	case !stripped:
		return "", fmt.Errorf("%s %s is not stripped (it has a symbol table): a development build; %s", p.Name, path, rebuild)
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: no Go build information (%v); %s", p.Name, path, err, rebuild)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["-trimpath"] != "true" || settings["CGO_ENABLED"] != "0" {
		return "", fmt.Errorf("%s %s was built without -trimpath or with cgo (-trimpath=%q CGO_ENABLED=%q); %s", p.Name, path, settings["-trimpath"], settings["CGO_ENABLED"], rebuild)
	}
	want := fmt.Sprintf(p.VersionFormat, version)
	if goarch == runtime.GOARCH {
		out, err := exec.CommandContext(ctx, path, "--version").Output()
		got := strings.TrimSpace(string(out))
		if err != nil || got != want {
			return "", fmt.Errorf("%s %s --version says %q, not %q (%v); %s", p.Name, path, got, want, err, rebuild)
		}
		return fmt.Sprintf("%s: static, stripped, -trimpath, --version says %s", p.Name, version), nil
	}
	// -trimpath keeps -ldflags out of the build information, so the
	// stamp is looked for as a string.
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(data, []byte(version)) {
		return "", fmt.Errorf("%s %s does not hold the version %s; %s", p.Name, path, version, rebuild)
	}
	return fmt.Sprintf("%s: static, stripped, -trimpath, holds %s (not run: %s)", p.Name, version, goarch), nil
}

// Source says where a release binary may come from.
type Source struct {
	Path string // given by the user: used only if it is a release build
	// Candidates are ready binaries tried next: a release keeps shim_dmtcp
	// beside dmtcp-condor, a package where ShimCandidates says, and the
	// running dmtcp-condor may itself be a release build.
	Candidates []string
	GOARCH     string // the architecture the binary must be for
	Version    string // the release
	Dir        string // a source checkout to build in; "" is the current directory
}

// ShimCandidates are where a release or a package puts shim_dmtcp,
// relative to the running dmtcp-condor at self: beside it in a release; in
// a package, with the tool in /usr/bin, at submitgen.InstalledShim
// (TestPackagedToolFindsItsShim in packaging ties the two).
func ShimCandidates(self string) []string {
	if self == "" {
		return nil
	}
	dir := filepath.Dir(self)
	return []string{filepath.Join(dir, "shim_dmtcp"), filepath.Join(dir, "..", strings.TrimPrefix(submitgen.InstalledShim, "/usr/"))}
}

// Resolve returns a release build of p for s.GOARCH and s.Version, never a
// development build: s.Path when given and a release build (else an
// error); else the first of s.Candidates that is one; else one built from
// the source tree (which works inside the project's checkout). how says
// which and what was checked; cleanup removes a built binary.
func (p Program) Resolve(ctx context.Context, s Source) (path, how string, cleanup func(), err error) {
	nothing := func() {}
	if s.Path != "" {
		checked, err := p.CheckRelease(ctx, s.Path, s.GOARCH, s.Version)
		if err != nil {
			return "", "", nothing, err
		}
		return s.Path, s.Path + " (" + checked + ")", nothing, nil
	}
	for _, c := range s.Candidates {
		if checked, err := p.CheckRelease(ctx, c, s.GOARCH, s.Version); err == nil {
			return c, c + " (" + checked + ")", nothing, nil
		}
	}
	tmp, err := os.MkdirTemp("", "dmtcp-condor-build-")
	if err != nil {
		return "", "", nothing, fmt.Errorf("build %s: %w", p.Name, err)
	}
	cleanup = func() { os.RemoveAll(tmp) }
	out := filepath.Join(tmp, p.Name)
	if err := p.Build(ctx, s.Dir, out, s.GOARCH, s.Version); err != nil {
		cleanup()
		return "", "", nothing, badInput(p.Input, fmt.Errorf("no release build of %s %s for %s at hand, and building one failed; give one (static and stripped) or run inside the dmtcp-condor source tree: %w",
			p.Name, s.Version, s.GOARCH, err))
	}
	checked, err := p.checkRelease(ctx, out, s.GOARCH, s.Version)
	if err != nil {
		cleanup()
		return "", "", nothing, fmt.Errorf("the %s built from source is not a release build: %w", p.Name, err)
	}
	return out, "built from source for " + s.GOARCH + " (" + checked + ")", cleanup, nil
}

// BuildShim builds a release shim_dmtcp (see Program.Build).
func BuildShim(ctx context.Context, dir, out, goarch, version string) error {
	return Shim.Build(ctx, dir, out, goarch, version)
}
