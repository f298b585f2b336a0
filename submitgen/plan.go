package submitgen

import (
	"cmp"
	"fmt"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Names the generator gives to files in the job's sandbox. They are part of
// the contract with shim_dmtcp (see README.md, "The shim"): the shim writes
// them, HTCondor carries them between runs and back to the submitter.
const (
	ckptDir          = "dmtcp_checkpoints"
	shimLog          = "dmtcp.$(Cluster).$(Process).log"
	shimOut          = "shim.$(Cluster).$(Process).out" // the submit file's output: the shim's own stdout
	shimErr          = "shim.$(Cluster).$(Process).err"
	eventLog         = "job.$(Cluster).log"
	defaultStdout    = "job.{cluster}.{process}.out"
	defaultStderr    = "job.{cluster}.{process}.err"
	defaultExitCode  = 85
	defaultSignal    = Signal("SIGINT")
	defaultShim      = InstalledShim
	bundleShim       = "bin/shim_dmtcp"
	itemVar          = "Item"
	firstShimFailure = 240
	// defaultCompressBudget is how long a self-checkpoint exit may spend
	// compressing: 4 cores at level 1 do several GiB in that time.
	defaultCompressBudget = Duration(2 * 60 * 1e9)
)

// DefaultInterval is the time between periodic checkpoints of a
// description that gives none, and what the wizard offers. The interval
// field's help and templates/example.yaml say it too (tied by
// TestDefaultsAreTaught).
const DefaultInterval = Duration(30 * 60 * 1e9)

// InstalledShim is where the dmtcp-condor packages install shim_dmtcp, in
// InstalledShimDir, and the shim a description with dmtcp.prefix uses
// unless shim.path says otherwise. Package packaging puts it there, and
// bundle.ShimCandidates finds it from the installed tool.
const (
	InstalledShimDir = "/usr/libexec/dmtcp-condor"
	InstalledShim    = InstalledShimDir + "/shim_dmtcp"
)

// MaxJobsPerSubmission is HTCondor's default MAX_JOBS_PER_SUBMISSION: a
// description may queue at most this many jobs.
const MaxJobsPerSubmission = 20000

// ShimExitCodes are shim_dmtcp's infrastructure-failure exit codes with the
// hold reason shown to the user. They mirror the shim's contract; a job that
// exits with one is held (not rerun, not reported as done) so the user sees
// why in condor_q -hold.
var ShimExitCodes = []ExitCode{
	{240, "the shim was given a bad option or value"},
	{241, "DMTCP is missing or incomplete on the execute node"},
	{242, "the DMTCP coordinator failed to start"},
	{243, "DMTCP failed to launch or run the program"},
	{244, "restarting from the checkpoint failed"},
	{245, "the checkpoint does not fit this machine or DMTCP version"},
	{246, "files the checkpointed program had open are missing here"},
	{247, "writing a checkpoint failed"},
	{248, "the checkpoint directory is unusable"},
	{249, "internal error in the shim"},
	{250, "every saved checkpoint is damaged (kept aside as bad-gen-N in the checkpoint directory, nothing deleted); restore a good copy, or set checkpoint.fresh_start to start over"},
	{251, "the restart from the checkpoint hung (not running within the shim's --restart-timeout); release the job to try again"},
}

// ExitCode pairs a shim exit code with its human-readable meaning.
type ExitCode struct {
	Code   int
	Reason string
}

// build checks the job and computes everything the template shows. It is the
// one place where the description's rules live; Validate and Render both use
// it so a description that validates always renders.
func (j *Job) build() (*View, error) {
	return (&builder{job: j, src: j.src}).run()
}

func (b *builder) run() (*View, error) {
	if err := b.checkText(); err != nil {
		return nil, err
	}
	steps := []func() error{b.queue, b.program, b.stdio, b.inputFiles, b.dmtcp, b.names, b.checkpoint, b.arguments, b.environment, b.platform, b.resources, b.extra}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.v.HoldCodes = ShimExitCodes
	b.v.OnExitHold, b.v.OnExitHoldReason, b.v.OnExitHoldSubcode = holdExpressions()
	return &b.v, nil
}

// Warnings lists what in the description is allowed but probably not what
// the user meant, each an *Error naming the line and the choice to make.
// It is empty when the description does not validate (see Validate).
func (j *Job) Warnings() []error {
	b := &builder{job: j, src: j.src}
	if _, err := b.run(); err != nil {
		return nil
	}
	return b.warnings
}

// Validate reports the first problem in the description as an *Error naming
// the line (when decoded from a file) and the fix.
func (j *Job) Validate() error {
	_, err := j.build()
	return err
}

// builder carries the state of one build.
type builder struct {
	job      *Job
	src      *source
	v        View
	hasItems bool
	jobs     int // number of jobs queued, 2 meaning "more than one"
	inputs   []string
	shimArgs []word
	runName  string // how the shim runs the program in the sandbox
	stdout   word
	stderr   word
	warnings []error // problems that do not stop rendering
}

func (b *builder) errorf(path, format string, args ...any) error {
	return b.src.errorf(path, format, args...)
}

// checkText rejects newline, CR and NUL anywhere in the description: no submit
// command can carry them, and catching them first gives one clear error.
func (b *builder) checkText() error {
	var err error
	walkStrings(reflect.ValueOf(b.job).Elem(), "", func(p, s string) {
		if what, bad := badChar(s); bad && err == nil {
			err = b.errorf(p, "contains %s; a submit file cannot carry newlines, carriage returns or NUL in a value. Put multi-line text in an input file and pass its name", what)
		}
		// condor_submit expands $(DOLLAR) once more after unescaping, so
		// this one text cannot reach the job unchanged.
		if strings.Contains(s, "$(DOLLAR") && err == nil && !strings.HasPrefix(p, "submit") {
			err = b.errorf(p, "contains the text $(DOLLAR), which condor_submit always turns into $; write $ itself (every $ is passed through literally)")
		}
	})
	return err
}

// walkStrings calls fn for every string (and map key) in v with its key path,
// in a stable order.
func walkStrings(v reflect.Value, p string, fn func(path, s string)) {
	switch v.Kind() {
	case reflect.String:
		fn(p, v.String())
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), p, fn)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", p, i), fn)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			fn(p, k.String())
			walkStrings(v.MapIndex(k), joinPath(p, k.String()), fn)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if key := yamlKey(v.Type().Field(i)); key != "" {
				walkStrings(v.Field(i), joinPath(p, key), fn)
			}
		}
	}
}

// placeholders are the only macros a user may use, written in braces so that
// every "$" in a description stays literal.
var placeholders = map[string]string{"{cluster}": "$(Cluster)", "{process}": "$(Process)", "{item}": "$(" + itemVar + ")"}

var placeholderRE = regexp.MustCompile(`\{(cluster|process|item)\}`)

// expand turns user text into a word: literal text plus the macros its
// placeholders stand for.
func (b *builder) expand(p, s string) (word, error) {
	var w word
	last := 0
	for _, m := range placeholderRE.FindAllStringIndex(s, -1) {
		name := s[m[0]:m[1]]
		if name == "{item}" && !b.hasItems {
			return nil, b.errorf(p, "uses {item} but the queue has no items; add queue.items or queue.from_file, or remove {item}")
		}
		w = append(w, segment{text: s[last:m[0]]}, segment{text: placeholders[name], macro: true})
		last = m[1]
	}
	return append(w, segment{text: s[last:]}), nil
}

// plain writes a word outside quotes (file names): literal "$" escaped, macros kept.
func plain(w word) string {
	var sb strings.Builder
	for _, s := range w {
		if s.macro {
			sb.WriteString(s.text)
		} else {
			sb.WriteString(escapeLiteral(s.text))
		}
	}
	return sb.String()
}

// macroWord builds a generator-owned word that may contain $(...) macros.
func macroWord(s string) word { return word{{text: s, macro: true}} }

// fileName checks a path that goes into a comma-separated file list or a
// single-file command.
func (b *builder) fileName(p, s string) error {
	switch {
	case s == "":
		return b.errorf(p, "is empty; give a file name or remove the entry")
	case strings.ContainsRune(s, ','):
		return b.errorf(p, "%q contains a comma, which HTCondor's file lists cannot express; rename the file", s)
	case strings.TrimSpace(s) != s:
		return b.errorf(p, "%q starts or ends with whitespace, which HTCondor trims; rename the file", s)
	case strings.HasSuffix(s, `\`):
		return b.errorf(p, "%q ends with a backslash, which a submit file reads as a line continuation; rename the file", s)
	}
	return nil
}

// fromFileRE is a plain file name for "queue Item from FILE": condor_submit
// reads a trailing | as a command to run, (...) as an inline item list and
// [...] as a slice, and expands $(...), so none of them may appear.
var fromFileRE = regexp.MustCompile(`^[A-Za-z0-9_.@+][A-Za-z0-9_.@+/-]*$`)

func (b *builder) queue() error {
	q := b.job.Queue
	switch {
	case q.Count < 0:
		return b.errorf("queue.count", "is negative (%d); give the number of jobs, such as 10", q.Count)
	case len(q.Items) > 0 && q.FromFile != "":
		return b.errorf("queue", "has both items and from_file; keep one")
	case q.Count == 0 && b.src.has("queue.count"):
		return b.errorf("queue.count", "is 0, which would queue no job; give the number of jobs (1 or more), or remove count for one")
	case q.Count > MaxJobsPerSubmission || q.Count*max(len(q.Items), 1) > MaxJobsPerSubmission: // the first test keeps the product from overflowing
		jobs := fmt.Sprint(q.Count)
		if len(q.Items) > 1 {
			jobs = fmt.Sprintf("%d × %d items =", q.Count, len(q.Items))
			if q.Count <= MaxJobsPerSubmission {
				jobs += fmt.Sprintf(" %d", q.Count*len(q.Items))
			} else {
				jobs += " too many"
			}
		}
		return b.errorf("queue.count", "queues %s jobs, more than HTCondor accepts in one submission by default (MAX_JOBS_PER_SUBMISSION = %d); split the work into several submissions or ask your pool's admin", jobs, MaxJobsPerSubmission)
	}
	count := max(q.Count, 1)
	b.jobs = min(count, 2)
	var qs strings.Builder
	qs.WriteString("queue")
	if count > 1 {
		qs.WriteString(" " + strconv.Itoa(count))
	}
	switch {
	case len(q.Items) > 0:
		for i, it := range q.Items {
			if it == "" || strings.ContainsAny(it, " \t\v\f'\",()$/#") {
				return b.errorf(fmt.Sprintf("queue.items[%d]", i), "%q cannot be a queue item; items must be single words without spaces, quotes, commas, parentheses, $, / or #", it)
			}
		}
		b.hasItems = true
		b.jobs = 2
		fmt.Fprintf(&qs, " %s in (%s)", itemVar, strings.Join(q.Items, " "))
		if len(q.Items) == 1 && count == 1 {
			b.jobs = 1
		}
	case q.FromFile != "":
		if err := b.fileName("queue.from_file", q.FromFile); err != nil {
			return err
		}
		if !fromFileRE.MatchString(q.FromFile) {
			return b.errorf("queue.from_file", "%q is not a plain file name; condor_submit would read it as a command (a |), an inline list (parentheses), a slice ([...]) or a macro ($). Give a file name of letters, digits and . _ - / + @, such as items.txt, or list the items under queue.items", q.FromFile)
		}
		b.hasItems = true
		b.jobs = 2
		fmt.Fprintf(&qs, " %s from %s", itemVar, q.FromFile)
	}
	b.v.Queue = qs.String()
	return nil
}

func (b *builder) program() error {
	j := b.job
	if strings.TrimSpace(j.Program) == "" {
		return b.errorf("program", "is missing; add a line like: program: ./myprogram")
	}
	if placeholderRE.MatchString(j.Program) {
		return b.errorf("program", "cannot use {cluster}, {process} or {item}; pass them in arguments instead")
	}
	if strings.HasSuffix(j.Program, `\`) {
		return b.errorf("program", "%q ends with a backslash, which a submit file reads as a line continuation; rename the program", j.Program)
	}
	b.v.Program = j.Program
	if j.ProgramInstalled {
		b.runName = j.Program
		return nil
	}
	if err := b.fileName("program", j.Program); err != nil {
		return err
	}
	if strings.HasSuffix(j.Program, "/") {
		return b.errorf("program", "%q names a directory; give the program file", j.Program)
	}
	b.inputs = append(b.inputs, plain(literal(j.Program)))
	b.runName = "./" + path.Base(j.Program)
	b.warnOutsideProgram()
	return nil
}

// warnOutsideProgram warns about a program given by an absolute path
// outside the submit directory. It is a warning, not an error: such a path
// is right for the user's own build kept elsewhere (/home/me/build/sim),
// which must be transferred. But a system program (/usr/bin/python3) is
// almost always meant to run from the execute node's own installation;
// sent alone, without its libraries or modules, it fails there as
// ./python3, the commonest first-job mistake. The generator cannot tell
// the two apart, so it says what will happen and how to choose.
func (b *builder) warnOutsideProgram() {
	j := b.job
	if !path.IsAbs(j.Program) {
		return
	}
	dir := "."
	if b.src != nil && b.src.file != "" && b.src.file != "<stdin>" {
		dir = filepath.Dir(b.src.file)
	}
	abs, err := filepath.Abs(dir)
	if err != nil || strings.HasPrefix(path.Clean(j.Program), abs+"/") {
		return
	}
	w := b.src.errorf("program", "warning: %s is outside the submit directory, so it is copied from this machine with the job and run as %s on the execute node. If it is installed there (as system programs such as /usr/bin/python3 are), set program_installed: true to run it in place; if it is your own program, this is what you want (or copy it next to the job description and write ./%s)", j.Program, b.runName, path.Base(j.Program))
	b.warnings = append(b.warnings, w)
}

func (b *builder) stdio() error {
	j := b.job
	if j.Stdin != "" {
		if err := b.fileName("stdin", j.Stdin); err != nil {
			return err
		}
		in, err := b.expand("stdin", j.Stdin)
		if err != nil {
			return err
		}
		b.inputs = append(b.inputs, plain(in))
		base, _ := b.expand("stdin", path.Base(j.Stdin))
		b.shimArgs = append(b.shimArgs, literal("--stdin"), base)
	}
	for _, f := range []struct {
		key, val, def string
		dst           *word
	}{{"stdout", j.Stdout, defaultStdout, &b.stdout}, {"stderr", j.Stderr, defaultStderr, &b.stderr}} {
		name := f.val
		if name == "" {
			name = f.def
		}
		if err := b.fileName(f.key, name); err != nil {
			return err
		}
		if strings.Contains(name, "/") {
			return b.errorf(f.key, "%q has a directory part; give a file name only (HTCondor returns it next to the submit file)", name)
		}
		unique := strings.Contains(name, "{process}") || (strings.Contains(name, "{item}") && max(j.Queue.Count, 1) == 1)
		if b.jobs > 1 && !unique {
			return b.errorf(f.key, "%q is the same for every job in the queue, so the jobs would overwrite each other's output; add {process} to the name, as in %s", name, f.def)
		}
		w, err := b.expand(f.key, name)
		if err != nil {
			return err
		}
		*f.dst = w
	}
	b.shimArgs = append(b.shimArgs, literal("--stdout"), b.stdout, literal("--stderr"), b.stderr)
	return nil
}

// names rejects files that would land on each other, or on a name the
// generator or the shim uses, in the job's sandbox or next to the submit
// file: HTCondor would silently overwrite one with the other (stdout named
// as the program overwrites the program; stdin equal to stdout is emptied
// by the first write).
func (b *builder) names() error {
	j := b.job
	type claim struct{ key, what string }
	taken := map[string]claim{}
	for name, what := range map[string]string{
		ckptDir: "the shim's checkpoint directory", shimLog: "the shim's log",
		shimOut: "the shim's own stdout (the submit file's output)", shimErr: "the shim's own stderr (the submit file's error)",
		eventLog: "the job's event log",
	} {
		taken[name] = claim{"", what}
	}
	if j.DMTCP.Bundle != "" && j.Engine != EngineCondorSyscall {
		taken["bin"] = claim{"dmtcp.bundle", "the DMTCP bundle's bin directory"}
		taken["lib"] = claim{"dmtcp.bundle", "the DMTCP bundle's lib directory"}
	}
	if !j.ProgramInstalled {
		taken[path.Base(j.Program)] = claim{"program", "the program"}
	}
	for i, f := range j.InputFiles {
		if !strings.HasSuffix(f, "/") {
			w, _ := b.expand("", path.Base(f))
			if _, ok := taken[plain(w)]; !ok {
				taken[plain(w)] = claim{fmt.Sprintf("input_files[%d]", i), "an input file"}
			}
		}
	}
	if j.Stdin != "" {
		w, _ := b.expand("stdin", path.Base(j.Stdin))
		taken[plain(w)] = claim{"stdin", "stdin"}
	}
	for _, f := range []struct {
		key, raw string // raw: as the user wrote it, for messages
		w        word
	}{{"stdout", cmp.Or(j.Stdout, defaultStdout), b.stdout}, {"stderr", cmp.Or(j.Stderr, defaultStderr), b.stderr}} {
		name := plain(f.w)
		if name == "." || name == ".." {
			return b.errorf(f.key, "%q is a directory, not a file name; give a file name such as job.{cluster}.{process}.%s", f.raw, strings.TrimPrefix(f.key, "std"))
		}
		if c, ok := taken[name]; ok {
			fix := "choose another name, such as job.{cluster}.{process}." + strings.TrimPrefix(f.key, "std")
			switch {
			case c.key == "":
				return b.errorf(f.key, "%q is %s; %s", f.raw, c.what, fix)
			case c.key == "stdin":
				return b.errorf(f.key, "%q is also stdin: the program would read the file its own output empties; %s", f.raw, fix)
			case c.key == "stdout":
				return b.errorf(f.key, "%q is also stdout (%s): the two streams would overwrite each other; %s", f.raw, b.where("stdout"), fix)
			default:
				return b.errorf(f.key, "%q is also the sandbox name of %s (%s), which the job's output would overwrite; %s", f.raw, c.what, b.where(c.key), fix)
			}
		}
		taken[name] = claim{f.key, f.key}
	}
	return nil
}

// where names a key and, when known, its line: "stdout, line 4".
func (b *builder) where(key string) string {
	if l := b.src.lineOf(key); l > 0 {
		return fmt.Sprintf("%s, line %d", key, l)
	}
	return key
}

func (b *builder) inputFiles() error {
	for i, f := range b.job.InputFiles {
		p := fmt.Sprintf("input_files[%d]", i)
		if err := b.fileName(p, f); err != nil {
			return err
		}
		w, err := b.expand(p, f)
		if err != nil {
			return err
		}
		b.inputs = append(b.inputs, plain(w))
	}
	return nil
}

func (b *builder) dmtcp() error {
	d, s := b.job.DMTCP, b.job.Shim
	shimPath, installed := s.Path, false
	b.v.Engine = string(EngineDMTCP)
	if b.job.Engine == EngineCondorSyscall {
		return b.condorSyscall()
	}
	switch {
	case d.Bundle != "" && d.Prefix != "":
		return b.errorf("dmtcp", "sets both bundle and prefix; keep bundle to send DMTCP with the job, or prefix if it is installed on every execute node")
	case d.Bundle != "":
		if err := b.fileName("dmtcp.bundle", d.Bundle); err != nil {
			return err
		}
		// Transfer bin and lib without a trailing slash so the sandbox gets
		// bin/ and lib/dmtcp/ side by side: DMTCP finds its pieces relative
		// to its own binary, and the shim finds DMTCP in its working dir.
		root := path.Clean(d.Bundle)
		for _, sub := range []string{"bin", "lib"} {
			if err := b.noClash(sub); err != nil {
				return err
			}
			b.inputs = append(b.inputs, plain(literal(path.Join(root, sub))))
		}
		if shimPath == "" {
			shimPath = path.Join(root, bundleShim)
		}
		b.shimArgs = append(b.shimArgs, literal("--dmtcp-prefix"), literal("."))
	case d.Prefix != "":
		if !path.IsAbs(d.Prefix) {
			return b.errorf("dmtcp.prefix", "%q is not an absolute path; give where DMTCP is installed on the execute nodes, such as /opt/dmtcp", d.Prefix)
		}
		if shimPath == "" {
			shimPath, installed = defaultShim, true
		}
		b.shimArgs = append(b.shimArgs, literal("--dmtcp-prefix"), literal(d.Prefix))
	default:
		return b.errorf("dmtcp", "is missing; add dmtcp.bundle (a dmtcp_condor_integration directory sent with each job) or dmtcp.prefix (where DMTCP is installed on the execute nodes)")
	}
	return b.setShim(shimPath, installed)
}

// condorSyscall sets up a job whose program checkpoints itself through
// HTCondor's old checkpoint library: no DMTCP goes with it, only the shim.
func (b *builder) condorSyscall() error {
	d, s := b.job.DMTCP, b.job.Shim
	b.v.Engine = string(EngineCondorSyscall)
	if d.Prefix != "" {
		return b.errorf("dmtcp.prefix", "does not apply to engine condor-syscall, which needs no DMTCP; remove it (a dmtcp.bundle may still provide the shim)")
	}
	if b.job.Checkpoint.Compress != nil {
		return b.errorf("checkpoint.compress", "applies to DMTCP images only; remove it for engine condor-syscall")
	}
	shimPath, installed := s.Path, false
	switch {
	case shimPath != "":
	case d.Bundle != "":
		if err := b.fileName("dmtcp.bundle", d.Bundle); err != nil {
			return err
		}
		shimPath = path.Join(path.Clean(d.Bundle), bundleShim)
	default:
		shimPath, installed = defaultShim, true
	}
	b.shimArgs = append(b.shimArgs, literal("--engine"), literal(string(EngineCondorSyscall)))
	return b.setShim(shimPath, installed)
}

// setShim makes shimPath the executable; shim.installed overrides whether
// it is on the execute node already or sent from here (then it must be a
// file name the submit file can carry).
func (b *builder) setShim(shimPath string, installed bool) error {
	if b.job.Shim.Installed != nil {
		installed = *b.job.Shim.Installed
	}
	if !installed {
		if err := b.fileName("shim.path", shimPath); err != nil {
			return err
		}
	}
	b.v.Executable = plain(literal(shimPath))
	b.v.TransferExecutable = !installed
	return nil
}

// noClash rejects a transferred input whose name in the sandbox would collide
// with a bundle directory.
func (b *builder) noClash(name string) error {
	for i, f := range b.job.InputFiles {
		if path.Base(f) == name && !strings.HasSuffix(f, "/") {
			return b.errorf(fmt.Sprintf("input_files[%d]", i), "%q would land in the job's sandbox as %s/, where the DMTCP bundle goes; rename it or transfer it inside a directory", f, name)
		}
	}
	if !b.job.ProgramInstalled && path.Base(b.job.Program) == name {
		return b.errorf("program", "%q would land in the job's sandbox as %s, where the DMTCP bundle goes; rename it", b.job.Program, name)
	}
	return nil
}

func (b *builder) checkpoint() error {
	c := b.job.Checkpoint
	mode := c.Mode
	if mode == "" {
		mode = ModeBoth
	}
	interval := DefaultInterval
	if c.Interval != nil {
		interval = *c.Interval
	}
	if interval < 0 {
		return b.errorf("checkpoint.interval", "is negative (%s); use a positive duration such as 30m or 1800, or 0 for no periodic checkpoints", interval)
	}
	selfCkpt := mode != ModeEvict
	if selfCkpt && interval == 0 {
		return b.errorf("checkpoint.interval", "is 0, but mode %s checkpoints every interval; set an interval such as 30m, or use mode: evict", mode)
	}
	code := c.ExitCode
	if code == 0 && b.src.has("checkpoint.exit_code") {
		return b.errorf("checkpoint.exit_code", "is 0, which HTCondor takes as the job's success, not a checkpoint; use a code from 1 to %d or %d to 255 (85 is conventional), or remove exit_code for 85", firstShimFailure-1, firstShimFailure+len(ShimExitCodes))
	}
	if code == 0 {
		code = defaultExitCode
	}
	if code < 1 || code > 255 || (code >= firstShimFailure && code < firstShimFailure+len(ShimExitCodes)) {
		return b.errorf("checkpoint.exit_code", "%d cannot be the checkpoint exit code; use a code from 1 to %d or %d to 255 (85 is conventional)", c.ExitCode, firstShimFailure-1, firstShimFailure+len(ShimExitCodes))
	}
	sig := c.Signal
	if sig == "" {
		sig = defaultSignal
	}
	if c.VacateTime != nil {
		if *c.VacateTime <= 0 {
			return b.errorf("checkpoint.vacate_time", "must be positive (got %s); give how long a checkpoint may take, such as 5m", *c.VacateTime)
		}
		b.v.VacateTime = c.VacateTime.Seconds()
	}
	b.v.Mode = string(mode)
	b.v.IntervalSeconds = interval.Seconds()
	b.v.KillSig = string(sig)
	outs, err := b.outputFiles()
	if err != nil {
		return err
	}
	// Every file the description names goes in both lists: HTCondor keeps
	// nothing else of the sandbox, neither at an eviction (a new sandbox
	// gets the spooled files and the inputs only) nor at a self-checkpoint,
	// and a program restarted without a file it had open fails (DMTCP
	// asserts, shim exit 243). The checkpoint directory is left out at exit
	// in mode self: nothing resumes from it then.
	b.v.WhenToTransferOutput = "ON_EXIT_OR_EVICT"
	if mode == ModeSelf {
		b.v.WhenToTransferOutput = "ON_EXIT"
		b.v.TransferOutputFiles = strings.Join(outs, ", ")
	} else {
		b.v.TransferOutputFiles = strings.Join(append([]string{ckptDir}, outs...), ", ")
	}
	b.shimArgs = append(b.shimArgs,
		literal("--ckptint"), literal(strconv.FormatInt(interval.Seconds(), 10)),
		literal("--signal"), literal(string(sig)),
		literal("--ckpt-dir"), literal(ckptDir))
	if selfCkpt {
		b.v.CheckpointExitCode = code
		b.v.TransferCheckpointFiles = strings.Join(append([]string{ckptDir}, outs...), ", ")
		b.shimArgs = append(b.shimArgs, literal("--exit-after-checkpoint"), literal("--checkpoint-exit-code"), literal(strconv.Itoa(code)))
	}
	compress := c.Compress == nil || *c.Compress
	if !compress {
		b.shimArgs = append(b.shimArgs, literal("--no-compress"))
	}
	if c.CompressBudget != nil && (!selfCkpt || !compress) {
		return b.errorf("checkpoint.compress_budget", "applies only to modes self and both with compress on; remove it")
	}
	if selfCkpt && compress {
		budget := defaultCompressBudget
		if c.CompressBudget != nil {
			if *c.CompressBudget < 0 {
				return b.errorf("checkpoint.compress_budget", "is negative; give a duration such as 2m, or 0 never to compress before a self-checkpoint exit")
			}
			budget = *c.CompressBudget
		}
		if budget > 0 {
			b.shimArgs = append(b.shimArgs, literal("--compress-budget"), literal(strconv.FormatInt(budget.Seconds(), 10)))
		}
	}
	if c.FreshStart {
		b.shimArgs = append(b.shimArgs, literal("--fresh-start"))
	}
	if b.v.VacateTime > 0 {
		// A checkpoint that hangs past HTCondor's SIGKILL tells nobody
		// why; the shim gives up first, keeps the previous checkpoint
		// and exits 247, which holds the job with that reason.
		b.shimArgs = append(b.shimArgs, literal("--ckpt-timeout"), literal(strconv.FormatInt(ckptTimeout(b.v.VacateTime), 10)))
	}
	return nil
}

// outputFiles lists, in submit syntax, what comes back with the job besides
// the checkpoint: stdout, stderr, the shim's log and output_files. A file in
// a subdirectory is transferred as its top-level directory: HTCondor returns
// "results/log.txt" as plain "log.txt" (and restores it so in the next
// sandbox, where the program would not find it), and "results/" as the
// directory's contents, while "results" keeps the tree as it is.
func (b *builder) outputFiles() ([]string, error) {
	outs := []string{plain(b.stdout), plain(b.stderr), shimLog}
	for i, f := range b.job.OutputFiles {
		p := fmt.Sprintf("output_files[%d]", i)
		if err := b.fileName(p, f); err != nil {
			return nil, err
		}
		clean := path.Clean(f)
		switch {
		case path.IsAbs(f):
			return nil, b.errorf(p, "%q is an absolute path; name files relative to the job's working directory, such as results/out.txt", f)
		case clean == "." || clean == ".." || strings.HasPrefix(clean, "../"):
			return nil, b.errorf(p, "%q is not inside the job's working directory; name a file or directory in it, such as results/", f)
		}
		top, _, _ := strings.Cut(clean, "/")
		w, err := b.expand(p, top)
		if err != nil {
			return nil, err
		}
		outs = append(outs, plain(w))
	}
	return dedupe(outs), nil
}

// ckptTimeout leaves the shim time within the vacate time to stop the job
// after giving up a checkpoint (up to 15 s, then 2 s for its coordinator)
// and exit.
func ckptTimeout(vacateSeconds int64) int64 {
	if vacateSeconds > 50 {
		return vacateSeconds - 25
	}
	return (vacateSeconds + 1) / 2
}

func (b *builder) arguments() error {
	if b.job.Platform.SameAsFirstCheckpoint {
		b.shimArgs = append(b.shimArgs, literal("--chirp-platform"))
	}
	words := append([]word{literal("--log"), macroWord(shimLog)}, b.shimArgs...)
	words = append(words, literal("--"), literal(b.runName))
	for i, a := range b.job.Arguments {
		w, err := b.expand(fmt.Sprintf("arguments[%d]", i), a)
		if err != nil {
			return err
		}
		words = append(words, w)
	}
	args, err := quoteWords(words)
	if err != nil {
		return fmt.Errorf("encoding arguments: %w", err)
	}
	b.v.Arguments = args
	b.v.TransferInputFiles = strings.Join(dedupe(b.inputs), ", ")
	b.v.Output, b.v.Error, b.v.Log = shimOut, shimErr, eventLog
	b.v.DMTCPLog = shimLog
	b.v.Stdout, b.v.Stderr = plain(b.stdout), plain(b.stderr)
	return nil
}

// dedupe drops repeated entries, keeping the first, so listing the program or
// stdin again in input_files does not transfer it twice.
func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order, so output and the choice of the
// first error never depend on map iteration order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// generatorEnv are variables the generator sets itself.
var generatorEnv = []EnvVar{{"DMTCP_TMPDIR", "."}}

func (b *builder) environment() error {
	type entry struct {
		name string
		w    word
	}
	var entries []entry
	for _, g := range generatorEnv {
		entries = append(entries, entry{g.Name, envWord(g.Name, literal(g.Value))})
	}
	for _, name := range sortedKeys(b.job.Environment) {
		val := b.job.Environment[name]
		p := joinPath("environment", name)
		switch {
		case !validEnvName(name):
			return b.errorf(p, "%q is not a valid variable name; use letters, digits and _, not starting with a digit", name)
		case strings.HasPrefix(name, "SHIM_DMTCP_"):
			return b.errorf(p, "%s would change a shim option behind the generator's back; set it through the description's own fields", name)
		}
		for _, g := range generatorEnv {
			if name == g.Name {
				return b.errorf(p, "%s is set by the generator (DMTCP's temporary files stay in the job's sandbox); remove it", name)
			}
		}
		w, err := b.expand(p, val)
		if err != nil {
			return err
		}
		entries = append(entries, entry{name, envWord(name, w)})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	words := make([]word, len(entries))
	for i, e := range entries {
		words[i] = e.w
	}
	env, err := quoteWords(words)
	if err != nil {
		return fmt.Errorf("encoding environment: %w", err)
	}
	b.v.Environment = env
	return nil
}

var (
	attrValueRE = regexp.MustCompile(`^[A-Za-z0-9_.+-]+$`)
	cpuFlagRE   = regexp.MustCompile(`^[a-z0-9_]+$`)
)

func (b *builder) platform() error {
	p := b.job.Platform
	var clauses []string
	for _, a := range []struct{ key, attr, val string }{
		{"arch", "Arch", p.Arch}, {"opsys", "OpSys", p.OpSys},
		{"opsys_and_ver", "OpSysAndVer", p.OpSysAndVer}, {"microarch", "Microarch", p.Microarch},
	} {
		if a.val == "" {
			continue
		}
		if !attrValueRE.MatchString(a.val) {
			return b.errorf("platform."+a.key, "%q is not a %s value; machines advertise values like X86_64, LINUX, Debian12, x86_64-v3 (see condor_status -af %s)", a.val, a.attr, a.attr)
		}
		clauses = append(clauses, fmt.Sprintf("TARGET.%s == %q", a.attr, a.val))
	}
	for i, f := range p.CPUFlags {
		flag := strings.TrimPrefix(strings.ToLower(f), "has_")
		if !cpuFlagRE.MatchString(flag) {
			return b.errorf(fmt.Sprintf("platform.cpu_flags[%d]", i), "%q is not a CPU flag name; use names like avx2 or sse4_2 (machine attributes has_avx2, has_sse4_2)", f)
		}
		clauses = append(clauses, fmt.Sprintf("TARGET.has_%s =?= true", flag))
	}
	if p.SameAsFirstCheckpoint {
		for _, attr := range []string{"Arch", "OpSys", "OpSysAndVer", "Microarch"} {
			clauses = append(clauses, fmt.Sprintf("(MY.DMTCPCkpt%[1]s =?= UNDEFINED || TARGET.%[1]s =?= MY.DMTCPCkpt%[1]s)", attr))
		}
		b.v.WantIOProxy = true
	}
	for _, l := range []struct{ key, attr, val string }{
		{"checkpoint_platform", "CheckpointPlatform", p.Legacy.CheckpointPlatform},
		{"os_kernel_release", "OSKernelRelease", p.Legacy.OSKernelRelease},
	} {
		if l.val == "" {
			continue
		}
		if strings.ContainsAny(l.val, `"\`) {
			return b.errorf("platform.legacy."+l.key, "%q contains a quote or backslash; copy the value exactly as condor_status prints it, without quotes", l.val)
		}
		clauses = append(clauses, fmt.Sprintf("TARGET.%s == \"%s\"", l.attr, strings.ReplaceAll(l.val, "$", dollar)))
		b.v.Legacy = true
	}
	if r := strings.TrimSpace(p.Requirements); r != "" {
		if strings.HasSuffix(r, `\`) {
			return b.errorf("platform.requirements", "ends with a backslash, which a submit file reads as a line continuation; remove it")
		}
		if err := checkClassAdExpr(r); err != nil {
			return b.errorf("platform.requirements", "%v", err)
		}
		clauses = append(clauses, "("+r+")")
	}
	b.v.Requirements = strings.Join(clauses, " && ")
	return nil
}

func (b *builder) resources() error {
	r := b.job.Resources
	if r.CPUs < 0 {
		return b.errorf("resources.cpus", "is negative (%d); give the number of cores, such as 1", r.CPUs)
	}
	b.v.RequestCPUs = r.CPUs
	if r.Memory > 0 {
		b.v.RequestMemory = r.Memory.String()
	}
	if r.Disk > 0 {
		b.v.RequestDisk = r.Disk.String()
	}
	return nil
}

// owned lists what the generator writes itself, in every spelling
// condor_submit 23.9 takes for it (checked with condor_submit -dry-run, see
// e2e's TestPassThroughRefusesOwned): the submit command, its aliases, and
// the job attribute it sets, which "+Attr" or "MY.Attr" would set directly
// and, written later, win over the command. Names are compared after
// ownedName: any case, without underscores. Passing one through would
// silently override the generator (last assignment wins) or break
// checkpointing, so each names the description key to use instead.
var owned = []struct {
	names []string
	fix   string
}{
	{[]string{"universe", "jobuniverse"}, "the generator always uses the vanilla universe; remove it"},
	{[]string{"executable", "cmd"}, "HTCondor runs the shim; put your program in program (and the shim in shim.path)"},
	{[]string{"arguments", "args", "arguments1", "arguments2"}, "use arguments"},
	{[]string{"environment", "env", "environment1", "environment2", "getenv"}, "use environment (getenv would also pass your shell's SHIM_DMTCP_* variables to the shim)"},
	{[]string{"input", "stdin", "in"}, "use stdin"},
	{[]string{"output", "stdout", "out"}, "use stdout (the submit file's output is the shim's)"},
	{[]string{"error", "stderr", "err"}, "use stderr (the submit file's error is the shim's)"},
	{[]string{"log", "userlog"}, "the generator writes the job event log as " + eventLog + "; remove it"},
	{[]string{"transferinputfiles", "transferinput"}, "use input_files"},
	{[]string{"transferoutputfiles", "transferoutput"}, "use output_files (the generator lists the checkpoint directory, stdout, stderr and the shim's log with them)"},
	{[]string{"transferexecutable"}, "use shim.installed"},
	{[]string{"shouldtransferfiles"}, "the shim needs file transfer; remove it"},
	{[]string{"whentotransferoutput"}, "use checkpoint.mode"},
	{[]string{"killsig"}, "use checkpoint.signal (the shim traps only that signal and SIGTERM)"},
	{[]string{"killsigtimeout", "jobmaxvacatetime"}, "use checkpoint.vacate_time"},
	{[]string{"checkpointexitcode", "successcheckpointexitcode", "wantftoncheckpoint"}, "use checkpoint.exit_code and checkpoint.mode"},
	{[]string{"transfercheckpointfiles", "transfercheckpoint"}, "use output_files (the generator lists the checkpoint files with them)"},
	{[]string{"onexithold", "onexitholdreason", "onexitholdsubcode"}, "the generator holds jobs on the shim's failures; use periodic_release or max_retries to react to them"},
	{[]string{"requirements"}, "use platform.requirements"},
	{[]string{"requestcpus"}, "use resources.cpus"},
	{[]string{"requestmemory"}, "use resources.memory"},
	{[]string{"requestdisk"}, "use resources.disk"},
	{[]string{"wantioproxy"}, "use platform.same_as_first_checkpoint"},
	{[]string{"queue"}, "use queue"},
}

// ownedName reduces a submit key to the name owned lists: lower case,
// without a leading "+" or "MY.", without underscores (condor_submit
// takes both request_cpus and RequestCpus; a job attribute's name is
// case-insensitive).
func ownedName(key string) string {
	k := strings.ToLower(key)
	k = strings.TrimPrefix(k, "+")
	k = strings.TrimPrefix(k, "my.")
	return strings.ReplaceAll(k, "_", "")
}

// ownedFix says, for a submit key, what the generator owns it for and what
// to use instead, or "" when the key is free.
func ownedFix(key string) string {
	k := ownedName(key)
	if strings.HasPrefix(k, "dmtcpckpt") {
		return "DMTCPCkpt* attributes are the shim's record of the first checkpoint's platform (platform.same_as_first_checkpoint); choose another name"
	}
	for _, o := range owned {
		for _, n := range o.names {
			if k == n {
				return o.fix
			}
		}
	}
	return ""
}

// submitKeyRE is a submit command or a job attribute ("+Name", "MY.Name"):
// no dots otherwise, so TARGET.Name or a.b cannot pose as one.
var submitKeyRE = regexp.MustCompile(`^(\+|(?i:my)\.)?[A-Za-z_][A-Za-z0-9_]*$`)

func (b *builder) extra() error {
	for _, k := range sortedKeys(b.job.Submit) {
		p := joinPath("submit", k)
		if !submitKeyRE.MatchString(k) {
			return b.errorf(p, "%q is not a submit command name; use a name like max_retries or +ProjectName", k)
		}
		if fix := ownedFix(k); fix != "" {
			return b.errorf(p, "%s is written by the generator; %s", k, fix)
		}
		val := b.job.Submit[k]
		if strings.HasSuffix(strings.TrimSpace(val), `\`) {
			return b.errorf(p, "ends with a backslash, which a submit file reads as a line continuation; remove it")
		}
		b.v.Extra = append(b.v.Extra, Command{Key: k, Value: val})
	}
	return nil
}
