package dmtcpdouble

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// message is one line of the double's own protocol between its commands.
// (Real DMTCP speaks a binary protocol; nothing outside the double sees
// this one.)
type message struct {
	Op        string `json:"op"` // worker, proc, watch, cmd
	PID       int    `json:"pid,omitempty"`
	Virt      int    `json:"virt,omitempty"`
	Stamp     string `json:"stamp,omitempty"`
	Prog      string `json:"prog,omitempty"`
	Gzip      bool   `json:"gzip,omitempty"`
	FailRC    int    `json:"fail_rc,omitempty"`
	LaunchCwd string `json:"launch_cwd,omitempty"`
	CkptDir   string `json:"ckpt_dir,omitempty"`
	Cmd       string `json:"cmd,omitempty"`
	Arg       string `json:"arg,omitempty"`
}

type reply struct {
	Virt  int    `json:"virt,omitempty"`
	Stamp string `json:"stamp,omitempty"`
	Out   string `json:"out,omitempty"`
	Err   string `json:"err,omitempty"`
	Code  int    `json:"code"`
}

type worker struct {
	root      int
	gzip      bool
	failRC    int
	launchCwd string
	ckptDir   string
}

type vproc struct {
	virt  int
	stamp string
	prog  string
}

type coordinator struct {
	mu            sync.Mutex
	port          string
	ckptDir       string
	dir           string
	exitOnLast    bool
	interval      time.Duration
	workers       map[net.Conn]*worker
	watchers      map[int][]net.Conn
	procs         map[int]*vproc
	nextVirt      int
	checkpointing bool
	hadWorker     bool
	stamp         string
	refused       int       // checkpoint requests refused so far (DMTCP_DOUBLE_REFUSE_CHECKPOINTS)
	joiningUntil  time.Time // RUNNING=no meanwhile, as while a process joins
}

// notRunning is dmtcp_command's message when the coordinator refuses a
// checkpoint: one is under way, no process is connected, or (what the
// double imitates with DMTCP_DOUBLE_REFUSE_CHECKPOINTS) a process is
// still joining and not yet RUNNING.
const notRunning = "Error, computation not in running state.  Either a checkpoint is\n currently happening or there are no connected processes."

func coordinatorMain(args []string) int {
	o, err := parseOpts(args,
		[]string{"p=coord-port", "port", "port-file", "status-file", "ckptdir", "tmpdir", "i=interval", "coord-logfile", "timeout", "stale-timeout"},
		[]string{"exit-on-last", "kill-after-ckpt", "daemon", "q=quiet", "help", "version", "write-kv-data"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_coordinator: %v\n", err)
		return 1
	}
	if o.flags["help"] {
		fmt.Println("Usage: dmtcp_coordinator [OPTIONS] [port]\n(dmtcp-condor test double of DMTCP's coordinator)")
		return 0
	}
	if o.flags["version"] {
		printVersion("dmtcp_coordinator")
		return 0
	}
	if o.flags["daemon"] {
		return daemonize(args)
	}
	if os.Getenv("DMTCP_DOUBLE_COORD_FAIL") != "" {
		fmt.Fprintln(os.Stderr, "dmtcp_coordinator (test double): failing at start because DMTCP_DOUBLE_COORD_FAIL is set")
		return 1
	}
	port := o.get("coord-port", "DMTCP_COORD_PORT", "")
	if port == "" {
		port = o.get("port", "", "7779")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_coordinator: cannot listen on port %s: %v\n", port, err)
		return 1
	}
	actual := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ckptDir := o.get("ckptdir", "DMTCP_CHECKPOINT_DIR", ".")
	if abs, err := filepath.Abs(ckptDir); err == nil {
		ckptDir = abs
	}
	c := &coordinator{
		port: actual, ckptDir: ckptDir, dir: doubleDir(actual), exitOnLast: o.flags["exit-on-last"],
		workers: map[net.Conn]*worker{}, watchers: map[int][]net.Conn{}, procs: map[int]*vproc{},
		nextVirt: FirstVirtualPID, stamp: strconv.FormatInt(time.Now().UnixNano()/1000, 16),
	}
	if n, err := strconv.Atoi(o.get("interval", "DMTCP_CHECKPOINT_INTERVAL", "0")); err == nil && n > 0 {
		c.interval = time.Duration(n) * time.Second
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_coordinator: %v\n", err)
		return 1
	}
	fmt.Printf("dmtcp_coordinator starting... [dmtcp-condor test double]\n    Host: localhost (127.0.0.1)\n    Port: %s\n", actual)
	if c.interval > 0 {
		fmt.Printf("    Checkpoint Interval: %d\n", int(c.interval/time.Second))
	} else {
		fmt.Printf("    Checkpoint Interval: disabled (checkpoint manually instead)\n")
	}
	fmt.Printf("    Exit on last client: %d\n", map[bool]int{false: 0, true: 1}[c.exitOnLast])
	if pf := o.get("port-file", "", ""); pf != "" {
		// DMTCP writes the bare number, no newline.
		if err := os.WriteFile(pf, []byte(actual), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "dmtcp_coordinator: write port file: %v\n", err)
			return 1
		}
	}
	if sf := o.get("status-file", "", ""); sf != "" {
		_ = os.WriteFile(sf, []byte(fmt.Sprintf("Host: localhost\nPort: %s\nPid: %d\n", actual, os.Getpid())), 0o644)
	}
	if c.interval > 0 {
		go func() {
			for range time.Tick(c.interval) {
				c.checkpoint()
			}
		}()
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			return 1
		}
		go c.serve(conn)
	}
}

// daemonize runs the coordinator in the background, as --daemon does, and
// returns once its port file (if any) exists.
func daemonize(args []string) int {
	var rest []string
	portFile := ""
	for i, a := range args {
		if a == "--daemon" {
			continue
		}
		if a == "--port-file" && i+1 < len(args) {
			portFile = args[i+1]
		}
		rest = append(rest, a)
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, rest...)
	cmd.Args[0] = "dmtcp_coordinator"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "dmtcp_coordinator: %v\n", err)
		return 1
	}
	for i := 0; portFile != "" && i < 1000; i++ {
		if data, err := os.ReadFile(portFile); err == nil && len(data) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Release()
	return 0
}

func (c *coordinator) note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s, %d, %d, Note] at coordinator (test double); REASON='%s;\n",
		time.Now().Format("2006-01-02T15:04:05.000"), os.Getpid(), os.Getpid(), fmt.Sprintf(format, args...))
}

func (c *coordinator) serve(conn net.Conn) {
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		conn.Close()
		return
	}
	var m message
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		conn.Close()
		return
	}
	send := func(rep reply) {
		data, _ := json.Marshal(rep)
		conn.Write(append(data, '\n'))
	}
	switch m.Op {
	case "worker":
		c.mu.Lock()
		virt, stamp := m.Virt, m.Stamp
		if virt == 0 {
			virt, stamp = c.nextVirt, strconv.FormatInt(time.Now().UnixNano()/1000, 16)
		}
		if virt >= c.nextVirt {
			c.nextVirt = virt + 1
		}
		c.procs[m.PID] = &vproc{virt: virt, stamp: stamp, prog: m.Prog}
		w := &worker{root: m.PID, gzip: m.Gzip, failRC: m.FailRC, launchCwd: m.LaunchCwd, ckptDir: m.CkptDir}
		c.workers[conn] = w
		c.hadWorker = true
		c.mu.Unlock()
		c.note("worker connected; (pid = %d); (progname = %s)", m.PID, m.Prog)
		send(reply{Virt: virt, Stamp: stamp})
		// The job holds this connection (inherited across exec) until
		// its last process exits.
		_, _ = r.ReadString('\n')
		conn.Close()
		c.workerGone(conn, w)
	case "proc":
		c.mu.Lock()
		c.procs[m.PID] = &vproc{virt: m.Virt, stamp: m.Stamp, prog: m.Prog}
		if m.Virt >= c.nextVirt {
			c.nextVirt = m.Virt + 1
		}
		c.mu.Unlock()
		send(reply{})
		conn.Close()
	case "watch":
		c.mu.Lock()
		c.watchers[m.PID] = append(c.watchers[m.PID], conn)
		c.mu.Unlock()
	case "cmd":
		send(c.command(m.Cmd, m.Arg))
		conn.Close()
	default:
		conn.Close()
	}
}

func (c *coordinator) workerGone(conn net.Conn, w *worker) {
	c.mu.Lock()
	delete(c.workers, conn)
	for _, wc := range c.watchers[w.root] {
		fmt.Fprintln(wc, "BYE")
		wc.Close()
	}
	delete(c.watchers, w.root)
	last := len(c.workers) == 0
	c.mu.Unlock()
	c.note("client disconnected; (root pid = %d)", w.root)
	if last && c.exitOnLast {
		c.note("last client exited, shutting down..")
		fmt.Println("DMTCP coordinator exiting... (per request)")
		os.RemoveAll(c.dir)
		os.Exit(0)
	}
}

// peers lists the computation's live processes with their worker.
func (c *coordinator) peers() []peer {
	var out []peer
	for _, w := range c.workers {
		for _, pid := range descendants(w.root) {
			st, ok := procStat(pid)
			if !ok || st.State == 'Z' {
				continue
			}
			out = append(out, peer{pid: pid, ppid: st.PPID, w: w})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out
}

type peer struct {
	pid, ppid int
	w         *worker
}

func (c *coordinator) command(cmd, arg string) reply {
	header := fmt.Sprintf("Coordinator:\n  Host: localhost\n  Port: %s\n", c.port)
	switch cmd {
	case "s":
		c.mu.Lock()
		n := len(c.peers())
		running := n > 0 && !c.checkpointing && time.Now().After(c.joiningUntil)
		c.mu.Unlock()
		return reply{Out: fmt.Sprintf("%sStatus...\n  NUM_PEERS=%d\n  RUNNING=%s\n  CKPT_INTERVAL=%s\n",
			header, n, map[bool]string{true: "yes", false: "no"}[running], intervalText(c.interval))}
	case "l":
		c.mu.Lock()
		defer c.mu.Unlock()
		var b strings.Builder
		b.WriteString(header + "Client List:\n#, PROG[virtPID:realPID]@HOST, DMTCP-UNIQUEPID, STATE, BARRIER\n")
		for i, p := range c.peers() {
			v := c.identity(p.pid)
			state := "WorkerState::RUNNING"
			if c.checkpointing {
				state = "WorkerState::CHECKPOINTING"
			}
			fmt.Fprintf(&b, "%d, %s[%d:%d]@localhost, %s-%d-%s, %s, \n", i+1, v.prog, v.virt, p.pid, hostID(), v.virt, v.stamp, state)
		}
		return reply{Out: b.String()}
	case "c", "bc":
		if !c.start() {
			return reply{Err: notRunning, Code: 2}
		}
		if cmd == "bc" && os.Getenv("DMTCP_DOUBLE_BLOCKING") != "" {
			c.checkpointBody()
			return reply{}
		}
		// DMTCP 3.1-4.2.0: --bcheckpoint does not wait.
		go c.checkpointBody()
		return reply{}
	case "kc":
		if c.start() {
			go func() { c.checkpointBody(); c.kill() }()
		}
		return reply{Out: "checkpointed and killed\n", Code: 2}
	case "k":
		c.kill()
		return reply{}
	case "q":
		c.kill()
		go func() {
			time.Sleep(100 * time.Millisecond)
			c.note("killing all connected peers and quitting ...")
			os.Exit(0)
		}()
		return reply{}
	case "i":
		// A no-op in DMTCP 3.1-4.2.0, which still reports success.
		return reply{Out: fmt.Sprintf("Interval changed to %s\n", arg)}
	}
	return reply{Err: "unknown command " + cmd, Code: 1}
}

func intervalText(d time.Duration) string {
	if d == 0 {
		return "0 (checkpoint manually)"
	}
	return strconv.Itoa(int(d / time.Second))
}

// identity gives a process its virtual pid, the first time it is seen.
// Called with c.mu held.
func (c *coordinator) identity(pid int) *vproc {
	v, ok := c.procs[pid]
	if !ok {
		prog := "?"
		if data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
			prog = strings.TrimSpace(string(data))
		}
		v = &vproc{virt: c.nextVirt, stamp: strconv.FormatInt(time.Now().UnixNano()/1000, 16), prog: prog}
		c.nextVirt++
		c.procs[pid] = v
	}
	return v
}

func (c *coordinator) checkpoint() {
	if c.start() {
		c.checkpointBody()
	}
}

// start marks a checkpoint as under way (RUNNING=no); false if one already
// is or there is nothing to checkpoint.
func (c *coordinator) start() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checkpointing || len(c.workers) == 0 {
		return false
	}
	if n, _ := strconv.Atoi(os.Getenv("DMTCP_DOUBLE_REFUSE_CHECKPOINTS")); c.refused < n {
		// DMTCP refuses because a joining process is not RUNNING yet,
		// and --status says RUNNING=no for the same reason.
		c.refused++
		c.joiningUntil = time.Now().Add(30 * time.Millisecond)
		return false
	}
	c.checkpointing = true
	c.note("starting checkpoint; suspending all nodes")
	return true
}

// image is what the double saves of one process.
type image struct {
	Magic        string   `json:"magic"`
	DMTCPVersion string   `json:"dmtcp_version"`
	Virt         int      `json:"virt"`
	ParentVirt   int      `json:"parent_virt"`
	Stamp        string   `json:"stamp"`
	Prog         string   `json:"prog"`
	Exe          string   `json:"exe"`
	Argv         []string `json:"argv"`
	Env          []string `json:"env"`
	Cwd          string   `json:"cwd"`
	LaunchCwd    string   `json:"launch_cwd"`
	Cooperative  bool     `json:"cooperative"`
	State        []byte   `json:"state,omitempty"`
	OpenFiles    []string `json:"open_files,omitempty"`
	Gzip         bool     `json:"gzip"`
}

const imageMagic = "dmtcp-condor test double image"

func (c *coordinator) checkpointBody() {
	defer func() {
		c.mu.Lock()
		c.checkpointing = false
		c.mu.Unlock()
	}()
	// RUNNING=no is visible at once; the job stops a little later.
	time.Sleep(envDuration("DMTCP_DOUBLE_SUSPEND_DELAY", 40*time.Millisecond))
	c.mu.Lock()
	peers := c.peers()
	ids := map[int]*vproc{}
	for _, p := range peers {
		ids[p.pid] = c.identity(p.pid)
	}
	c.mu.Unlock()
	if len(peers) == 0 {
		return
	}
	coop := map[int]bool{}
	asked := map[int]bool{}
	resume := func(ps []peer) {
		for _, p := range ps {
			syscall.Kill(p.pid, syscall.SIGCONT)
			os.Remove(c.stateFile(p.pid))
		}
	}
	// Cooperating processes first, until no new one appears: one may be
	// waiting for a child (a shell for its sleep) before it can run its
	// handler, so the other processes are stopped only once every
	// cooperating one has saved its state and stopped itself.
	for {
		var batch []peer
		for _, p := range peers {
			if _, ok := coop[p.pid]; !ok {
				coop[p.pid] = cooperative(p.pid)
			}
			if coop[p.pid] && !asked[p.pid] {
				asked[p.pid] = true
				os.Remove(c.stateFile(p.pid))
				syscall.Kill(p.pid, syscall.SIGUSR2)
				batch = append(batch, p)
			}
		}
		if len(batch) == 0 {
			break
		}
		if err := c.waitSuspended(batch, coop); err != nil {
			c.note("checkpoint abandoned: %v", err)
			resume(peers)
			return
		}
		c.mu.Lock()
		peers = c.peers()
		c.mu.Unlock()
	}
	var others []peer
	for _, p := range peers {
		if !coop[p.pid] {
			syscall.Kill(p.pid, syscall.SIGSTOP)
			others = append(others, p)
		}
	}
	if err := c.waitSuspended(others, coop); err != nil {
		c.note("checkpoint abandoned: %v", err)
		resume(peers)
		return
	}
	// A process that exited while the others were being suspended is
	// left out, as DMTCP's coordinator releases its barrier without a
	// worker that disconnects (a shell's short-lived sleep, say).
	peers = stillThere(peers)
	if len(peers) == 0 {
		return
	}
	c.mu.Lock()
	for _, p := range peers {
		ids[p.pid] = c.identity(p.pid)
	}
	c.mu.Unlock()
	defer resume(peers)
	var temps []string
	byDir := map[string][]string{}
	for _, p := range peers {
		v := ids[p.pid]
		img := c.snapshot(p, v, ids, coop[p.pid])
		dir := p.w.ckptDir
		name := filepath.Join(dir, fmt.Sprintf("ckpt_%s_%s-%d-%s.dmtcp", v.prog, hostID(), v.virt, v.stamp))
		if err := writeImage(name+".temp", img); err != nil {
			// DMTCP asserts that the write succeeded: the process dies
			// with DMTCP_FAIL_RC and takes the computation with it.
			c.note("cannot write image %s: %v", name, err)
			for _, p := range peers {
				markExit(c.dir, p.pid, p.w.failRC)
			}
			return
		}
		temps = append(temps, name+".temp")
		byDir[dir] = append(byDir[dir], name)
	}
	time.Sleep(envDuration("DMTCP_DOUBLE_WRITE_TIME", 250*time.Millisecond))
	var all []string
	for _, t := range temps {
		final := strings.TrimSuffix(t, ".temp")
		if err := os.Rename(t, final); err != nil {
			c.note("rename %s: %v", t, err)
		}
		all = append(all, final)
		// One by one, as DMTCP does: a kill in between mixes generations.
		time.Sleep(envDuration("DMTCP_DOUBLE_RENAME_GAP", 5*time.Millisecond))
	}
	if err := c.writeRestartScript(all, peers); err != nil {
		// Real DMTCP's coordinator crashes here too.
		fmt.Fprintf(os.Stderr, "dmtcp_coordinator: cannot write restart script: %v\n", err)
		os.Exit(1)
	}
	c.note("Checkpoint complete; all workers running")
}

// stillThere is the processes that have not exited.
func stillThere(peers []peer) []peer {
	var out []peer
	for _, p := range peers {
		if st, ok := procStat(p.pid); ok && st.State != 'Z' {
			out = append(out, p)
		}
	}
	return out
}

func (c *coordinator) stateFile(pid int) string {
	return filepath.Join(c.dir, strconv.Itoa(pid)+".state")
}

// waitSuspended waits until every process has stopped (a cooperating one
// after saving its state). A process that exits meanwhile is no reason to
// wait longer or to give up: DMTCP goes on without a worker that
// disconnects.
func (c *coordinator) waitSuspended(peers []peer, coop map[int]bool) error {
	deadline := time.Now().Add(envDuration("DMTCP_DOUBLE_SUSPEND_TIMEOUT", 30*time.Second))
	for _, p := range peers {
		for {
			st, ok := procStat(p.pid)
			if !ok || st.State == 'Z' {
				c.note("client exited during the checkpoint; going on without it (pid = %d)", p.pid)
				break
			}
			_, err := os.Stat(c.stateFile(p.pid))
			if st.State == 'T' && (!coop[p.pid] || err == nil) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("process %d did not suspend", p.pid)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

// snapshot records one suspended process. Called without c.mu.
func (c *coordinator) snapshot(p peer, v *vproc, ids map[int]*vproc, coop bool) image {
	proc := "/proc/" + strconv.Itoa(p.pid)
	img := image{
		Magic: imageMagic, DMTCPVersion: Version, Virt: v.virt, Stamp: v.stamp, Prog: v.prog,
		LaunchCwd: p.w.launchCwd, Cooperative: coop, Gzip: p.w.gzip,
	}
	if pv, ok := ids[p.ppid]; ok {
		img.ParentVirt = pv.virt
	}
	img.Exe, _ = os.Readlink(proc + "/exe")
	img.Cwd, _ = os.Readlink(proc + "/cwd")
	if data, err := os.ReadFile(proc + "/cmdline"); err == nil {
		img.Argv = splitNUL(data)
	}
	if data, err := os.ReadFile(proc + "/environ"); err == nil {
		img.Env = splitNUL(data)
	}
	if coop {
		img.State, _ = os.ReadFile(c.stateFile(p.pid))
	}
	fds, _ := os.ReadDir(proc + "/fd")
	for _, fd := range fds {
		n, _ := strconv.Atoi(fd.Name())
		if n < 3 || n >= 820 {
			continue
		}
		target, err := os.Readlink(proc + "/fd/" + fd.Name())
		if err != nil || !filepath.IsAbs(target) || strings.HasSuffix(target, " (deleted)") {
			continue
		}
		if st, err := os.Stat(proc + "/fd/" + fd.Name()); err == nil && st.Mode().IsRegular() {
			img.OpenFiles = append(img.OpenFiles, target)
		}
	}
	return img
}

func splitNUL(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

func writeImage(path string, img image) error {
	data, err := json.Marshal(img)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if img.Gzip {
		zw := gzip.NewWriter(f)
		if _, err := zw.Write(data); err != nil {
			f.Close()
			return err
		}
		if err := zw.Close(); err != nil {
			f.Close()
			return err
		}
	} else if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *coordinator) writeRestartScript(images []string, peers []peer) error {
	if _, err := os.Stat(c.ckptDir); err != nil {
		return err
	}
	root := FirstVirtualPID
	c.mu.Lock()
	if len(peers) > 0 {
		root = c.identity(peers[0].w.root).virt
	}
	c.mu.Unlock()
	uniq := fmt.Sprintf("dmtcp_restart_script_%s-%d-%s.sh", hostID(), root, c.stamp)
	self, _ := os.Executable()
	restart := filepath.Join(filepath.Dir(self), "dmtcp_restart")
	script := fmt.Sprintf(`#!/bin/bash
# Restart script written by the dmtcp-condor TEST DOUBLE of DMTCP %s.
set -m
coord_host=$DMTCP_COORD_HOST
if test -z "$DMTCP_COORD_HOST"; then coord_host=localhost; fi
coord_port=$DMTCP_COORD_PORT
if test -z "$DMTCP_COORD_PORT"; then coord_port=7779; fi
dmt_rstr_cmd=%s

given_ckpt_files="%s"

exec $dmt_rstr_cmd --coord-host $coord_host --coord-port $coord_port $given_ckpt_files
`, Version, restart, " "+strings.Join(images, " "))
	path := filepath.Join(c.ckptDir, uniq)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o744); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	link := filepath.Join(c.ckptDir, "dmtcp_restart_script.sh")
	if err := os.Symlink(uniq, link); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// kill ends every process: cooperating ones exit 0 as under DMTCP, the
// others get SIGKILL.
func (c *coordinator) kill() {
	c.mu.Lock()
	peers := c.peers()
	c.mu.Unlock()
	c.note("Killing all connected peers...")
	for _, p := range peers {
		markExit(c.dir, p.pid, 0)
	}
}

// markExit makes a process exit with code: a cooperating one by itself,
// any other with SIGKILL.
func markExit(dir string, pid, code int) {
	if cooperative(pid) {
		_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)+".exit"), []byte(strconv.Itoa(code)), 0o600)
		syscall.Kill(pid, syscall.SIGUSR2)
		syscall.Kill(pid, syscall.SIGCONT)
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
