package dmtcpdouble

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/proctree"
)

// Version is the DMTCP version the double imitates.
const Version = "4.2.0"

// FirstVirtualPID is where DMTCP numbers its virtual PIDs from.
const FirstVirtualPID = 40000

// Main dispatches on the name the binary was called by.
func Main(args []string) int {
	name := filepath.Base(args[0])
	switch {
	case len(args) > 1 && args[1] == watchdogFlag:
		return watchdogMain(args[2:])
	case len(args) > 1 && args[1] == spawnFlag:
		return spawnMain(args[2:])
	}
	switch name {
	case "dmtcp_coordinator":
		return coordinatorMain(args[1:])
	case "dmtcp_launch", "dmtcp_checkpoint":
		return launchMain(args[1:])
	case "dmtcp_command":
		return commandMain(args[1:])
	case "dmtcp_restart":
		return restartMain(args[1:])
	case "mtcp_restart":
		fmt.Fprintln(os.Stderr, "mtcp_restart (dmtcp-condor test double): not meant to be run directly; use dmtcp_restart")
		return 1
	}
	if len(args) == 3 && args[1] == "install" {
		return installMain(args[2])
	}
	fmt.Fprintf(os.Stderr, "dmtcp test double: called as %q; install it as dmtcp_launch, dmtcp_coordinator, dmtcp_command, dmtcp_restart (dmtcp-double install PREFIX does)\n", name)
	return 1
}

func printVersion(name string) {
	fmt.Printf("%s (DMTCP) %s [dmtcp-condor test double]\n", name, Version)
	fmt.Println("This is a test double of DMTCP's commands, not DMTCP.")
}

// opts is a tiny getopt for DMTCP's option style: long options with a
// separate value, a few short aliases, flags without values.
type opts struct {
	values map[string]string
	flags  map[string]bool
	rest   []string
}

// parseOpts reads options until the first word that is not one. withValue
// and flags list the long names (and aliases as "x=long").
func parseOpts(args []string, withValue, flags []string) (*opts, error) {
	o := &opts{values: map[string]string{}, flags: map[string]bool{}}
	canon := func(list []string, name string) (string, bool) {
		for _, e := range list {
			alias, long, hasAlias := strings.Cut(e, "=")
			if !hasAlias {
				long = alias
			}
			if name == long || (hasAlias && name == alias) {
				return long, true
			}
		}
		return "", false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			o.rest = args[i+1:]
			return o, nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			o.rest = args[i:]
			return o, nil
		}
		name := strings.TrimLeft(a, "-")
		val, hasVal := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, hasVal = k, v, true
		}
		if long, ok := canon(withValue, name); ok {
			if !hasVal {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option %s needs a value", a)
				}
				i++
				val = args[i]
			}
			o.values[long] = val
			continue
		}
		if long, ok := canon(flags, name); ok {
			o.flags[long] = true
			continue
		}
		return nil, fmt.Errorf("unknown option %s", a)
	}
	return o, nil
}

func (o *opts) get(name, env, def string) string {
	if v, ok := o.values[name]; ok {
		return v
	}
	if env != "" {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func failRC() int {
	if v, err := strconv.Atoi(os.Getenv("DMTCP_FAIL_RC")); err == nil && v > 0 {
		return v
	}
	return 99
}

// hostID is the 4-hex-digit host part of DMTCP's unique process ids.
func hostID() string {
	h, _ := os.Hostname()
	f := fnv.New32a()
	f.Write([]byte(h))
	return fmt.Sprintf("%04x", f.Sum32()&0xffff)
}

// jassert prints a DMTCP-style assertion failure to stderr (DMTCP's
// diagnostics channel, JALIB_STDERR_PATH when set).
func jassert(virt int, where, cond string, vars [][2]string, msg string) {
	w := os.Stderr
	if p := os.Getenv("JALIB_STDERR_PATH"); p != "" {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			defer f.Close()
			w = f
		}
	}
	fmt.Fprintf(w, "[%d] ERROR at %s; REASON='JASSERT(%s) failed'\n", virt, where, cond)
	for _, v := range vars {
		fmt.Fprintf(w, "     %s = %s\n", v[0], v[1])
	}
	fmt.Fprintf(w, "Message: %s\n", msg)
}

func dialCoordinator(host, port string) (net.Conn, error) {
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	return net.DialTimeout("tcp", net.JoinHostPort(host, port), 5*time.Second)
}

// request sends one line and reads the answer line.
func request(c net.Conn, line string) (string, *bufio.Reader, error) {
	if _, err := fmt.Fprintln(c, line); err != nil {
		return "", nil, err
	}
	r := bufio.NewReader(c)
	ans, err := r.ReadString('\n')
	return strings.TrimSpace(ans), r, err
}

func descendants(root int) []int { return proctree.Descendants(root) }

func procStat(pid int) (proctree.Stat, bool) { return proctree.Read(pid) }

// cooperative reports whether pid catches SIGUSR2: the double's sign that
// the process can save and restore its own state.
func cooperative(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(syscall.SIGUSR2)-1)) != 0
		}
	}
	return false
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// doubleDir is the directory cooperating processes exchange state files
// through, one per coordinator.
func doubleDir(port string) string {
	tmp := os.Getenv("DMTCP_TMPDIR")
	if tmp == "" {
		tmp = os.TempDir()
	}
	return filepath.Join(tmp, fmt.Sprintf("dmtcp-double-%d-%s", os.Getuid(), port))
}
