package bundle

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/bundle/runtimelib"
	"github.com/dmtcp-condor/dmtcp-condor/dmtcp/dmtcptest"
)

// minimalRoot makes a root directory holding only the files of the given
// Debian packages of this machine (libc6: the C library and the loader),
// plus /proc, /tmp and /dev/null, as an execute node that has nothing
// DMTCP needs besides glibc. It skips without root (chroot) or dpkg.
func minimalRoot(t *testing.T, packages ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: a minimal root needs root (chroot, mknod); run as root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: unshare (util-linux) is not installed")
	}
	out, err := exec.Command("dpkg", append([]string{"-L"}, packages...)...).Output()
	if err != nil {
		t.Skipf("skipped: cannot list the files of %v with dpkg -L (a Debian machine is needed): %v", packages, err)
	}
	root := t.TempDir()
	// A merged-/usr machine's /lib and /lib64 are links; the root gets
	// the same links, and files go where their directory really is.
	for _, d := range []string{"bin", "sbin", "lib", "lib64"} {
		if target, err := os.Readlink("/" + d); err == nil {
			if err := os.Symlink(target, filepath.Join(root, d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		st, err := os.Lstat(f)
		if err != nil || st.IsDir() || strings.HasPrefix(f, "/usr/share/") {
			continue
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", f, filepath.Join(root, dir)+"/").CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", f, err, out)
		}
	}
	for _, d := range []string{"proc", "dev", "tmp", "job"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(root, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr", "lib", "x86_64-linux-gnu", "libstdc++.so.6")); err == nil && !contains(packages, "libstdc++6") {
		t.Fatal("the minimal root has libstdc++")
	}
	return root
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inRoot runs argv chrooted into root, in directory wd inside it, with a
// fresh /proc (DMTCP reads /proc/self) and only env.
func inRoot(root, wd string, env []string, argv ...string) *exec.Cmd {
	cmd := exec.Command("unshare", append([]string{"--mount-proc=/proc", "--root=" + root, "--wd=" + wd, "--"}, argv...)...)
	cmd.Env = env
	return cmd
}

// The bundle runs on an execute node that has only glibc: its
// dmtcp_launch --version works there with the libraries the bundle
// supplies, and, with a real DMTCP, the shim checkpoints and restarts a C
// and a C++ job there. On a node that has its own libstdc++, the C++ job
// runs with the node's copy, not the bundle's.
func TestBundleRunsInMinimalRoot(t *testing.T) {
	real, why := dmtcptest.Real()
	in := locate(t, double.Prefix)
	if real.Real {
		in = locate(t, real.Prefix)
	}
	res := build(t, Options{Install: in})

	for _, tt := range []struct {
		name     string
		packages []string
		// bundleLibs: what the node takes from the bundle.
		bundleLibs []string
	}{
		{"only glibc", []string{"libc6"}, []string{"libatomic.so.1", "libgcc_s.so.1", "libstdc++.so.6"}},
		{"glibc and the C++ runtime", []string{"libc6", "libstdc++6", "libgcc-s1"}, []string{"libatomic.so.1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := minimalRoot(t, tt.packages...)
			top, err := extract(context.Background(), res.Path, filepath.Join(root, "bundle"))
			if err != nil {
				t.Fatal(err)
			}
			inside := strings.TrimPrefix(top, root)
			plan, err := runtimelib.Select(top, runtimelib.Node{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			ldpath := ""
			if plan != nil {
				var got []string
				for _, c := range plan.Choices {
					if c.FromBundle {
						got = append(got, c.Name)
					}
				}
				if real.Real && strings.Join(got, " ") != strings.Join(tt.bundleLibs, " ") {
					t.Errorf("the node takes %v from the bundle, want %v (%s)", got, tt.bundleLibs, plan.Summary())
				}
				ldpath = strings.ReplaceAll(plan.LDLibraryPath(""), root, "")
				// What "bundle verify" would say on this node.
				report, err := NodeReport(top, runtimelib.Node{Root: root})
				text := strings.Join(report, "\n")
				if err != nil || !strings.Contains(text, "glibc: this node has ") {
					t.Errorf("node report: %v\n%s", err, text)
				}
				for _, lib := range tt.bundleLibs {
					if real.Real && !strings.Contains(text, lib+": this node lacks it; the bundle supplies it") {
						t.Errorf("the node report does not say the bundle supplies %s:\n%s", lib, text)
					}
				}
				t.Logf("bundle verify's node report:\n%s", text)
			}
			env := []string{"PATH=/usr/bin:/bin", "USER=root", "HOME=/tmp", "LD_LIBRARY_PATH=" + ldpath}
			out, err := inRoot(root, "/tmp", env, inside+"/bin/dmtcp_launch", "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "DMTCP") {
				t.Fatalf("bundled dmtcp_launch --version in the minimal root: %v\n%s", err, out)
			}
			t.Logf("dmtcp_launch --version in a root of %v: %s", tt.packages, strings.SplitN(string(out), "\n", 2)[0])
			if !real.Real {
				t.Skip("checkpoint and restart in the minimal root skipped: " + why)
			}
			if bare, err := inRoot(root, "/tmp", env[:3], inside+"/bin/dmtcp_launch", "--version").CombinedOutput(); len(tt.bundleLibs) > 0 && err == nil {
				t.Errorf("dmtcp_launch ran without the bundle's libraries; the root is not bare: %s", bare)
			}
			jobs, _ := filepath.Abs(filepath.Join("..", "testdata", "jobs"))
			compile(t, "gcc", "-O", "-I", jobs, "-o", filepath.Join(root, "job", "counter"), filepath.Join(jobs, "counter.c"))
			compile(t, "g++", "-O", "-o", filepath.Join(root, "job", "libstdcxx"), filepath.Join("testdata", "libstdcxx.cc"))
			compile(t, "gcc", "-O", "-o", filepath.Join(root, "job", "forker"), filepath.Join("testdata", "forker.c"))
			// The libstdc++ the C++ job must get: the node's where it has one.
			wantLib := "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
			if contains(tt.bundleLibs, "libstdc++.so.6") {
				wantLib = inside + "/" + runtimelib.Dir + "/libstdc++.so.6/libstdc++.so.6"
			}
			counted := func(n int, tail string) string {
				var b strings.Builder
				for i := 0; i < n; i++ {
					fmt.Fprintf(&b, "line %d\n", i)
				}
				return b.String() + tail
			}
			for i, job := range []struct {
				name  string
				argv  []string
				want  string // job.out
				moved bool   // the restart finds the bundle at another path, as in a new sandbox
			}{
				{"C", []string{"/job/counter", "60", "30", "0"}, counted(60, "done\n"), false},
				{"C++", []string{"/job/libstdcxx", "60", "30"}, counted(60, "done\n"), false},
				{"C job running a C++ program after a restart from a moved bundle", []string{"/job/forker", "60", "30", "/job/libstdcxx", "1", "0"},
					counted(60, "line 0\ndone\nchild exit 0\ndone\n"), true},
			} {
				wd := fmt.Sprintf("/job/%d", i)
				t.Run(job.name, func(t *testing.T) {
					if err := os.MkdirAll(filepath.Join(root, wd), 0o777); err != nil {
						t.Fatal(err)
					}
					shims := []string{inside + "/bin/shim_dmtcp", inside + "/bin/shim_dmtcp"}
					if job.moved {
						shims[1] = strings.Replace(inside, "/bundle/", "/bundle-moved/", 1) + "/bin/shim_dmtcp"
						t.Cleanup(func() { _ = os.Rename(filepath.Join(root, "bundle-moved"), filepath.Join(root, "bundle")) })
					}
					errOut := checkpointRestartInRoot(t, root, wd, []string{"PATH=/usr/bin:/bin", "USER=root", "HOME=/tmp"}, shims, job.want, job.argv...)
					if job.name == "C++" {
						first, _, _ := strings.Cut(errOut, "\n")
						real, _ := filepath.EvalSymlinks(filepath.Join(root, wantLib))
						if first != "libstdc++ "+wantLib && first != "libstdc++ "+strings.TrimPrefix(real, root) {
							t.Errorf("the C++ job ran with %q, want %s", first, wantLib)
						}
					}
				})
			}
		})
	}
}

func compile(t *testing.T, compiler string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(compiler); err != nil {
		t.Skipf("skipped: %s is not installed", compiler)
	}
	if out, err := exec.Command(compiler, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", compiler, args, err, out)
	}
}

// checkpointRestartInRoot runs argv under the shim in root: with
// shims[0], vacated after 900 ms (checkpoint, exit 85), then restarted to
// the end with shims[1], moving the bundle first when that is elsewhere.
// Its stdout must be want, that of an uninterrupted run; it returns the
// job's stderr.
func checkpointRestartInRoot(t *testing.T, root, wd string, env []string, shims []string, want string, argv ...string) string {
	t.Helper()
	run := func(shim string, vacateAfter time.Duration) (int, string) {
		args := append([]string{shim, "--log", "shim.log", "--stdout", "job.out", "--stderr", "job.err", "--no-compress", "--"}, argv...)
		cmd := inRoot(root, wd, env, args...)
		return runShim(t, cmd, vacateAfter)
	}
	logOf := func() string {
		b, _ := os.ReadFile(filepath.Join(root, wd, "shim.log"))
		return string(b)
	}
	if code, stderr := run(shims[0], 900*time.Millisecond); code != 85 {
		t.Fatalf("vacate: exit %d, want 85 (checkpointed)\n%s\n%s", code, stderr, logOf())
	}
	if from, to := bundleOf(shims[0]), bundleOf(shims[1]); from != to {
		if err := os.Rename(filepath.Join(root, from), filepath.Join(root, to)); err != nil {
			t.Fatal(err)
		}
	}
	if code, stderr := run(shims[1], 0); code != 0 {
		t.Fatalf("restart: exit %d\n%s\n%s", code, stderr, logOf())
	}
	got, _ := os.ReadFile(filepath.Join(root, wd, "job.out"))
	errOut, _ := os.ReadFile(filepath.Join(root, wd, "job.err"))
	if string(got) != want {
		t.Errorf("job.out after a vacate and a restart in the minimal root differs from an uninterrupted run:\n%s\njob.err:\n%s\nlog:\n%s", got, errOut, logOf())
	}
	if !strings.Contains(logOf(), "runtime libraries:") {
		t.Errorf("the shim's log does not say which runtime libraries it used:\n%s", logOf())
	}
	return string(errOut)
}

// bundleOf is the directory below the root that holds the bundle of the
// shim at p (inside the root): /bundle or /bundle-moved.
func bundleOf(p string) string {
	return "/" + strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]
}
