package shim

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dmtcp-condor/dmtcp-condor/internal/duration"
	"github.com/dmtcp-condor/dmtcp-condor/shim/ckptstore"
	"github.com/dmtcp-condor/dmtcp-condor/shim/exitcode"
)

// EnvPrefix starts the environment variable that stands for each option:
// --ckpt-dir is SHIM_DMTCP_CKPT_DIR. A site sets one once (in a job's
// environment, a wrapper or a Grid Engine queue) instead of editing every
// command line; an option given on the command line wins.
const EnvPrefix = "SHIM_DMTCP_"

// DefaultCkptDir is where checkpoints go unless told otherwise: inside the
// working directory, so HTCondor's file transfer carries it with the sandbox.
const DefaultCkptDir = "dmtcp_checkpoints"

// DefaultRestartTimeout bounds how long a restart may take to have the job
// running again. DMTCP restarts in well under a second per GiB of image from
// a local disk; a restart still not running after minutes is hung (DMTCP
// 4.2.0 can hang in a futex for ever), and a job that says why it stopped
// beats a slot held in silence.
const DefaultRestartTimeout = 5 * time.Minute

// DefaultStageDir holds DMTCP's own checkpoint directory. DMTCP 4.2 records
// absolute paths inside its images (the copies of deleted files it saves,
// which every forked process has), so the directory it writes to must have
// the same path on every machine a job restarts on; a job's scratch
// directory does not, /tmp does.
const DefaultStageDir = "/tmp"

// Options is everything a shim run is told on its command line.
type Options struct {
	Log    string // shim and DMTCP messages; "" means the shim's stderr
	Stdin  string // the job's stdin; "" means /dev/null
	Stdout string // the job's stdout; "" means the shim's stdout
	Stderr string // the job's stderr; "" means the shim's stderr

	CkptInterval        time.Duration // 0: no periodic checkpoints
	Signal              syscall.Signal
	CheckpointExitCode  int
	ExitAfterCheckpoint bool
	CkptDir             string
	StageDir            string
	DMTCPPrefix         string
	Compress            bool
	ChirpPlatform       bool
	Engine              string        // "dmtcp" or "condor-syscall"
	CkptFile            string        // condor-syscall: the checkpoint file's name
	Setarch             string        // condor-syscall: personality flags, setarch letters
	CkptTimeout         time.Duration // 0: a checkpoint may take as long as it takes
	StatusFile          string        // where the shim records how the run ended
	KeepOutput          bool          // a first start appends to --stdout/--stderr
	KeepGenerations     int           // complete checkpoint generations kept (>= 1)
	FreshStart          bool          // start over when no checkpoint is usable
	RestartTimeout      time.Duration // a restart not running by then is killed (0 = no limit)
	CompressBudget      time.Duration // a self-checkpoint exit may compress for this long

	Program string
	Args    []string

	ShowVersion bool
	ShowHelp    bool
}

// UsageError is bad usage: what was wrong, and the usage text to show.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

const usageHead = `usage: shim_dmtcp [options] [--] PROGRAM [ARG...]

Runs PROGRAM under DMTCP, checkpoints it periodically and when the scheduler
asks it to leave, and on the next start resumes it from the newest complete
checkpoint. Every option can also be set with an environment variable
(SHIM_DMTCP_ and the option's name, e.g. SHIM_DMTCP_CKPTINT=1800).

example:
  shim_dmtcp --log shim.log --stdin in.txt --stdout job.out --stderr job.err \
      --ckptint 30m -- ./a.out arg1 'arg two'

options:
`

// newFlagSet declares every option on o, with defaults taken from the
// environment through getenv.
func newFlagSet(o *Options, out io.Writer, getenv func(string) string) (*flag.FlagSet, *[]error) {
	fs := flag.NewFlagSet("shim_dmtcp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var envErrs []error
	env := func(name string) (string, bool) {
		key := EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		v := getenv(key)
		return v, v != ""
	}
	str := func(p *string, name, def, help string) {
		*p = def
		if v, ok := env(name); ok {
			*p = v
		}
		fs.StringVar(p, name, *p, help)
	}
	boolean := func(p *bool, name string, def bool, help string) {
		*p = def
		if v, ok := env(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s%s=%q: want 1, 0, true or false", EnvPrefix, strings.ToUpper(strings.ReplaceAll(name, "-", "_")), v))
			}
			*p = b
		}
		fs.BoolVar(p, name, *p, help)
	}
	value := func(v flag.Value, name, help string) {
		if s, ok := env(name); ok {
			if err := v.Set(s); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s%s=%q: %v", EnvPrefix, strings.ToUpper(strings.ReplaceAll(name, "-", "_")), s, err))
			}
		}
		fs.Var(v, name, help)
	}

	str(&o.Log, "log", "", "`FILE` for the shim's, the coordinator's and DMTCP's messages (appended; default: stderr)")
	str(&o.Stdin, "stdin", "", "`FILE` the job reads as stdin (default /dev/null)")
	str(&o.Stdout, "stdout", "", "`FILE` for the job's stdout (appended after a restart; default: the shim's stdout)")
	str(&o.Stderr, "stderr", "", "`FILE` for the job's stderr (appended after a restart; default: the shim's stderr)")
	o.CkptInterval = 0
	value((*intervalValue)(&o.CkptInterval), "ckptint", "checkpoint every `INTERVAL`: seconds (1800) or a duration (30m); 0 = only on eviction")
	o.Signal = syscall.SIGINT
	value((*signalValue)(&o.Signal), "signal", "`SIGNAL` that asks the job to leave: checkpoint and stop (default SIGINT, HTCondor's kill_sig = 2); SIGTERM is always trapped too")
	o.CheckpointExitCode = exitcode.CheckpointDefault
	value((*exitCodeValue)(&o.CheckpointExitCode), "checkpoint-exit-code", "exit `CODE` after checkpoint-and-stop (HTCondor's checkpoint_exit_code)")
	o.CkptTimeout = 0
	value((*intervalValue)(&o.CkptTimeout), "ckpt-timeout", "when the job was asked to leave (or checkpoints to stop), give up a checkpoint not complete after `DURATION` (seconds or 5m): stop the job, keep the previous checkpoint, exit 247; set it below the scheduler's vacate time (0 = no limit)")
	boolean(&o.ExitAfterCheckpoint, "exit-after-checkpoint", false, "stop after every periodic checkpoint and exit with the checkpoint exit code (HTCondor self-checkpointing)")
	str(&o.CkptDir, "ckpt-dir", DefaultCkptDir, "`DIR` holding the checkpoints (relative to the working directory)")
	str(&o.StageDir, "stage-dir", DefaultStageDir, "`DIR` where DMTCP writes a checkpoint before it is saved into --ckpt-dir; must be the same path on every machine")
	str(&o.DMTCPPrefix, "dmtcp-prefix", "", "DMTCP install `DIR` (with bin/ and lib/dmtcp/); default: the working directory, beside the shim, $DMTCP_PREFIX, then PATH")
	boolean(&o.Compress, "compress", true, "gzip checkpoint images after they are saved, at the lowest priority while the job runs, never during a vacate (--no-compress: keep them as DMTCP wrote them)")
	value((*intervalValue)(&o.CompressBudget), "compress-budget", "before a self-checkpoint exit (--exit-after-checkpoint), compress the new checkpoint for at most `DURATION`, so that less is transferred (0 = exit at once, uncompressed)")
	fs.Func("no-compress", "same as --compress=false", func(string) error { o.Compress = false; return nil })
	setBoolFlag(fs, "no-compress")
	boolean(&o.ChirpPlatform, "chirp-platform", false, "at the first checkpoint, record the machine's platform in the HTCondor job ad with condor_chirp")
	str(&o.Engine, "engine", "dmtcp", "checkpoint `ENGINE`: dmtcp, or condor-syscall for programs linked with HTCondor's old checkpoint library")
	str(&o.CkptFile, "ckpt-file", "", "condor-syscall: checkpoint file `NAME` (default: the program's name + .ckpt)")
	str(&o.Setarch, "setarch", "R", "condor-syscall: personality `FLAGS` as setarch's letters: R no address randomisation, L legacy layout, B 32-bit addresses")
	o.KeepGenerations = ckptstore.DefaultKeep
	fs.IntVar(&o.KeepGenerations, "keep-generations", o.KeepGenerations, "complete checkpoint generations to `KEEP` (the newest and the ones before it, to fall back on when the newest is damaged; 1 halves the disk and transfer cost)")
	if v, ok := env("keep-generations"); ok {
		if err := fs.Set("keep-generations", v); err != nil {
			envErrs = append(envErrs, fmt.Errorf("%sKEEP_GENERATIONS=%q: want a whole number, 1 or more", EnvPrefix, v))
		}
	}
	boolean(&o.FreshStart, "fresh-start", false, "when checkpoints exist but none is usable (all damaged), start the program over instead of exiting 250; the damaged ones and the old --stdout/--stderr are kept aside")
	o.RestartTimeout = DefaultRestartTimeout
	value((*intervalValue)(&o.RestartTimeout), "restart-timeout", "kill a restart whose job is not running again after `DURATION` and exit 251, keeping the checkpoint (0 = no limit)")
	boolean(&o.KeepOutput, "keep-output", false, "on a first start append to --stdout and --stderr instead of emptying them (files the scheduler opened and may have written to, as Grid Engine's)")
	str(&o.StatusFile, "status-file", "", "`FILE` to write how the run ended, one line: \"exit N\", \"signal NAME\", \"checkpointed N\" or \"failed N\" (for wrappers such as the Grid Engine commands)")
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.BoolVar(&o.ShowHelp, "help", false, "print this help and exit")
	fs.Usage = func() { printUsage(fs, out) }
	return fs, &envErrs
}

// setBoolFlag makes a Func flag take no value, like a boolean.
func setBoolFlag(fs *flag.FlagSet, name string) {
	f := fs.Lookup(name)
	f.Value = boolFunc{f.Value}
}

type boolFunc struct{ flag.Value }

func (boolFunc) IsBoolFlag() bool { return true }

func printUsage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprint(out, usageHead)
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(out, "%-34s %s\n", line, help)
	})
	fmt.Fprint(out, "\nexit codes: the job's own; the checkpoint exit code after checkpoint-and-stop;\n")
	for _, c := range exitcode.Codes {
		fmt.Fprintf(out, "  %d  %s\n", c.Code, c.Reason)
	}
}

// ParseOptions reads the command line (without the program name) and the
// environment. Options end at the first word that is not one, or at "--";
// everything after is the program and its arguments, untouched.
func ParseOptions(args []string, getenv func(string) string) (Options, error) {
	var o Options
	fs, envErrs := newFlagSet(&o, io.Discard, getenv)
	if len(*envErrs) > 0 {
		return o, &UsageError{Msg: errors.Join(*envErrs...).Error()}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			o.ShowHelp = true
			return o, nil
		}
		return o, &UsageError{Msg: explainFlagError(err)}
	}
	if o.ShowHelp || o.ShowVersion {
		return o, nil
	}
	// The 2011 example submit file wrote "--stdin --stdout job.out": the
	// option word became --stdin's file name and the job never started.
	for _, f := range []struct{ name, val, fix string }{
		{"log", o.Log, "omit --log to log to stderr"},
		{"stdin", o.Stdin, "omit --stdin, or give --stdin /dev/null, for no input"},
		{"stdout", o.Stdout, "omit --stdout to keep the shim's stdout"},
		{"stderr", o.Stderr, "omit --stderr to keep the shim's stderr"},
		{"ckpt-dir", o.CkptDir, "give a directory name"},
		{"stage-dir", o.StageDir, "give a directory name"},
		{"dmtcp-prefix", o.DMTCPPrefix, "give the directory that holds DMTCP's bin/"},
		{"status-file", o.StatusFile, "give a file name"},
	} {
		if strings.HasPrefix(f.val, "-") && fs.Lookup(strings.TrimLeft(strings.SplitN(f.val, "=", 2)[0], "-")) != nil {
			return o, &UsageError{Msg: fmt.Sprintf("--%s needs a file name, but the next word is the option %s; %s", f.name, f.val, f.fix)}
		}
	}
	if !filepath.IsAbs(o.StageDir) {
		return o, &UsageError{Msg: fmt.Sprintf("--stage-dir %q must be an absolute path, the same on every machine (default %s)", o.StageDir, DefaultStageDir)}
	}
	if o.KeepGenerations < 1 {
		return o, &UsageError{Msg: fmt.Sprintf("--keep-generations %d: keep at least 1 (the newest complete checkpoint)", o.KeepGenerations)}
	}
	if o.CkptDir == "" {
		return o, &UsageError{Msg: "--ckpt-dir is empty; give a directory name or omit it for ./" + DefaultCkptDir}
	}
	switch o.Engine {
	case "dmtcp", "condor-syscall":
	default:
		return o, &UsageError{Msg: fmt.Sprintf("--engine %q: use dmtcp or condor-syscall", o.Engine)}
	}
	if o.CkptFile != "" && (strings.Contains(o.CkptFile, "/") || o.CkptFile == "." || o.CkptFile == "..") {
		return o, &UsageError{Msg: fmt.Sprintf("--ckpt-file %q must be a plain file name; it lives in --ckpt-dir", o.CkptFile)}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return o, &UsageError{Msg: "need at least one argument, the program to run"}
	}
	if rest[0] == "" {
		return o, &UsageError{Msg: "the program name is empty; give the program to run, e.g. ./a.out"}
	}
	o.Program, o.Args = rest[0], rest[1:]
	return o, nil
}

// explainFlagError turns the flag package's terse errors into ones that say
// what to do.
func explainFlagError(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		name := "--" + strings.TrimLeft(strings.TrimPrefix(msg, "flag provided but not defined: "), "-")
		return fmt.Sprintf("unknown option %s; to pass it to the program, put the program first or use -- before it", name)
	case strings.HasPrefix(msg, "flag needs an argument: "):
		name := "--" + strings.TrimLeft(strings.TrimPrefix(msg, "flag needs an argument: "), "-")
		return fmt.Sprintf("option %s needs a value", name)
	case strings.HasPrefix(msg, "invalid value "):
		// "invalid value "x" for flag -ckptint: ...": options are --name.
		msg = strings.Replace(msg, " for flag -", " for --", 1)
		return strings.Replace(msg, "invalid value", "bad value", 1)
	}
	return msg
}

// Usage writes the full help text.
func Usage(w io.Writer) {
	var o Options
	fs, _ := newFlagSet(&o, w, func(string) string { return "" })
	fs.Usage()
}

// intervalValue is a duration option (--ckptint, the timeouts): whole
// seconds, as the 2011 shim took them, or a duration such as 30m or
// 1h30m, read as render reads a job description's durations.
type intervalValue time.Duration

func (v *intervalValue) String() string { return time.Duration(*v).String() }
func (v *intervalValue) Set(s string) error {
	d, err := ParseInterval(s)
	if err != nil {
		return err
	}
	*v = intervalValue(d)
	return nil
}

// ParseInterval parses a duration option: "1800" (seconds) or "30m" (see
// duration.Parse), not negative. Durations are whole seconds, so the
// shortest periodic-checkpoint interval is 1s: a checkpoint suspends the
// job for a good part of a second, and shorter ones would leave it no time
// to run.
func ParseInterval(s string) (time.Duration, error) {
	d, err := duration.Parse(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative; give 0 for none, or a positive duration", s)
	}
	return d, nil
}

type signalValue syscall.Signal

func (v *signalValue) String() string { return SignalName(syscall.Signal(*v)) }
func (v *signalValue) Set(s string) error {
	sig, err := ParseSignal(s)
	if err != nil {
		return err
	}
	*v = signalValue(sig)
	return nil
}

type exitCodeValue int

func (v *exitCodeValue) String() string { return strconv.Itoa(int(*v)) }
func (v *exitCodeValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 255 {
		return fmt.Errorf("exit code %q must be a number from 1 to 255", s)
	}
	for _, c := range exitcode.Codes {
		if n == c.Code {
			return fmt.Errorf("exit code %d is the shim's own code for %q; pick another (85 is HTCondor's convention)", n, c.Reason)
		}
	}
	*v = exitCodeValue(n)
	return nil
}
