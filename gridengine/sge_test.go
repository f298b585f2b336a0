package gridengine

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestRoleOf(t *testing.T) {
	for _, c := range []struct {
		argv0 string
		want  Role
		ok    bool
	}{
		{"/usr/libexec/dmtcp-condor/sge/dmtcp_starter", Starter, true},
		{"-dmtcp_starter", Starter, true}, // how Grid Engine starts a starter_method
		{"dmtcp_checkpoint", Checkpoint, true},
		{"./dmtcp_migrate_cpu", MigrateCPU, true},
		{"dmtcp_cleanup", Clean, true},
		{"shim_dmtcp", "", false},
		{"dmtcp_migrate.sh", "", false},
		{"", "", false},
	} {
		got, ok := RoleOf(c.argv0)
		if got != c.want || ok != c.ok {
			t.Errorf("RoleOf(%q) = %q, %v; want %q, %v", c.argv0, got, ok, c.want, c.ok)
		}
	}
}

// env builds a jobEnv the way loadJobEnv does, from variables and a spool
// config written to a temporary spool directory.
func env(t *testing.T, vars map[string]string, config string) jobEnv {
	t.Helper()
	spool := t.TempDir()
	if err := os.WriteFile(filepath.Join(spool, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"JOB_ID": "12", "SGE_TASK_ID": "undefined", "SGE_JOB_SPOOL_DIR": spool, "RESTARTED": "0"}
	for k, v := range vars {
		all[k] = v
	}
	e, err := loadJobEnv(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLoadJobEnv(t *testing.T) {
	e := env(t, map[string]string{"RESTARTED": "2", "SGE_CKPT_DIR": "/ignored"}, "ckpt_job=1\nckpt_dir=/nfs/dmtcp\njob_arg2=a=b\n")
	if e.Task != "1" || e.Array || e.Restarted != 2 || e.CkptDir != "/nfs/dmtcp" || e.Config["job_arg2"] != "a=b" {
		t.Errorf("got %+v", e)
	}
	if e.Dir() != "/nfs/dmtcp/12.1" {
		t.Errorf("Dir() = %q", e.Dir())
	}
	arr := env(t, map[string]string{"SGE_TASK_ID": "3", "SGE_CKPT_DIR": "/c"}, "")
	if arr.Task != "3" || !arr.Array || arr.Dir() != "/c/12.3" {
		t.Errorf("array task: %+v, Dir %q", arr, arr.Dir())
	}
	for _, bad := range []map[string]string{{"JOB_ID": ""}, {"RESTARTED": "x"}} {
		vars := map[string]string{"JOB_ID": "1", "SGE_JOB_SPOOL_DIR": t.TempDir(), "RESTARTED": "0"}
		for k, v := range bad {
			vars[k] = v
		}
		os.WriteFile(filepath.Join(vars["SGE_JOB_SPOOL_DIR"], "config"), nil, 0o644)
		if _, err := loadJobEnv(func(k string) string { return vars[k] }); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestStderrFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, config, task, want string
	}{
		{"directory", "stderr_path=" + dir + "\njob_name=sim\n", "undefined", filepath.Join(dir, "sim.e12")},
		{"array task", "stderr_path=" + dir + "\njob_name=sim\n", "4", filepath.Join(dir, "sim.e12.4")},
		{"file", "stderr_path=" + dir + "/my.err\njob_name=sim\n", "undefined", dir + "/my.err"},
		{"merged", "stderr_path=" + dir + "\nstdout_path=" + dir + "\nmerge_stderr=1\njob_name=sim\n", "undefined", filepath.Join(dir, "sim.o12")},
		{"nowhere", "stderr_path=/dev/null\n", "undefined", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := env(t, map[string]string{"SGE_TASK_ID": c.task}, c.config)
			if e.Stderr != c.want {
				t.Errorf("Stderr = %q, want %q", e.Stderr, c.want)
			}
		})
	}
}

func TestDMTCPJob(t *testing.T) {
	for _, c := range []struct {
		config string
		want   bool
	}{
		{"ckpt_job=1\nckpt_command=/usr/libexec/dmtcp-condor/sge/dmtcp_checkpoint $job_pid\n", true},
		{"ckpt_job=1\nckpt_command=/usr/share/gridengine/util/dmtcp_checkpoint\n", true},
		{"ckpt_job=1\nckpt_command=/opt/site/blcr_checkpoint $job_pid\n", false},
		{"ckpt_job=0\nckpt_command=/x/dmtcp_checkpoint\n", false},
		{"ckpt_job=1\nckpt_command=NONE\n", false},
		{"", false},
	} {
		if got := env(t, nil, c.config).dmtcpJob(); got != c.want {
			t.Errorf("%q: dmtcpJob() = %v, want %v", c.config, got, c.want)
		}
	}
}

// TestBuiltin: what the built-in starter runs (recorded on 8.1.9, see
// testdata/gridengine/recorded-8.1.9.md) and what the shim runs instead.
func TestBuiltin(t *testing.T) {
	login := map[string]string{"SGE_STARTER_SHELL_PATH": "/bin/sh", "SGE_STARTER_SHELL_START_MODE": "posix_compliant", "SGE_STARTER_USE_LOGIN_SHELL": "true"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range login {
			m[a] = b
		}
		m[k] = v
		return m
	}
	const script = "/var/spool/gridengine/execd/h/job_scripts/12"
	for _, c := range []struct {
		name     string
		vars     map[string]string
		config   string
		args     []string
		exec     []string // path then argv of the built-in start
		stdin    string
		underDMT []string // what the shim runs, the script copied to /c/job_script
	}{
		{"script, login shell", login, "handle_as_binary=0\n", []string{script, "1", "a  b"},
			[]string{"/bin/sh", "-sh", script, "1", "a  b"}, "",
			[]string{"/bin/sh", "-l", "/c/job_script", "1", "a  b"}},
		{"script, bash, no login", with("SGE_STARTER_USE_LOGIN_SHELL", "false"), "", []string{script},
			[]string{"/bin/sh", "/bin/sh", script}, "",
			[]string{"/bin/sh", "/c/job_script"}},
		{"script, csh login", with("SGE_STARTER_SHELL_PATH", "/bin/csh"), "", []string{script, "x"},
			[]string{"/bin/csh", "-csh", script, "x"}, "",
			[]string{"/bin/csh", "/c/job_script", "x"}},
		{"-b y", login, "handle_as_binary=1\nno_shell=0\n", []string{"/bin/echo", "x  y", "'$HOME'"},
			[]string{"/bin/sh", "-sh", "-c", "/bin/echo x  y '$HOME'"}, "",
			[]string{"/bin/sh", "-l", "-c", "/bin/echo x  y '$HOME'"}},
		{"-b y -shell no", login, "handle_as_binary=1\nno_shell=1\n", []string{"/bin/echo", "x  y"},
			[]string{"/bin/echo", "/bin/echo", "x  y"}, "",
			[]string{"/bin/echo", "x  y"}},
		{"unix_behavior", with("SGE_STARTER_SHELL_START_MODE", "unix_behavior"), "", []string{"/bin/true", "a"},
			[]string{"/bin/true", "/bin/true", "a"}, "",
			[]string{"/c/job_script", "a"}},
		// The shepherd puts the script on fd 0 and passes "-s ARGS".
		{"script_from_stdin", with("SGE_STARTER_SHELL_START_MODE", "script_from_stdin"), "script_file=" + script + "\n", []string{"-s", "a"},
			[]string{"/bin/sh", "-sh", "-s", "a"}, script,
			[]string{"/bin/sh", "-l", "/c/job_script", "a"}},
		{"no starter variables: the spool config", nil, "shell_path=/bin/bash\nshell_start_mode=posix_compliant\n", []string{script},
			[]string{"/bin/bash", "/bin/bash", script}, "",
			[]string{"/bin/bash", "/c/job_script"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := env(t, c.vars, c.config)
			l, err := builtin(e, c.args)
			if err != nil {
				t.Fatal(err)
			}
			path, argv := l.shell, l.args
			if l.shell == "" {
				path = l.args[0]
			} else {
				argv0 := l.shell
				if l.login {
					argv0 = "-" + filepath.Base(l.shell)
				}
				argv = append([]string{argv0}, l.args...)
			}
			if got := append([]string{path}, argv...); !reflect.DeepEqual(got, c.exec) || l.stdin != c.stdin {
				t.Errorf("built-in start %q (stdin %q), want %q (stdin %q)", got, l.stdin, c.exec, c.stdin)
			}
			copy := ""
			if l.script >= 0 || l.stdin != "" {
				copy = "/c/job_script"
			}
			if got := l.program(copy); !reflect.DeepEqual(got, c.underDMT) {
				t.Errorf("under the shim %q, want %q", got, c.underDMT)
			}
		})
	}
	if _, err := builtin(env(t, nil, ""), nil); err == nil {
		t.Error("no arguments: no error")
	}
}

func TestCommandArgs(t *testing.T) {
	e := env(t, nil, "")
	os.WriteFile(filepath.Join(e.SpoolDir, "job_pid"), []byte("4242\n"), 0o644)
	for _, c := range []struct {
		args    []string
		pid     int
		timeout string
		err     string
	}{
		{nil, 4242, "10m0s", ""},
		{[]string{"601421"}, 601421, "10m0s", ""},
		{[]string{"601421", "--timeout", "90s"}, 601421, "1m30s", ""},
		{[]string{"--timeout=2m"}, 4242, "2m0s", ""},
		{[]string{"$job_pid"}, 0, "", "want the job's pid"},
		{[]string{"--timeout", "soon"}, 0, "", "give a duration"},
		{[]string{"7", "8"}, 0, "", "unexpected argument"},
	} {
		pid, timeout, err := commandArgs(e, c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || pid != c.pid || timeout.String() != c.timeout {
			t.Errorf("%q: %d %s %v; want %d %s", c.args, pid, timeout, err, c.pid, c.timeout)
		}
	}
}

const qstatOut = `job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID 
-----------------------------------------------------------------------------------------------------------------
      2 0.75000 job.sh     sgeuser      dr    11/23/2026 22:04:37 all.q@localhost                    1        
      3 0.25000 job.sh     sgeuser      Rq    11/23/2026 22:04:44                                    1        
     11 0.55000 array      sgeuser      r     11/23/2026 21:23:25 all.q@localhost                    1 2
     11 0.55000 array      sgeuser      qw    11/23/2026 21:23:20                                    1 3-9:2
     12 0.55000 arr2       sgeuser      Rq    11/23/2026 21:23:20                                    1 1,4
`

func TestParseQstatState(t *testing.T) {
	for _, c := range []struct {
		job, task string
		array     bool
		want      string
	}{
		{"2", "1", false, "dr"},
		{"3", "1", false, "Rq"},
		{"4", "1", false, ""},
		{"11", "2", true, "r"},
		{"11", "5", true, "qw"},
		{"11", "4", true, ""},
		{"11", "1", true, ""},
		{"12", "4", true, "Rq"},
		{"1", "1", false, ""}, // "1" appears in other columns only
	} {
		if got := parseQstatState(qstatOut, c.job, c.task, c.array); got != c.want {
			t.Errorf("job %s task %s: %q, want %q", c.job, c.task, got, c.want)
		}
	}
}

// FuzzTaskIn checks task lists of one range against arithmetic, and that
// junk never matches.
func FuzzTaskIn(f *testing.F) {
	f.Add(uint8(1), uint8(10), uint8(1), uint8(4), "x")
	f.Add(uint8(3), uint8(9), uint8(2), uint8(5), "5-1")
	f.Add(uint8(2), uint8(2), uint8(0), uint8(2), "")
	f.Fuzz(func(t *testing.T, lo, hi, step, n uint8, junk string) {
		list := fmt.Sprintf("%d-%d:%d", lo, hi, step)
		s := int(step)
		if s == 0 {
			s = 1 // qstat never prints 0; taken as 1
		}
		want := n >= lo && n <= hi && (int(n)-int(lo))%s == 0
		if got := taskIn(list, strconv.Itoa(int(n))); got != want {
			t.Errorf("taskIn(%q, %d) = %v, want %v", list, n, got, want)
		}
		if got := taskIn(list+","+strconv.Itoa(int(n)), strconv.Itoa(int(n))); !got {
			t.Errorf("taskIn(%q,%d, %d) = false", list, n, n)
		}
		if _, err := strconv.Atoi(junk); err != nil && taskIn(list, junk) {
			t.Errorf("taskIn(%q, %q) = true for a task that is not a number", list, junk)
		}
	})
}

func TestMergeResources(t *testing.T) {
	info := "job_number:                 14\nhard resource_list:         h_rt=3600,cpuflag_avx=FALSE,mem_free=1G\nmail_list: x\n"
	got := mergeResources(hardResources(info), []string{"cpuflag_avx", "cpuflag_sse2"})
	if want := "cpuflag_avx=TRUE,cpuflag_sse2=TRUE,h_rt=3600,mem_free=1G"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := mergeResources(hardResources("job_number: 1\n"), []string{"cpuflag_sse"}); got != "cpuflag_sse=TRUE" {
		t.Errorf("no list: got %q", got)
	}
}

// TestNeeded: what clean decides from what the run left behind. The cases
// that need the qmaster are covered by the cell's tests (e2e/gridengine).
func TestNeeded(t *testing.T) {
	ckpt := t.TempDir()
	e := env(t, map[string]string{"SGE_CKPT_DIR": ckpt}, "")
	dir := e.Dir()
	os.MkdirAll(filepath.Join(dir, storeName), 0o700)
	for _, c := range []struct {
		status string
		keep   bool
		why    string
	}{
		{"exit 0\n", false, "ended by itself (exit 0)"},
		{"signal SIGSEGV\n", false, "ended by itself (signal SIGSEGV)"},
		{"exit 99\n", false, "ended by itself"},
		{"", false, "no complete checkpoint"},
		{"checkpointed 85\n", false, "no complete checkpoint"},
	} {
		os.WriteFile(filepath.Join(dir, statusName), []byte(c.status), 0o600)
		keep, why := needed(e)
		if keep != c.keep || !strings.Contains(why, c.why) {
			t.Errorf("status %q: keep %v (%s), want %v (%s)", c.status, keep, why, c.keep, c.why)
		}
	}
}

// TestOwnDir: what another user may have put in the shared ckpt_dir first
// is refused, never followed.
func TestOwnDir(t *testing.T) {
	ckpt := t.TempDir()
	fresh := filepath.Join(ckpt, "1.1")
	if err := ownDir(fresh, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", st.Mode().Perm())
	}
	os.Chmod(fresh, 0o755)
	if err := ownDir(fresh, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o700 {
		t.Errorf("an existing directory of ours is not made private again: %v", st.Mode().Perm())
	}
	elsewhere := t.TempDir()
	link := filepath.Join(ckpt, "2.1")
	os.Symlink(elsewhere, link)
	file := filepath.Join(ckpt, "3.1")
	os.WriteFile(file, nil, 0o644)
	for _, p := range []string{link, file} {
		if err := ownDir(p, true); err == nil || !strings.Contains(err.Error(), "ask the Grid Engine admin") {
			t.Errorf("%s: %v, want a refusal", p, err)
		}
	}
	// The log does not write through a planted symlink either.
	target := filepath.Join(elsewhere, "victim")
	os.WriteFile(target, []byte("keep\n"), 0o600)
	os.Symlink(target, filepath.Join(fresh, logName))
	e := env(t, map[string]string{"SGE_CKPT_DIR": ckpt, "JOB_ID": "1"}, "")
	newLog(Clean, e).Printf("hello")
	if data, _ := os.ReadFile(target); string(data) != "keep\n" {
		t.Errorf("the log wrote through a symlink: %q", data)
	}
}

// TestNeededLaterRun: clean leaves the directory to a run that started
// since (qmod -rj requeues at once).
func TestNeededLaterRun(t *testing.T) {
	ckpt := t.TempDir()
	e := env(t, map[string]string{"SGE_CKPT_DIR": ckpt}, "")
	os.MkdirAll(e.Dir(), 0o700)
	os.WriteFile(filepath.Join(e.SpoolDir, "job_pid"), []byte("1000\n"), 0o644)
	os.WriteFile(filepath.Join(e.Dir(), tokenName), []byte(runToken(2000)), 0o600)
	os.WriteFile(filepath.Join(e.Dir(), statusName), []byte("exit 0\n"), 0o600)
	if keep, why := needed(e); !keep || !strings.Contains(why, "later run") {
		t.Errorf("keep %v (%s), want kept for the later run", keep, why)
	}
	os.WriteFile(filepath.Join(e.Dir(), tokenName), []byte(runToken(1000)), 0o600)
	if keep, _ := needed(e); keep {
		t.Error("this run's own token: want removed after the job's own exit")
	}
}

func TestCPUEnvironment(t *testing.T) {
	for _, c := range []struct {
		migr string
		want bool
	}{
		{"/usr/libexec/dmtcp-condor/sge/dmtcp_migrate_cpu $job_pid", true},
		{"/usr/libexec/dmtcp-condor/sge/dmtcp_migrate $job_pid", false},
		{"/usr/local/bin/my_migrate_cpu", false},
		{"", false},
	} {
		e := jobEnv{Config: map[string]string{"ckpt_migr_command": c.migr}}
		if got := e.cpuEnvironment(); got != c.want {
			t.Errorf("migr_command %q: %v, want %v", c.migr, got, c.want)
		}
	}
}
