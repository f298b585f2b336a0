package bundle

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ShimPackage is the shim's main package, built when no shim_dmtcp for the
// target is at hand.
const ShimPackage = "github.com/dmtcp-condor/dmtcp-condor/cmd/shim_dmtcp"

// VersionVar is the variable a release stamps the shim's version into.
const VersionVar = "github.com/dmtcp-condor/dmtcp-condor/shim.Version"

// ShimSource says where a shim_dmtcp may come from.
type ShimSource struct {
	Path    string // given by the user (--shim): used as it is
	Self    string // the running dmtcp-condor: a release keeps the shim beside it
	GOARCH  string // the architecture the shim must be built for
	Version string // stamped into a built shim
	Dir     string // a source checkout to build in; "" is the current directory
}

// ResolveShim returns a static shim_dmtcp for s.GOARCH: s.Path when given;
// else the one a release installs beside dmtcp-condor (the same directory,
// as in the release archives, or ../libexec/dmtcp-condor/ as in the
// packages) when it is static, for that architecture and, where it can
// run here, says it is s.Version; else one built
// from source with the go command (CGO off, trimmed, version stamped), which
// works inside the project's checkout. how says which, for progress
// output; cleanup removes a built shim.
func ResolveShim(ctx context.Context, s ShimSource) (path, how string, cleanup func(), err error) {
	nothing := func() {}
	if s.Path != "" {
		return s.Path, "--shim " + s.Path, nothing, nil
	}
	if s.Self != "" {
		dir := filepath.Dir(s.Self)
		for _, p := range []string{
			filepath.Join(dir, "shim_dmtcp"),
			filepath.Join(dir, "..", "libexec", "dmtcp-condor", "shim_dmtcp"),
		} {
			if usableShim(p, s.GOARCH) && shimVersionIs(ctx, p, s.GOARCH, s.Version) {
				return filepath.Clean(p), "installed beside dmtcp-condor", nothing, nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "dmtcp-condor-shim-")
	if err != nil {
		return "", "", nothing, fmt.Errorf("build shim_dmtcp: %w", err)
	}
	cleanup = func() { os.RemoveAll(tmp) }
	out := filepath.Join(tmp, "shim_dmtcp")
	if err := BuildShim(ctx, s.Dir, out, s.GOARCH, s.Version); err != nil {
		cleanup()
		return "", "", nothing, fmt.Errorf("no shim_dmtcp for %s beside dmtcp-condor, and building one failed; give --shim PATH (a static shim_dmtcp for %s) or run inside the dmtcp-condor source tree: %w", s.GOARCH, s.GOARCH, err)
	}
	return out, "built from source for " + s.GOARCH, cleanup, nil
}

// BuildShim builds a static, reproducible shim_dmtcp (no build ID, no
// paths of this machine, no VCS stamp) for goarch into out, with version
// stamped where --version reads it.
func BuildShim(ctx context.Context, dir, out, goarch, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X "+VersionVar+"="+version, "-o", out, ShimPackage)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", ShimPackage, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// usableShim says whether p is a static ELF program for goarch.
func usableShim(p, goarch string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	static, _ := isStatic(f)
	a, err := ArchOf(p)
	return static && err == nil && a == goarch
}

// shimVersionIs says whether the shim at p reports version, or cannot be
// asked because it is for another architecture: a shim left beside
// dmtcp-condor by another release must not end up in this one's bundle.
func shimVersionIs(ctx context.Context, p, goarch, version string) bool {
	if goarch != runtime.GOARCH {
		return true
	}
	out, err := exec.CommandContext(ctx, p, "--version").Output()
	return err == nil && strings.TrimSpace(string(out)) == "shim_dmtcp "+version
}
