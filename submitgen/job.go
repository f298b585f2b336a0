package submitgen

// Job is a job description: the few lines a user writes instead of a submit
// file. Field tags give the YAML key; the desc tag is the help text shown by
// editors through the published JSON Schema (see Schema), so the schema can
// never drift from what the decoder accepts.
type Job struct {
	Program          string            `yaml:"program,omitempty" desc:"The program to run. A path on this machine (transferred with the job and run as ./NAME) unless program_installed is true; an absolute path outside the submit directory, such as /usr/bin/python3, is rendered with a warning, as it usually means program_installed: true. Required."`
	ProgramInstalled bool              `yaml:"program_installed,omitempty" desc:"true if program is a path or command name on the execute node (not transferred)."`
	Arguments        []string          `yaml:"arguments,omitempty" desc:"The program's arguments, one list item per argument; any characters but newline, CR and NUL. {cluster}, {process} and {item} are replaced by the job's cluster, process and queue item."`
	Stdin            string            `yaml:"stdin,omitempty" desc:"File on this machine given to the program as standard input (transferred). Default: /dev/null."`
	Stdout           string            `yaml:"stdout,omitempty" desc:"File name for the program's standard output, returned next to the submit file. Default: job.{cluster}.{process}.out."`
	Stderr           string            `yaml:"stderr,omitempty" desc:"File name for the program's standard error, returned next to the submit file. Default: job.{cluster}.{process}.err."`
	InputFiles       []string          `yaml:"input_files,omitempty" desc:"Files and directories to transfer to the job (a trailing / on a directory transfers its contents). Names cannot contain commas."`
	OutputFiles      []string          `yaml:"output_files,omitempty" desc:"Files and directories the program writes in its working directory (relative paths) that must survive: in every checkpoint mode HTCondor keeps them with the checkpoint at each eviction and self-checkpoint and returns them with stdout and stderr at exit; it keeps nothing else. A file in a subdirectory (results/log.txt) brings its whole top-level directory (results). Each must exist from the first checkpoint on (create it when the program starts) and at exit, or HTCondor holds the job (\"failed to upload checkpoint\"). Names cannot contain commas."`
	Environment      map[string]string `yaml:"environment,omitempty" desc:"Environment variables for the program, NAME: value."`
	Engine           Engine            `yaml:"engine,omitempty" desc:"How the job is checkpointed: dmtcp (any Linux program), or condor-syscall for a program linked with HTCondor's old checkpoint library (condor_compile), which checkpoints itself. Default: dmtcp."`
	Checkpoint       Checkpoint        `yaml:"checkpoint,omitempty" desc:"When and how DMTCP checkpoints the job."`
	DMTCP            DMTCPSource       `yaml:"dmtcp,omitempty" desc:"Where DMTCP comes from on the execute node: set exactly one of bundle or prefix. Required with engine dmtcp; with condor-syscall only a bundle's shim is used."`
	Shim             Shim              `yaml:"shim,omitempty" desc:"The shim_dmtcp program that HTCondor runs in place of the program."`
	Platform         Platform          `yaml:"platform,omitempty" desc:"Which machines the job may run (and restart) on. Empty: no pinning."`
	Resources        Resources         `yaml:"resources,omitempty" desc:"Resources to request for each job."`
	Queue            Queue             `yaml:"queue,omitempty" desc:"How many jobs to submit. Default: one."`
	Submit           map[string]string `yaml:"submit,omitempty" desc:"Extra submit commands (max_retries) and job attributes (+ProjectName, MY.ProjectName), written verbatim (macros allowed). Anything the generator writes is refused in every spelling (any case, aliases, +Attr, MY.Attr), naming the description key to use instead."`

	// src remembers where each field came from so validation errors can name
	// the file and line; nil for a Job built in Go.
	src *source
}

// Checkpoint says when the shim checkpoints. The modes map onto HTCondor's two
// ways of keeping a checkpoint: files left in the sandbox when the job is
// evicted, and self-checkpointing (exit with a known code, HTCondor saves the
// files and restarts the same command).
type Checkpoint struct {
	Mode           Mode      `yaml:"mode,omitempty" desc:"evict: checkpoint when HTCondor evicts the job; self: checkpoint every interval, exit with exit_code and let HTCondor save the files (eviction-time checkpoints are discarded); both: self plus keep eviction-time checkpoints. Default: both."`
	Interval       *Duration `yaml:"interval,omitempty" desc:"Time between periodic checkpoints: a duration like 30m or 1h30m, or seconds like 1800. 0: none. Default: 30m."`
	ExitCode       int       `yaml:"exit_code,omitempty" desc:"Exit code meaning 'checkpointed, run me again' for self-checkpointing. Default: 85."`
	Signal         Signal    `yaml:"signal,omitempty" desc:"Signal HTCondor sends on eviction and the shim traps to checkpoint: a name (SIGINT, TERM) or number. Default: SIGINT."`
	Compress       *bool     `yaml:"compress,omitempty" desc:"Compress checkpoints when it costs no vacate time: the shim gzips them in the background after a periodic checkpoint, and before a self-checkpoint exit within compress_budget, never while the job is leaving. Default: true."`
	CompressBudget *Duration `yaml:"compress_budget,omitempty" desc:"Modes self and both: how long the shim may compress a checkpoint before each self-checkpoint exit, so that HTCondor transfers less; past it, the checkpoint leaves uncompressed. 0: never. Default: 2m."`
	FreshStart     bool      `yaml:"fresh_start,omitempty" desc:"When checkpoints exist but every one is damaged, start the program over (the damaged ones and the old output are kept aside) instead of holding the job with shim exit code 250. Default: false."`
	VacateTime     *Duration `yaml:"vacate_time,omitempty" desc:"How long HTCondor waits after the eviction signal before killing the job (job_max_vacate_time); leave enough time to write a checkpoint. Default: the pool's."`
}

// DMTCPSource says where the shim finds DMTCP on the execute node.
type DMTCPSource struct {
	Bundle string `yaml:"bundle,omitempty" desc:"A dmtcp_condor_integration bundle directory on this machine; its bin/ and lib/ are transferred with every job and the shim is taken from its bin/."`
	Prefix string `yaml:"prefix,omitempty" desc:"DMTCP install prefix on every execute node (PREFIX/bin and PREFIX/lib/dmtcp)."`
}

// Shim names the shim_dmtcp executable when the default does not fit.
type Shim struct {
	Path      string `yaml:"path,omitempty" desc:"Path of shim_dmtcp. Default: BUNDLE/bin/shim_dmtcp with a bundle, /usr/libexec/dmtcp-condor/shim_dmtcp (installed) with a prefix."`
	Installed *bool  `yaml:"installed,omitempty" desc:"true if path is on the execute node rather than transferred from here. Default: true only for the default path with a prefix."`
}

// Platform restricts where the job runs. A checkpoint restarts reliably only
// on a machine like the one that wrote it (glibc picks CPU-specific code at
// start), hence explicit attributes and pinning to the first checkpoint.
type Platform struct {
	Arch                  string   `yaml:"arch,omitempty" desc:"Required machine Arch, e.g. X86_64."`
	OpSys                 string   `yaml:"opsys,omitempty" desc:"Required machine OpSys, e.g. LINUX."`
	OpSysAndVer           string   `yaml:"opsys_and_ver,omitempty" desc:"Required machine OpSysAndVer, e.g. Debian12 or AlmaLinux9."`
	Microarch             string   `yaml:"microarch,omitempty" desc:"Required machine Microarch, e.g. x86_64-v3."`
	CPUFlags              []string `yaml:"cpu_flags,omitempty" desc:"CPU features the machine must advertise, e.g. avx2 (machine attribute has_avx2)."`
	SameAsFirstCheckpoint bool     `yaml:"same_as_first_checkpoint,omitempty" desc:"Once the job has checkpointed, restart it only on machines with the Arch, OpSys, OpSysAndVer and Microarch of the machine that wrote the first checkpoint."`
	Requirements          string   `yaml:"requirements,omitempty" desc:"One ClassAd expression, such as TARGET.Memory > 4096, ANDed in parentheses into Requirements. It must parse as a single expression with balanced parentheses; submit-file macros ($) are not expanded."`
	Legacy                Legacy   `yaml:"legacy,omitempty" desc:"Attributes of old pools; modern HTCondor does not advertise them."`
}

// Legacy holds machine attributes only pre-8.9.6 pools advertise. They are an
// explicit opt-in because a Requirements clause on them never matches today.
type Legacy struct {
	CheckpointPlatform string `yaml:"checkpoint_platform,omitempty" desc:"Required CheckpointPlatform (removed in HTCondor 8.9.6)."`
	OSKernelRelease    string `yaml:"os_kernel_release,omitempty" desc:"Required OSKernelRelease (not a stock attribute)."`
}

// Resources are the job's resource requests.
type Resources struct {
	CPUs   int  `yaml:"cpus,omitempty" desc:"Number of CPU cores (request_cpus)."`
	Memory Size `yaml:"memory,omitempty" desc:"Memory (request_memory): a number of MiB or a size like 2GB, 512MB."`
	Disk   Size `yaml:"disk,omitempty" desc:"Scratch disk (request_disk): a number of MiB or a size like 10GB. Count the checkpoint images."`
}

// Queue says how many jobs one submission creates.
type Queue struct {
	Count    int      `yaml:"count,omitempty" desc:"Number of jobs (per item when items or from_file is set). Default: 1."`
	Items    []string `yaml:"items,omitempty" desc:"One job per item; {item} in arguments and file names is replaced by the item."`
	FromFile string   `yaml:"from_file,omitempty" desc:"One job per line of this file (read by condor_submit); {item} is replaced by the line. A plain file name (letters, digits, . _ - / + @): no command (|), inline list, slice or macro."`
}
