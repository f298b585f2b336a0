package dmtcpdouble

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	watchdogFlag = "--dmtcp-double-watchdog"
	spawnFlag    = "--dmtcp-double-spawn"
	// workerFD is where the job keeps its coordinator connection, in
	// DMTCP's protected descriptor range as the real one does.
	workerFD = 821
)

var coordValueOpts = []string{"h=coord-host", "p=coord-port", "port-file", "ckptdir", "tmpdir", "i=interval",
	"coord-logfile", "ckpt-signal", "with-plugin", "restartdir", "debug-restart-pause"}

// connect finds or starts the coordinator the options ask for.
func connect(o *opts, name string) (net.Conn, string, error) {
	host := o.get("coord-host", "DMTCP_COORD_HOST", "127.0.0.1")
	port := o.get("coord-port", "DMTCP_COORD_PORT", "")
	join, fresh := o.flags["join-coordinator"], o.flags["new-coordinator"]
	if !join && !fresh && port != "" {
		if conn, err := dialCoordinator(host, port); err == nil {
			return conn, port, nil
		}
	}
	if join {
		if port == "" {
			port = "7779"
		}
		conn, err := dialCoordinator(host, port)
		if err != nil {
			return nil, "", fmt.Errorf("%s: couldn't connect to the coordinator at %s:%s (--join-coordinator): %v", name, host, port, err)
		}
		return conn, port, nil
	}
	if port == "" {
		port = "0"
		if !fresh {
			port = "7779"
		}
	}
	portFile := o.get("port-file", "", "")
	if portFile == "" {
		portFile = filepath.Join(os.TempDir(), fmt.Sprintf("dmtcp-double-port-%d", os.Getpid()))
		defer os.Remove(portFile)
	}
	os.Remove(portFile)
	self, _ := os.Executable()
	cmd := exec.Command(filepath.Join(filepath.Dir(self), "dmtcp_coordinator"),
		"--daemon", "--exit-on-last", "--coord-port", port, "--port-file", portFile,
		"--ckptdir", o.get("ckptdir", "DMTCP_CHECKPOINT_DIR", "."))
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("%s: cannot start a coordinator: %v", name, err)
	}
	for i := 0; i < 1000; i++ {
		data, err := os.ReadFile(portFile)
		if err == nil && len(data) > 0 {
			port = strings.TrimSpace(string(data))
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	conn, err := dialCoordinator(host, port)
	if err != nil {
		return nil, "", fmt.Errorf("%s: new coordinator does not answer: %v", name, err)
	}
	return conn, port, nil
}

func launchMain(args []string) int {
	o, err := parseOpts(args, coordValueOpts,
		[]string{"j=join-coordinator", "new-coordinator", "any-coordinator", "gzip", "no-gzip", "q=quiet",
			"ckpt-open-files", "checkpoint-open-files", "allow-file-overwrite", "modify-env", "pathvirt",
			"disable-alloc-plugin", "disable-dl-plugin", "disable-all-plugins", "kernel-loader", "help", "version"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: %v\n", err)
		return 1
	}
	if o.flags["help"] || (len(o.rest) == 0 && !o.flags["version"]) {
		fmt.Println("Usage: dmtcp_launch [OPTIONS] <command> [args...]\n(dmtcp-condor test double of DMTCP's dmtcp_launch)")
		return map[bool]int{true: 0, false: 1}[o.flags["help"]]
	}
	if o.flags["version"] {
		printVersion("dmtcp_launch")
		return 0
	}
	gz := os.Getenv("DMTCP_GZIP") != "0"
	if o.flags["no-gzip"] {
		gz = false
	}
	if o.flags["gzip"] {
		gz = true
	}
	cwd, _ := os.Getwd()
	ckptDir, _ := filepath.Abs(o.get("ckptdir", "DMTCP_CHECKPOINT_DIR", cwd))
	if err := os.MkdirAll(ckptDir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: create --ckptdir: %v\n", err)
		return failRC()
	}
	prog, err := exec.LookPath(o.rest[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: cannot execute %s: %v\n", o.rest[0], err)
		return failRC()
	}
	conn, port, err := connect(o, "dmtcp_launch")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return failRC()
	}
	ans, _, err := request(conn, mustJSON(message{Op: "worker", PID: os.Getpid(), Prog: filepath.Base(o.rest[0]),
		Gzip: gz, FailRC: failRC(), LaunchCwd: cwd, CkptDir: ckptDir}))
	var rep reply
	if err != nil || json.Unmarshal([]byte(ans), &rep) != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: coordinator did not accept the process: %v\n", err)
		return failRC()
	}
	env := jobEnv(os.Environ(), port, ckptDir)
	if err := spawnWatchdog(port, os.Getpid()); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: %v\n", err)
		return failRC()
	}
	if err := keepConn(conn); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_launch: %v\n", err)
		return failRC()
	}
	err = syscall.Exec(prog, o.rest, env)
	fmt.Fprintf(os.Stderr, "dmtcp_launch: exec %s: %v\n", prog, err)
	return failRC()
}

// jobEnv is the environment a job runs with under the double.
func jobEnv(env []string, port, ckptDir string) []string {
	set := map[string]string{
		"DMTCP_COORD_HOST":     "127.0.0.1",
		"DMTCP_COORD_PORT":     port,
		"DMTCP_CHECKPOINT_DIR": ckptDir,
		"DMTCP_DOUBLE_DIR":     doubleDir(port),
	}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || k == "DMTCP_DOUBLE_RESTORE" || k == "JALIB_STDERR_PATH" {
			continue // DMTCP unsets JALIB_STDERR_PATH in the job too
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

// keepConn moves the coordinator connection to a descriptor the job
// inherits across exec, so the coordinator sees the computation end when
// its last process does.
func keepConn(conn net.Conn) error {
	f, err := conn.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	if err := syscall.Dup3(int(f.Fd()), workerFD, 0); err != nil {
		return fmt.Errorf("keep coordinator connection: %w", err)
	}
	return nil
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// spawnWatchdog starts, detached from the job's process tree, the process
// that plays DMTCP's checkpoint thread noticing a dead coordinator: it
// makes the job exit with DMTCP_FAIL_RC.
func spawnWatchdog(port string, root int) error {
	self, _ := os.Executable()
	cmd := exec.Command(self, spawnFlag, port, strconv.Itoa(root), strconv.Itoa(failRC()))
	cmd.Args[0] = "dmtcp_launch"
	return cmd.Run() // the intermediate exits at once; the watchdog is reparented
}

func spawnMain(args []string) int {
	self, _ := os.Executable()
	cmd := exec.Command(self, append([]string{watchdogFlag}, args...)...)
	cmd.Args[0] = "dmtcp_launch"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 1
	}
	return 0
}

func watchdogMain(args []string) int {
	if len(args) != 3 {
		return 1
	}
	port := args[0]
	root, _ := strconv.Atoi(args[1])
	code, _ := strconv.Atoi(args[2])
	conn, err := dialCoordinator("127.0.0.1", port)
	if err != nil {
		return 1
	}
	fmt.Fprintln(conn, mustJSON(message{Op: "watch", PID: root}))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err == nil && strings.TrimSpace(line) == "BYE" {
		return 0
	}
	// The coordinator died under a running job.
	for _, pid := range descendants(root) {
		markExit(doubleDir(port), pid, code)
	}
	return 0
}

func commandMain(args []string) int {
	// Commands look like options (-s, --status): only the connection
	// options take values; the first other word is the command.
	o := &opts{values: map[string]string{}, flags: map[string]bool{}}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-h" || a == "--coord-host" || a == "-p" || a == "--coord-port") && i+1 < len(args):
			key := map[string]string{"-h": "coord-host", "--coord-host": "coord-host", "-p": "coord-port", "--coord-port": "coord-port"}[a]
			o.values[key] = args[i+1]
			i++
		case strings.HasPrefix(a, "--coord-host=") || strings.HasPrefix(a, "--coord-port="):
			k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			o.values[k] = v
		case a == "--help" || a == "--version":
			o.flags[strings.TrimPrefix(a, "--")] = true
		default:
			o.rest = args[i:]
			i = len(args)
		}
	}
	if o.flags["version"] {
		printVersion("dmtcp_command")
		return 1 // as DMTCP 4.2.0's does
	}
	if o.flags["help"] || len(o.rest) == 0 {
		fmt.Println("Usage:  dmtcp_command [OPTIONS] COMMAND [COMMAND...]\n(dmtcp-condor test double of DMTCP's dmtcp_command)")
		return 1
	}
	names := map[string]string{
		"s": "s", "-s": "s", "--status": "s", "l": "l", "-l": "l", "--list": "l",
		"c": "c", "-c": "c", "--checkpoint": "c", "bc": "bc", "-bc": "bc", "--bcheckpoint": "bc",
		"kc": "kc", "-kc": "kc", "--kcheckpoint": "kc", "k": "k", "-k": "k", "--kill": "k",
		"q": "q", "-q": "q", "--quit": "q", "i": "i", "-i": "i", "--interval": "i",
	}
	cmd, ok := names[o.rest[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "dmtcp_command: unknown command %s\n", o.rest[0])
		return 1
	}
	arg := ""
	if cmd == "i" {
		if len(o.rest) < 2 {
			fmt.Fprintln(os.Stderr, "dmtcp_command: --interval needs a value")
			return 1
		}
		arg = o.rest[1]
	}
	conn, err := dialCoordinator(o.get("coord-host", "DMTCP_COORD_HOST", "127.0.0.1"), o.get("coord-port", "DMTCP_COORD_PORT", "7779"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "Coordinator not found. Please check port and host.")
		return 2
	}
	defer conn.Close()
	ans, _, err := request(conn, mustJSON(message{Op: "cmd", Cmd: cmd, Arg: arg}))
	var rep reply
	if err != nil || json.Unmarshal([]byte(ans), &rep) != nil {
		fmt.Fprintln(os.Stderr, "Coordinator not found. Please check port and host.")
		return 2
	}
	fmt.Print(rep.Out)
	if rep.Err != "" {
		fmt.Fprintln(os.Stderr, rep.Err)
	}
	return rep.Code
}

func restartMain(args []string) int {
	o, err := parseOpts(args, coordValueOpts,
		[]string{"j=join-coordinator", "new-coordinator", "any-coordinator", "no-strict-checking", "q=quiet", "help", "version"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
		return 1
	}
	if o.flags["version"] {
		printVersion("dmtcp_restart")
		return 0
	}
	paths := o.rest
	if dir := o.get("restartdir", "", ""); dir != "" {
		found, _ := filepath.Glob(filepath.Join(dir, "*.dmtcp"))
		paths = append(paths, found...)
	}
	if o.flags["help"] || len(paths) == 0 {
		fmt.Println("Usage:       dmtcp_restart [OPTIONS] <ckpt1.dmtcp> [ckpt2.dmtcp...]\n(dmtcp-condor test double of DMTCP's dmtcp_restart)")
		return map[bool]int{true: 0, false: 1}[o.flags["help"]]
	}
	var imgs []image
	for _, p := range paths {
		img, err := readImage(p)
		if err != nil {
			jassert(0, "mtcp_restart.c:357 in restore", "image readable", [][2]string{{"path", p}}, err.Error())
			return failRC()
		}
		imgs = append(imgs, img)
	}
	if os.Getenv("DMTCP_DOUBLE_RESTART_HANG") != "" {
		for {
			time.Sleep(time.Hour)
		}
	}
	cwd, _ := os.Getwd()
	for _, img := range imgs {
		for _, f := range img.OpenFiles {
			if within(f, img.LaunchCwd) {
				continue // moves with the working directory
			}
			if _, err := os.Stat(f); err != nil {
				jassert(img.Virt, "fileconnection.cpp:737 in refill", "jalib::Filesystem::FileExists(_path)",
					[][2]string{{"_path", f}}, "File not found.")
				fmt.Fprintf(os.Stderr, "%s (%d): Terminating...\n", img.Prog, img.Virt)
				return failRC()
			}
		}
	}
	ckptDir, _ := filepath.Abs(o.get("ckptdir", "DMTCP_CHECKPOINT_DIR", cwd))
	conn, port, err := connect(o, "dmtcp_restart")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return failRC()
	}
	// The root is the image whose parent is not among them.
	sort.Slice(imgs, func(i, j int) bool { return imgs[i].Virt < imgs[j].Virt })
	virts := map[int]bool{}
	for _, img := range imgs {
		virts[img.Virt] = true
	}
	rootIdx := 0
	for i, img := range imgs {
		if !virts[img.ParentVirt] {
			rootIdx = i
			break
		}
	}
	root := imgs[rootIdx]
	ans, _, err := request(conn, mustJSON(message{Op: "worker", PID: os.Getpid(), Virt: root.Virt, Stamp: root.Stamp,
		Prog: root.Prog, Gzip: root.Gzip, FailRC: failRC(), LaunchCwd: cwd, CkptDir: ckptDir}))
	if err != nil || ans == "" {
		fmt.Fprintf(os.Stderr, "dmtcp_restart: coordinator did not accept the process: %v\n", err)
		return failRC()
	}
	dir := doubleDir(port)
	for i, img := range imgs {
		if i == rootIdx {
			continue
		}
		cmd, err := restoreCmd(img, cwd, port, ckptDir, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
			return failRC()
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(os.Stderr, "dmtcp_restart: restore %s: %v\n", img.Prog, err)
			return failRC()
		}
		c, err := dialCoordinator("127.0.0.1", port)
		if err == nil {
			request(c, mustJSON(message{Op: "proc", PID: cmd.Process.Pid, Virt: img.Virt, Stamp: img.Stamp, Prog: img.Prog}))
			c.Close()
		}
	}
	cmd, err := restoreCmd(root, cwd, port, ckptDir, dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
		return failRC()
	}
	if err := spawnWatchdog(port, os.Getpid()); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
		return failRC()
	}
	if err := keepConn(conn); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
		return failRC()
	}
	if cmd.Dir != "" {
		if err := os.Chdir(cmd.Dir); err != nil {
			fmt.Fprintf(os.Stderr, "dmtcp_restart: %v\n", err)
			return failRC()
		}
	}
	err = syscall.Exec(cmd.Path, cmd.Args, cmd.Env)
	fmt.Fprintf(os.Stderr, "dmtcp_restart: exec %s: %v\n", cmd.Path, err)
	return failRC()
}

// restoreCmd prepares a process from its image: same program, arguments
// and environment, in the matching directory under the restart's working
// directory, told where its saved state is.
func restoreCmd(img image, cwd, port, ckptDir, dir string) (*exec.Cmd, error) {
	move := func(p string) string {
		if img.LaunchCwd != "" && within(p, img.LaunchCwd) {
			rel, _ := filepath.Rel(img.LaunchCwd, p)
			return filepath.Join(cwd, rel)
		}
		return p
	}
	exe := move(img.Exe)
	if len(img.Argv) == 0 {
		return nil, fmt.Errorf("image of %s has no command line", img.Prog)
	}
	env := jobEnv(img.Env, port, ckptDir)
	if img.Cooperative && len(img.State) > 0 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		state := filepath.Join(dir, fmt.Sprintf("restore-%d", img.Virt))
		if err := os.WriteFile(state, img.State, 0o600); err != nil {
			return nil, err
		}
		env = append(env, "DMTCP_DOUBLE_RESTORE="+state)
	}
	cmd := exec.Command(exe, img.Argv[1:]...)
	cmd.Args[0] = img.Argv[0]
	cmd.Env = env
	cmd.Dir = move(img.Cwd)
	return cmd, nil
}

func readImage(path string) (image, error) {
	var img image
	f, err := os.Open(path)
	if err != nil {
		return img, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return img, err
		}
		r = zr
	}
	if err := json.NewDecoder(r).Decode(&img); err != nil {
		return img, fmt.Errorf("%s is not a checkpoint image of the DMTCP test double: %v", path, err)
	}
	if img.Magic != imageMagic {
		return img, errors.New(path + " is not a checkpoint image of the DMTCP test double")
	}
	return img, nil
}
