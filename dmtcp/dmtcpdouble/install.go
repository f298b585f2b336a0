package dmtcpdouble

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dmtcp-condor/dmtcp-condor/internal/fsutil"
)

// Commands are the names of DMTCP's commands the double answers to.
var Commands = []string{"dmtcp_launch", "dmtcp_coordinator", "dmtcp_command", "dmtcp_restart", "mtcp_restart"}

// Build builds the double with the go command, from this module's source
// (a test, or the demo run in a checkout), and installs it in prefix.
func Build(prefix string) error {
	bin := filepath.Join(prefix, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	first := filepath.Join(bin, Commands[0])
	cmd := exec.Command("go", "build", "-o", first, "github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcpdouble/cmd/dmtcp-double")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the DMTCP test double: %v\n%s", err, out)
	}
	return Install(prefix, first)
}

// Install makes prefix a DMTCP install of the double built as exe: the
// program in prefix/bin under each of Commands (hard links, so each is a
// real file, as DMTCP resolves itself by its real path) and an empty
// lib/dmtcp/libdmtcp.so beside it, where DMTCP keeps its library.
func Install(prefix, exe string) error {
	bin := filepath.Join(prefix, "bin")
	lib := filepath.Join(prefix, "lib", "dmtcp")
	for _, d := range []string{bin, lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	first := filepath.Join(bin, Commands[0])
	if exe != first {
		os.Remove(first)
		if err := fsutil.CopyFile(exe, first); err != nil {
			return err
		}
		if err := os.Chmod(first, 0o755); err != nil {
			return err
		}
	}
	for _, name := range Commands[1:] {
		p := filepath.Join(bin, name)
		os.Remove(p)
		if err := os.Link(first, p); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(lib, "libdmtcp.so"), nil, 0o644)
}

// installMain is "dmtcp-double install PREFIX": the double installs
// itself, as CI does with go run.
func installMain(prefix string) int {
	exe, err := os.Executable()
	if err == nil {
		err = Install(prefix, exe)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp test double: install in %s: %v\n", prefix, err)
		return 1
	}
	return 0
}
