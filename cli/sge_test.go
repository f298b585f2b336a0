package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateSGE = flag.Bool("update-sge", false, "rewrite testdata/gridengine/config/*.golden")

// TestSGEConfig: the checkpoint environment and the complexes for a known
// CPU (testdata/gridengine/config/cpuinfo: a Sandy Bridge Xeon, read once by a human
// against checkpoint(5) and complex(5)).
func TestSGEConfig(t *testing.T) {
	cpuinfo := filepath.Join("..", "testdata", "gridengine", "config", "cpuinfo")
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"dmtcp.ckpt", []string{"--ckpt-dir", "/nfs/dmtcp"}},
		{"dmtcp_cpu.ckpt", []string{"--ckpt-dir", "/nfs/dmtcp", "--cpu-flags", "--util-dir", "/usr/share/gridengine/util", "--when", "xsrm"}},
		{"complexes", []string{"--cpu-flags", "--complexes"}},
		{"host-values", []string{"--cpu-flags", "--host-values"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"sge", "config", "--cpuinfo", cpuinfo}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			path := filepath.Join("..", "testdata", "gridengine", "config", c.golden+".golden")
			if *updateSGE {
				os.WriteFile(path, []byte(out), 0o644)
			}
			if want := readFile(t, path); out != want {
				t.Errorf("stdout:\n%s\nwant (%s):\n%s", out, path, want)
			}
			if strings.HasSuffix(c.golden, ".ckpt") && !strings.Contains(errOut, "qconf -Ackpt") {
				t.Errorf("stderr does not say what to do next:\n%s", errOut)
			}
		})
	}
}

func TestSGEConfigErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--ckpt-dir is required"},
		{[]string{"--ckpt-dir", "nfs/dmtcp"}, "must be absolute"},
		{[]string{"--ckpt-dir", "/nfs/my ckpt"}, "space"},
		{[]string{"--ckpt-dir", "/nfs", "--when", "xq"}, `--when "xq"`},
		{[]string{"--complexes"}, "go with --cpu-flags"},
		{[]string{"--cpu-flags", "--complexes", "--cpuinfo", "/nonexistent"}, "read the CPU's flags"},
	} {
		code, _, errOut := run(t, "", append([]string{"sge", "config"}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want an error with %q", c.args, code, errOut, c.want)
		}
	}
}

func TestSGEInstall(t *testing.T) {
	dir := t.TempDir()
	shim := filepath.Join(dir, "shim_dmtcp")
	os.WriteFile(shim, []byte("#!/bin/sh\n"), 0o755)
	util := filepath.Join(dir, "util")
	for i := 0; i < 2; i++ { // twice: the second run changes nothing
		if code, _, errOut := run(t, "", "sge", "install", "--dir", util, "--shim", shim); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	for _, name := range []string{"dmtcp_starter", "dmtcp_checkpoint", "dmtcp_migrate", "dmtcp_migrate_cpu", "dmtcp_cleanup"} {
		if target, err := os.Readlink(filepath.Join(util, name)); err != nil || target != shim {
			t.Errorf("%s -> %q (%v), want %s", name, target, err, shim)
		}
	}
	// A link to an older shim is replaced (by renaming a new link over it),
	// and nothing is left beside it.
	os.Remove(filepath.Join(util, "dmtcp_migrate"))
	os.Symlink("/old/shim_dmtcp", filepath.Join(util, "dmtcp_migrate"))
	if code, _, errOut := run(t, "", "sge", "install", "--dir", util, "--shim", shim); code != 0 {
		t.Fatalf("over an old link: exit %d: %s", code, errOut)
	}
	if target, _ := os.Readlink(filepath.Join(util, "dmtcp_migrate")); target != shim {
		t.Errorf("dmtcp_migrate -> %q after install, want %s", target, shim)
	}
	if left, _ := filepath.Glob(filepath.Join(util, "*.new-*")); len(left) != 0 {
		t.Errorf("install left %v behind", left)
	}
	os.Remove(filepath.Join(util, "dmtcp_cleanup"))
	os.WriteFile(filepath.Join(util, "dmtcp_cleanup"), []byte("#!/bin/sh\n# the 2012 script\n"), 0o755)
	if code, _, errOut := run(t, "", "sge", "install", "--dir", util, "--shim", shim); code == 0 || !strings.Contains(errOut, "not a symlink") {
		t.Errorf("over a real file: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "sge", "install", "--dir", util, "--shim", filepath.Join(dir, "nope")); code == 0 || !strings.Contains(errOut, "not an executable") {
		t.Errorf("missing shim: exit %d, %q", code, errOut)
	}
}

func TestSGESweep(t *testing.T) {
	if code, _, errOut := run(t, "", "sge", "sweep"); code == 0 || !strings.Contains(errOut, "give --ckpt-dir") {
		t.Errorf("no --ckpt-dir: exit %d, %q", code, errOut)
	}
	ckpt := t.TempDir()
	if code, _, errOut := run(t, "", "sge", "sweep", "--ckpt-dir", ckpt, "--older-than", "-1h"); code == 0 || !strings.Contains(errOut, "--older-than") {
		t.Errorf("negative --older-than: exit %d, %q", code, errOut)
	}
	// Without qstat only what a first run moved aside goes, and the
	// command says why it stopped there.
	t.Setenv("PATH", t.TempDir())
	os.MkdirAll(filepath.Join(ckpt, "7.1.stale-20261101T101010", "ckpt"), 0o700)
	os.MkdirAll(filepath.Join(ckpt, "8.1", "ckpt"), 0o700)
	code, out, errOut := run(t, "", "sge", "sweep", "--ckpt-dir", ckpt, "--older-than", "0s")
	if code == 0 || !strings.Contains(errOut, "qstat not found") || !strings.Contains(errOut, "kept "+filepath.Join(ckpt, "8.1")) {
		t.Errorf("without qstat: exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "removed "+filepath.Join(ckpt, "7.1.stale-20261101T101010")) {
		t.Errorf("without qstat: stdout %q, want the moved-aside directory removed", out)
	}
	// What changed within --older-than stays, and the command names the
	// flag the library's reason is about.
	if _, _, errOut := run(t, "", "sge", "sweep", "--ckpt-dir", ckpt); !strings.Contains(errOut, "kept "+filepath.Join(ckpt, "8.1")+": changed ") || !strings.Contains(errOut, "less than the minimum age 24h0m0s (--older-than)") {
		t.Errorf("a recent directory: stderr %q, want it kept naming --older-than", errOut)
	}
}
