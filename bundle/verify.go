package bundle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
)

// VerifyOptions say what a bundle should contain.
type VerifyOptions struct {
	Version      string // the bundle's version, as shim_dmtcp --version should say it
	DMTCPVersion string // as dmtcp_launch --version should say it; "" to accept any
	Launch       string // the launch command's name: dmtcp_launch, or dmtcp_checkpoint for DMTCP 1.x
	GOARCH       string // the bundle's architecture; "" for a bundle without ELF programs
}

// Verify extracts a bundle into a temporary directory, checks every file
// against SHA256SUMS, and runs the bundled launch command and shim with
// --version from there, with the loader path this machine needs (package
// runtimelib) and again with every bundled library. A bundle for another
// architecture is checked without running anything. It returns what was
// checked, with a warning when the shim reports another version than the
// bundle's.
func Verify(ctx context.Context, tarball string, o VerifyOptions) (string, error) {
	tmp, err := os.MkdirTemp("", "dmtcp-condor-verify-")
	if err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	defer os.RemoveAll(tmp)
	top, err := extract(ctx, tarball, tmp)
	if err != nil {
		return "", fmt.Errorf("verify: extract: %w", err)
	}
	did, err := verifyDir(ctx, top, o)
	return strings.Join(append([]string{"extracted"}, did...), "; "), err
}

// verifyDir checks an extracted bundle at top: SHA256SUMS, then the
// self-test where it can run.
func verifyDir(ctx context.Context, top string, o VerifyOptions) ([]string, error) {
	n, err := checkSums(top)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	did := []string{fmt.Sprintf("%d files match SHA256SUMS", n)}
	if o.GOARCH != "" && o.GOARCH != runtime.GOARCH {
		return append(did, fmt.Sprintf("not run: built for %s, this machine is %s", o.GOARCH, runtime.GOARCH)), nil
	}
	launch := o.Launch
	if launch == "" {
		launch = "dmtcp_launch"
	}
	// Once as this machine needs, and, when the bundle carries libraries,
	// once with all of them as a node with only glibc would: that proves
	// the copies themselves load.
	for _, all := range []bool{false, true} {
		plan, err := runtimelib.Select(top, runtimelib.Node{LDLibraryPath: os.Getenv("LD_LIBRARY_PATH"), All: all})
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		if all && (plan == nil || len(plan.Choices) == 0) {
			break
		}
		env := os.Environ()
		how := ""
		if plan != nil {
			env = append(env, "LD_LIBRARY_PATH="+plan.LDLibraryPath(os.Getenv("LD_LIBRARY_PATH")))
			if all {
				how = " with every bundled library"
			}
		}
		out, err := runVersion(ctx, top, filepath.Join(top, "bin", launch), env)
		if err != nil {
			return nil, fmt.Errorf("verify%s: %w", how, err)
		}
		if !strings.Contains(out, "DMTCP") || (o.DMTCPVersion != "" && !strings.Contains(out, o.DMTCPVersion)) {
			return nil, fmt.Errorf("verify: bin/%s --version%s printed %q, not DMTCP %s", launch, how, out, orUnknown(o.DMTCPVersion))
		}
		did = append(did, fmt.Sprintf("bin/%s --version%s: %s", launch, how, out))
	}
	out, err := runVersion(ctx, top, filepath.Join(top, "bin", "shim_dmtcp"), os.Environ())
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v, ok := strings.CutPrefix(out, "shim_dmtcp ")
	if !ok {
		return nil, fmt.Errorf("verify: bin/shim_dmtcp --version printed %q, not shim_dmtcp VERSION", out)
	}
	did = append(did, "bin/shim_dmtcp --version: "+out)
	if v != o.Version {
		did = append(did, fmt.Sprintf("warning: the shim says it is version %s, not %s (build it with -ldflags -X %s=%s)", v, o.Version, VersionVar, o.Version))
	}
	return did, nil
}

// Check is "dmtcp-condor bundle verify": what a site admin runs on an
// execute node before rolling a bundle out. path is the tarball or the
// extracted directory. It checks that every entry is safe (below the top
// directory, only directories and regular files: a tarball's entries as
// it extracts them, a directory's by walking it), that every file matches
// SHA256SUMS, runs the bundle's self-test here, and says what this node
// lacks of what DMTCP needs and whether the bundle supplies it. The lines
// it returns say what was checked and found; the error, what failed.
func Check(ctx context.Context, path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	top := path
	var lines []string
	if st.IsDir() {
		if err := safeTree(top); err != nil {
			return nil, err
		}
		lines = append(lines, "every entry is a directory or a regular file below "+top)
	} else {
		tmp, err := os.MkdirTemp("", "dmtcp-condor-verify-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if top, err = extract(ctx, path, tmp); err != nil {
			return nil, fmt.Errorf("%s is not a safe bundle: %w", path, err)
		}
		lines = append(lines, fmt.Sprintf("every entry is a directory or a regular file below %s/", filepath.Base(top)))
	}
	version, err := os.ReadFile(filepath.Join(top, "VERSION"))
	if err != nil {
		return lines, fmt.Errorf("%s has no VERSION: not a dmtcp_condor_integration bundle", path)
	}
	o := VerifyOptions{Version: strings.TrimSpace(string(version))}
	if a, err := ArchOf(filepath.Join(top, "bin", "shim_dmtcp")); err == nil {
		o.GOARCH = a
	}
	if _, err := os.Stat(filepath.Join(top, "bin", "dmtcp_launch")); err != nil {
		o.Launch = "dmtcp_checkpoint"
	}
	node, nodeErr := NodeReport(top, runtimelib.Node{LDLibraryPath: os.Getenv("LD_LIBRARY_PATH")})
	did, err := verifyDir(ctx, top, o)
	lines = append(lines, did...)
	lines = append(lines, node...)
	if err == nil {
		err = nodeErr
	}
	return lines, err
}

// NodeReport says, for each library the bundle carries for DMTCP, whether
// this node has a copy that serves or the bundle supplies it, and whether
// the node's C library is new enough; the error is for a node the bundle
// cannot run on.
func NodeReport(top string, n runtimelib.Node) ([]string, error) {
	plan, err := runtimelib.Select(top, n)
	if err != nil || plan == nil {
		return []string{"the bundle carries no runtime libraries for DMTCP"}, err
	}
	var lines []string
	var bad error
	if ok, why := plan.GLIBCOK(); !ok {
		lines = append(lines, "glibc: "+why)
		bad = errors.New("this node cannot run the bundled DMTCP: " + why)
	} else if plan.GLIBC != "" {
		lines = append(lines, fmt.Sprintf("glibc: this node has %s, DMTCP needs %s or newer", plan.NodeGLIBC, plan.GLIBC))
	}
	for _, c := range plan.Choices {
		switch {
		case c.NodeCopy == "":
			lines = append(lines, fmt.Sprintf("%s: this node lacks it; the bundle supplies it", c.Name))
		case len(c.Lacks) > 0:
			lines = append(lines, fmt.Sprintf("%s: this node's %s lacks %s; the bundle supplies a newer one (the job gets it too)", c.Name, c.NodeCopy, strings.Join(c.Lacks, ", ")))
		default:
			lines = append(lines, fmt.Sprintf("%s: this node's %s serves; the bundle's copy stays unused", c.Name, c.NodeCopy))
		}
	}
	return lines, bad
}

// safeTree insists that an extracted bundle holds only directories and
// regular files: a symbolic link could point anywhere on the node.
func safeTree(top string) error {
	return filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s is a %v, not a regular file: a bundle holds only directories and regular files", p, d.Type())
		}
		return nil
	})
}

// runVersion runs prog --version in dir and returns the first line of its
// output. dmtcp_command exits 1 after --version, so only a launch or shim
// that prints nothing, or dies of a signal, fails.
func runVersion(ctx context.Context, dir, prog string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, "--version")
	cmd.Dir, cmd.Env = dir, env
	raw, err := cmd.CombinedOutput()
	first, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	rel, _ := filepath.Rel(dir, prog)
	if err != nil {
		return "", fmt.Errorf("run %s --version from the extracted bundle: %w: %s", rel, err, strings.TrimSpace(string(raw)))
	}
	if first == "" {
		return "", fmt.Errorf("%s --version printed nothing", rel)
	}
	return first, nil
}

// checkSums verifies every file under top against top/SHA256SUMS and
// insists that every file is listed; it returns how many were checked.
func checkSums(top string) (int, error) {
	f, err := os.Open(filepath.Join(top, "SHA256SUMS"))
	if err != nil {
		return 0, fmt.Errorf("the bundle has no SHA256SUMS: %w", err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return 0, fmt.Errorf("SHA256SUMS: malformed line %q", sc.Text())
		}
		listed[name] = sum
	}
	n := 0
	err = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(top, p)
		rel = filepath.ToSlash(rel)
		if rel == "SHA256SUMS" {
			return nil
		}
		want, ok := listed[rel]
		if !ok {
			return fmt.Errorf("%s is not in SHA256SUMS", rel)
		}
		got, _, err := sumFile(p)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s does not match SHA256SUMS", rel)
		}
		delete(listed, rel)
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	for name := range listed {
		return 0, fmt.Errorf("SHA256SUMS lists %s, which the bundle lacks", name)
	}
	return n, nil
}
