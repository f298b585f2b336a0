package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dmtcp-condor/dmtcp-condor/gridengine"
	"github.com/dmtcp-condor/dmtcp-condor/packaging"
	"github.com/dmtcp-condor/dmtcp-condor/shim/platform"
)

// DefaultSGEUtilDir is where the packages install the Grid Engine commands
// (symlinks to shim_dmtcp under the names of the 2012 scripts).
const DefaultSGEUtilDir = packaging.SGEDir

// SGEConfigOptions are the inputs of "dmtcp-condor sge config".
type SGEConfigOptions struct {
	IO         *IOStreams
	CkptDir    string
	Name       string
	UtilDir    string
	When       string
	Queue      string
	CPUFlags   bool
	Complexes  bool   // print only the cpuflag_* complex definitions
	HostValues bool   // print only this host's complex_values
	CPUInfo    string // /proc/cpuinfo; tests give another
}

// NewCmdSGE builds "sge", the Grid Engine integration's admin commands.
func NewCmdSGE() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sge",
		Short: "Set up Grid Engine's DMTCP checkpoint environment",
		Long: `Grid Engine runs jobs of a checkpoint environment through a starter method
and calls checkpoint, migrate and clean commands. shim_dmtcp is all of them,
under the names of the 2012 scripts (symlinks to it):

  dmtcp_starter      the queue's starter_method: DMTCP jobs run under the shim,
                     with checkpoints in ckpt_dir/JOB_ID.TASK, and resume on
                     RESTARTED=1/2; other jobs start as with the built-in starter
  dmtcp_checkpoint   ckpt_command: returns once the checkpoint is complete
  dmtcp_migrate      migr_command: checkpoint, then end the job (Grid Engine
                     restarts it with RESTARTED=2)
  dmtcp_migrate_cpu  the same, after pinning the job to the features of the CPU
                     it first ran on (its first checkpoint pins it already)
  dmtcp_cleanup      clean_command: removes the job's checkpoint directory once
                     the job is over for good

The packages install them in ` + DefaultSGEUtilDir + `; "sge install" makes them
anywhere else. "sge config" writes the checkpoint environment and says what to
set on the queues. Users then submit with: qsub -ckpt dmtcp job.sh
"sge sweep", from cron, removes what no clean command will.`,
	}
	cmd.AddCommand(NewCmdSGEConfig(nil), NewCmdSGEInstall(nil), NewCmdSGESweep(nil))
	return cmd
}

// NewCmdSGEConfig builds "sge config".
func NewCmdSGEConfig(runF func(*SGEConfigOptions) error) *cobra.Command {
	opts := &SGEConfigOptions{}
	cmd := &cobra.Command{
		Use:   "config --ckpt-dir DIR",
		Short: "Print the DMTCP checkpoint environment (for qconf -Ackpt) and the queue settings",
		Long: `Config prints a checkpoint environment for qconf -Ackpt on stdout, and on
stderr the steps that go with it: the checkpoint directory, the queue's
ckpt_list and starter_method, and for --cpu-flags the complexes.

--ckpt-dir must be a directory every execution host shares (NFS), mode 1777:
jobs resume on any host from ckpt_dir/JOB_ID.TASK.

--cpu-flags makes the environment "dmtcp_cpu", whose jobs are pinned, at
their first checkpoint or migration, to hosts with the instruction-set
features of the CPU they first ran on (cpuflag_* BOOL complexes, requested
with qalter), as a job restarted on a CPU without them dies of illegal
instructions. --complexes prints the complex definitions
to add with qconf -Mc; --host-values this host's complex_values.`,
		Example: `  dmtcp-condor sge config --ckpt-dir /nfs/dmtcp > dmtcp.ckpt && qconf -Ackpt dmtcp.ckpt
  dmtcp-condor sge config --ckpt-dir /nfs/dmtcp --cpu-flags > dmtcp_cpu.ckpt
  qconf -sc > c && dmtcp-condor sge config --cpu-flags --complexes >> c && qconf -Mc c
  qconf -aattr exechost complex_values "$(dmtcp-condor sge config --cpu-flags --host-values)" $(hostname)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runSGEConfig(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.CkptDir, "ckpt-dir", "", "shared `DIR` (mode 1777) for the jobs' checkpoints")
	f.StringVar(&opts.Name, "name", "", "checkpoint environment `NAME` (default dmtcp, or dmtcp_cpu with --cpu-flags)")
	f.StringVar(&opts.UtilDir, "util-dir", DefaultSGEUtilDir, "`DIR` holding dmtcp_starter and the other commands")
	f.StringVar(&opts.When, "when", "xsr", "when Grid Engine checkpoints: letters of x (migrate on suspend), s (on execd shutdown), r (reschedule), m (every queue min_cpu_interval)")
	f.StringVar(&opts.Queue, "queue", "all.q", "`QUEUE` named in the printed settings")
	f.BoolVar(&opts.CPUFlags, "cpu-flags", false, "pin checkpointed jobs to hosts with the features of the CPU they first ran on (dmtcp_migrate_cpu)")
	f.BoolVar(&opts.Complexes, "complexes", false, "with --cpu-flags: print only the cpuflag_* complex definitions")
	f.BoolVar(&opts.HostValues, "host-values", false, "with --cpu-flags: print only this host's complex_values")
	f.StringVar(&opts.CPUInfo, "cpuinfo", "/proc/cpuinfo", "`FILE` to read the CPU's flags from")
	_ = f.MarkHidden("cpuinfo")
	return cmd
}

func runSGEConfig(o *SGEConfigOptions) error {
	if (o.Complexes || o.HostValues) && !o.CPUFlags {
		return errors.New("--complexes and --host-values go with --cpu-flags")
	}
	if o.Complexes || o.HostValues {
		flags, err := sgeCPUFlags(o.CPUInfo)
		if err != nil {
			return err
		}
		if o.Complexes {
			fmt.Fprint(o.IO.Out, sgeComplexes(flags))
		} else {
			fmt.Fprintln(o.IO.Out, sgeHostValues(flags))
		}
		return nil
	}
	if o.CkptDir == "" {
		return errors.New("--ckpt-dir is required: a directory all execution hosts share, e.g. --ckpt-dir /nfs/dmtcp")
	}
	if !filepath.IsAbs(o.CkptDir) || !filepath.IsAbs(o.UtilDir) {
		return fmt.Errorf("--ckpt-dir %q and --util-dir %q must be absolute paths: Grid Engine runs the commands from the job's directory", o.CkptDir, o.UtilDir)
	}
	for _, w := range o.When {
		if !strings.ContainsRune("xsrm", w) {
			return fmt.Errorf("--when %q: use the letters x, s, r and m (see checkpoint(5))", o.When)
		}
	}
	if o.When == "" {
		return errors.New("--when is empty: give at least one of x, s, r, m")
	}
	for _, s := range []string{o.CkptDir, o.UtilDir} {
		if strings.ContainsAny(s, " \t\n$") {
			return fmt.Errorf("path %q holds a space or $, which Grid Engine's command lines cannot carry; choose another", s)
		}
	}
	name, migrate := "dmtcp", gridengine.Migrate
	if o.CPUFlags {
		name, migrate = "dmtcp_cpu", gridengine.MigrateCPU
	}
	if o.Name != "" {
		name = o.Name
	}
	if strings.ContainsAny(name, " \t\n/") {
		return fmt.Errorf("--name %q: a checkpoint environment's name has no spaces or slashes", name)
	}
	var flags []string
	if o.CPUFlags {
		// Read before anything is printed: a failure must not leave half
		// a checkpoint environment in the file stdout goes to.
		var err error
		if flags, err = sgeCPUFlags(o.CPUInfo); err != nil {
			return err
		}
	}
	util := func(r gridengine.Role) string { return filepath.Join(o.UtilDir, string(r)) }
	fmt.Fprintf(o.IO.Out, `ckpt_name          %s
interface          APPLICATION-LEVEL
ckpt_command       %s $job_pid
migr_command       %s $job_pid
restart_command    NONE
clean_command      %s
ckpt_dir           %s
signal             NONE
when               %s
`, name, util(gridengine.Checkpoint), util(migrate), util(gridengine.Clean), o.CkptDir, o.When)

	w := o.IO.ErrOut
	fmt.Fprintf(w, `# Next steps (as a Grid Engine admin):
#   mkdir -p %[1]s && chmod 1777 %[1]s      # shared by every execution host
#   qconf -Ackpt FILE                        # FILE: what was printed above
#   qconf -aattr queue ckpt_list %[2]s %[3]s
#   qconf -rattr queue starter_method %[4]s %[3]s
`, o.CkptDir, name, o.Queue, util(gridengine.Starter))
	if strings.Contains(o.When, "m") {
		fmt.Fprintf(w, "#   qconf -rattr queue min_cpu_interval 01:00:00 %s   # how often 'm' checkpoints\n", o.Queue)
	}
	fmt.Fprintf(w, "# The commands must exist on every execution host: the packages install them in\n# %s; elsewhere run 'dmtcp-condor sge install --dir DIR'.\n", DefaultSGEUtilDir)
	fmt.Fprintf(w, "# Make the execution hosts submit hosts (qconf -as HOST): dmtcp_cleanup asks the\n# qmaster whether a killed job runs again before it removes its checkpoints.\n")
	if o.CPUFlags {
		fmt.Fprintf(w, `# --cpu-flags: define the complexes once, and give every execution host its values
# (run on each host; --host-values lists this CPU's flags, define a complex for each):
#   qconf -sc > c && dmtcp-condor sge config --cpu-flags --complexes >> c && qconf -Mc c
#   qconf -aattr exechost complex_values "$(dmtcp-condor sge config --cpu-flags --host-values)" $(hostname)
# This host: %s
`, sgeHostValues(flags))
	}
	fmt.Fprintf(w, "# Users submit with: qsub -ckpt %s job.sh\n", name)
	return nil
}

// sgeCPUFlags are the instruction-set flags of the CPU described by the
// cpuinfo file: the ones a restarted job may depend on.
func sgeCPUFlags(cpuinfo string) ([]string, error) {
	f, err := os.Open(cpuinfo)
	if err != nil {
		return nil, fmt.Errorf("read the CPU's flags: %w", err)
	}
	defer f.Close()
	flags := platform.ISAFlags(platform.ParseCPUFlags(f))
	if len(flags) == 0 {
		return nil, fmt.Errorf("%s lists no instruction-set flags this tool knows (sse*, avx*, ...); --cpu-flags cannot pin jobs on this CPU", cpuinfo)
	}
	return flags, nil
}

// sgeComplexes defines one requestable BOOL complex per flag, in the
// format of qconf -sc: name shortcut type relop requestable consumable
// default urgency.
func sgeComplexes(flags []string) string {
	var b strings.Builder
	for _, f := range flags {
		fmt.Fprintf(&b, "%-24s %-18s BOOL ==  YES NO FALSE 0\n", gridengine.CPUFlagComplex(f), "cf_"+f)
	}
	return b.String()
}

func sgeHostValues(flags []string) string {
	vals := make([]string, len(flags))
	for i, f := range flags {
		vals[i] = gridengine.CPUFlagComplex(f) + "=TRUE"
	}
	return strings.Join(vals, ",")
}

// SGEInstallOptions are the inputs of "dmtcp-condor sge install".
type SGEInstallOptions struct {
	IO   *IOStreams
	Dir  string
	Shim string
}

// NewCmdSGEInstall builds "sge install", which makes the commands'
// symlinks for installs that did not come from a package.
func NewCmdSGEInstall(runF func(*SGEInstallOptions) error) *cobra.Command {
	opts := &SGEInstallOptions{}
	cmd := &cobra.Command{
		Use:   "install --dir DIR --shim PATH",
		Short: "Make the Grid Engine commands: symlinks to shim_dmtcp under the names of the 2012 scripts",
		Example: `  dmtcp-condor sge install --dir /usr/share/gridengine/util --shim /opt/dmtcp-condor/shim_dmtcp
  dmtcp-condor sge config --ckpt-dir /nfs/dmtcp --util-dir /usr/share/gridengine/util`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runSGEInstall(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "`DIR` to make the commands in")
	cmd.Flags().StringVar(&opts.Shim, "shim", "", "the shim_dmtcp binary (`PATH`; every execution host needs it there)")
	return cmd
}

func runSGEInstall(o *SGEInstallOptions) error {
	if o.Dir == "" || o.Shim == "" {
		return errors.New("give --dir (where the commands go) and --shim (the shim_dmtcp binary)")
	}
	shim, err := filepath.Abs(o.Shim)
	if err != nil {
		return err
	}
	if st, err := os.Stat(shim); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("--shim %s: not an executable file", o.Shim)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("create --dir: %w", err)
	}
	for _, r := range gridengine.Roles {
		link := filepath.Join(o.Dir, string(r))
		if target, err := os.Readlink(link); err == nil && target == shim {
			continue
		}
		if st, err := os.Lstat(link); err == nil && st.Mode()&os.ModeSymlink == 0 {
			return fmt.Errorf("%s exists and is not a symlink (the 2012 script?); move it away first", link)
		}
		// A new link renamed over the old one: a job starting meanwhile
		// finds one or the other, never nothing.
		tmp := fmt.Sprintf("%s.new-%d", link, os.Getpid())
		_ = os.Remove(tmp)
		if err := os.Symlink(shim, tmp); err != nil {
			return fmt.Errorf("make %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("make %s: %w", link, err)
		}
		fmt.Fprintf(o.IO.Out, "%s -> %s\n", link, shim)
	}
	return nil
}

// SGESweepOptions are the inputs of "dmtcp-condor sge sweep".
type SGESweepOptions struct {
	IO        *IOStreams
	CkptDir   string
	OlderThan time.Duration
	DryRun    bool
}

// NewCmdSGESweep builds "sge sweep", which removes the checkpoint
// directories no clean command will remove.
func NewCmdSGESweep(runF func(*SGESweepOptions) error) *cobra.Command {
	opts := &SGESweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep --ckpt-dir DIR",
		Short: "Remove checkpoint directories of jobs the qmaster no longer knows",
		Long: `Grid Engine runs the clean command after a job's run, but not for a job deleted
while it waited to resume after a migration, nor for one it never restarts after
a "when s" migration; and a new job that reuses an old job id moves the old
checkpoints aside (JOB.TASK.stale-TIME). Their images can be large. sweep
removes, from the checkpoint environment's ckpt_dir:

  JOB.TASK               when the qmaster (qstat -u '*') no longer lists JOB
  JOB.TASK.stale-TIME    always

and only what has not changed for --older-than. A job the qmaster lists, in
any state, keeps its directory; if qstat fails, only the moved-aside ones go.
Run it as root (the directories belong to the jobs' owners) on a submit host
that sees ckpt_dir, e.g. daily from cron. One ckpt_dir per cell: another cell's
jobs are unknown to this qmaster.`,
		Example: `  dmtcp-condor sge sweep --ckpt-dir /nfs/dmtcp --dry-run
  dmtcp-condor sge sweep --ckpt-dir /nfs/dmtcp --older-than 72h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if runF != nil {
				return runF(opts)
			}
			return runSGESweep(opts)
		},
	}
	cmd.Flags().StringVar(&opts.CkptDir, "ckpt-dir", "", "the checkpoint environment's ckpt_dir (`DIR`)")
	cmd.Flags().DurationVar(&opts.OlderThan, "older-than", 24*time.Hour, "leave what changed more recently than this")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "say what would be removed, remove nothing")
	return cmd
}

func runSGESweep(o *SGESweepOptions) error {
	if o.CkptDir == "" {
		return errors.New("give --ckpt-dir, the checkpoint environment's ckpt_dir (qconf -sckpt dmtcp shows it)")
	}
	if o.OlderThan < 0 {
		return fmt.Errorf("--older-than %s: give a duration of 0 or more", o.OlderThan)
	}
	entries, err := gridengine.Sweep(gridengine.SweepOptions{CkptDir: o.CkptDir, OlderThan: o.OlderThan, DryRun: o.DryRun, Getenv: os.Getenv})
	verb := "removed"
	if o.DryRun {
		verb = "would remove"
	}
	n := 0
	for _, e := range entries {
		if e.Removed {
			n++
			fmt.Fprintf(o.IO.Out, "%s %s: %s\n", verb, filepath.Join(o.CkptDir, e.Name), e.Why)
		} else {
			why := e.Why
			if e.Recent {
				why += " (--older-than)"
			}
			fmt.Fprintf(o.IO.ErrOut, "kept %s: %s\n", filepath.Join(o.CkptDir, e.Name), why)
		}
	}
	if err != nil {
		return fmt.Errorf("sweep %s: %w", o.CkptDir, err)
	}
	if n == 0 {
		fmt.Fprintf(o.IO.ErrOut, "nothing to remove in %s\n", o.CkptDir)
	}
	return nil
}
