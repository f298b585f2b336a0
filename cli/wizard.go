package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"charm.land/huh/v2"
	"github.com/charmbracelet/x/term"
	"github.com/dmtcp-condor/dmtcp-condor/submitgen"
	"github.com/spf13/cobra"
)

// WizardOptions are the inputs of "dmtcp-condor wizard".
type WizardOptions struct {
	IO           *IOStreams
	Output       string // job description to write; the submit file goes beside it
	Accessible   bool   // plain line-by-line prompts (screen readers, scripts, tests)
	Force        bool   // replace existing files without asking
	TemplatesDir string
}

// NewCmdWizard builds "wizard", which asks for the few facts a job
// description needs and writes the description and its submit file.
func NewCmdWizard(runF func(*WizardOptions) error) *cobra.Command {
	opts := &WizardOptions{}
	cmd := &cobra.Command{
		Use:   "wizard",
		Short: "Ask a few questions, then write job.yaml and job.sub",
		Long: `Wizard asks for the program, its arguments and files, how to checkpoint,
where DMTCP and shim_dmtcp come from, and the CPUs and memory a job needs;
checks each answer as you type (the same checks as render); shows a summary;
and writes the job description and the submit file only when you confirm.
Answering No goes back to the questions with your answers kept. Fields start
empty and show their default; leave one empty to take it. An existing
description or generated submit file is replaced only after asking (or with
--force); a submit file dmtcp-condor did not write is never replaced.

Without a terminal (or with --accessible) the questions are plain numbered
prompts read line by line from standard input; an empty line takes the
default, or the earlier answer after going back.`,
		Example: `  dmtcp-condor wizard
  dmtcp-condor wizard -o sweep.yaml
  printf './sim\n...' | dmtcp-condor wizard --accessible`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = streamsOf(cmd)
			if !cmd.Flags().Changed("accessible") {
				opts.Accessible = !isTerminal(opts.IO.In) || os.Getenv("ACCESSIBLE") != ""
			}
			if runF != nil {
				return runF(opts)
			}
			return runWizard(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "job.yaml", "job description to write (the submit file goes beside it, NAME.sub)")
	cmd.Flags().BoolVar(&opts.Accessible, "accessible", false, "plain line-by-line prompts instead of the full-screen form (default when standard input is not a terminal)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace existing files without asking")
	cmd.Flags().StringVar(&opts.TemplatesDir, "templates", "", "directory of *.tmpl files overriding the built-in templates")
	return cmd
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// answers are the wizard's questions. Every text field starts empty and
// shows its default as a placeholder: a prefilled value would be appended to
// by typing ("20m" after a prefilled "30m" gave "30m20m").
type answers struct {
	ProgramHere bool // the program is a file here, sent with each job
	Program     string
	Arguments   string // shell-style line
	Stdout      string // "" for the default name
	Stderr      string
	OutputFiles string // shell-style list of files the program writes
	Mode        submitgen.Mode
	Interval    string // "" for defaultInterval
	BundleHere  bool   // DMTCP comes from a bundle directory here
	DMTCPPath   string
	ShimHere    bool   // without a bundle: the shim is a file here, sent with each job
	ShimPath    string // that file
	PinFirst    bool
	Jobs        string // "" for one
	CPUs        string // "" for the pool's default
	Memory      string // with a unit; "" for the pool's default
}

// defaultInterval is the wizard's checkpoint interval when the field is
// left empty: render's.
var defaultInterval = submitgen.DefaultInterval.String()

func defaultAnswers() *answers {
	return &answers{ProgramHere: true, Mode: submitgen.ModeBoth, BundleHere: true, PinFirst: true}
}

// job turns the answers into a description. Each field was checked as it
// was typed; Validate checks the whole.
func (a *answers) job() (*submitgen.Job, error) {
	args, err := splitShellWords(a.Arguments)
	if err != nil {
		return nil, fmt.Errorf("arguments: %w", err)
	}
	outs, err := splitShellWords(a.OutputFiles)
	if err != nil {
		return nil, fmt.Errorf("output files: %w", err)
	}
	j := &submitgen.Job{Program: strings.TrimSpace(a.Program), ProgramInstalled: !a.ProgramHere, Arguments: args,
		Stdout: strings.TrimSpace(a.Stdout), Stderr: strings.TrimSpace(a.Stderr)}
	if len(outs) > 0 {
		j.OutputFiles = outs
	}
	j.Checkpoint.Mode = a.Mode
	iv, err := submitgen.ParseDuration(cmp.Or(strings.TrimSpace(a.Interval), defaultInterval))
	if err != nil {
		return nil, err
	}
	j.Checkpoint.Interval = &iv
	if a.BundleHere {
		j.DMTCP.Bundle = a.DMTCPPath
	} else {
		j.DMTCP.Prefix = a.DMTCPPath
		if a.ShimHere {
			j.Shim.Path = a.ShimPath
		}
	}
	j.Platform.SameAsFirstCheckpoint = a.PinFirst
	if n, _ := strconv.Atoi(strings.TrimSpace(a.Jobs)); n > 1 {
		j.Queue.Count = n
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(a.CPUs)); n > 0 {
		j.Resources.CPUs = n
	}
	if m := strings.TrimSpace(a.Memory); m != "" {
		if j.Resources.Memory, err = submitgen.ParseSize(m); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// fieldError checks the answers as a whole description and returns the
// problem only if it is in field (a description key such as "stdout"), so
// a field shows the error render would give, and no other field's.
func (a *answers) fieldError(field string) error {
	j, err := a.job()
	if err != nil {
		return nil // reported by the field it comes from
	}
	if j.DMTCP.Bundle == "" && j.DMTCP.Prefix == "" {
		// Not asked yet: stand in for it, or its absence would be the
		// only error Validate reports.
		j.DMTCP.Prefix = "/opt/dmtcp"
	}
	var e *submitgen.Error
	if err := j.Validate(); errors.As(err, &e) && (e.Field == field || strings.HasPrefix(e.Field, field+"[")) {
		return errors.New(e.Msg)
	}
	return nil
}

// fieldErrorWith is fieldError with the answer at p replaced by s, the
// text being typed (the answer itself changes only once it is accepted).
func (a *answers) fieldErrorWith(p *string, s, field string) error {
	old := *p
	*p = s
	defer func() { *p = old }()
	return a.fieldError(field)
}

// question is a group of questions and when it is skipped.
type question struct {
	group *huh.Group
	skip  func() bool // nil: always asked
}

// questions builds the question groups. base is the directory the
// description is written to: relative paths in answers are checked from
// there, because that is where condor_submit will be run.
func (a *answers) questions(base string, accessible bool) []question {
	// An accessible prompt shows in brackets what an empty line keeps: the
	// answer given before going back, else the default. (The full-screen
	// form shows the default as the field's placeholder instead.)
	title := func(t string, answer *string, def string) string {
		if v := cmp.Or(*answer, def); accessible && v != "" {
			return fmt.Sprintf("%s [%s]", t, v)
		}
		return t
	}
	local := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	dmtcpDir := huh.NewInput().Title("Its directory: the bundle (holding bin/shim_dmtcp and lib/dmtcp/), or the install prefix on the nodes (like /opt/dmtcp)")
	if !accessible { // accessible prompts show only static titles
		dmtcpDir = huh.NewInput().TitleFunc(func() string {
			if a.BundleHere {
				return "Bundle directory (holding bin/shim_dmtcp and lib/dmtcp/)"
			}
			return "DMTCP install prefix on the execute nodes (like /opt/dmtcp)"
		}, &a.BundleHere)
	}
	// An accessible prompt takes an empty line for the field's current
	// value (the answer given before "No" went back), but validates the
	// empty line itself: validate the value it will keep.
	keep := func(p *string, v func(string) error) func(string) error {
		if !accessible {
			return v
		}
		return func(s string) error {
			if strings.TrimSpace(s) == "" {
				s = *p
			}
			return v(s)
		}
	}
	count := func(what string, max int) func(string) error {
		return func(s string) error {
			if s = strings.TrimSpace(s); s == "" {
				return nil
			}
			if n, err := strconv.Atoi(s); err != nil || n < 1 || n > max {
				return fmt.Errorf("give a whole number of %s from 1 to %d, or leave it empty", what, max)
			}
			return nil
		}
	}
	return []question{
		{group: huh.NewGroup(
			huh.NewSelect[bool]().Title("Where is the program?").Value(&a.ProgramHere).Options(
				huh.NewOption("A file on this machine, sent with each job", true),
				huh.NewOption("Installed on every execute node (a path or a command name)", false)),
			huh.NewInput().Title("Program to run").Value(&a.Program).
				Placeholder("./myprogram").
				Validate(keep(&a.Program, func(s string) error {
					s = strings.TrimSpace(s)
					if s == "" {
						return errors.New("give the program, such as ./myprogram")
					}
					if !a.ProgramHere {
						return nil
					}
					fi, err := os.Stat(local(s))
					switch {
					case err != nil:
						return fmt.Errorf("%s not found in %s", s, absDir(base))
					case !fi.Mode().IsRegular():
						return fmt.Errorf("%s is not a file", s)
					case fi.Mode().Perm()&0o111 == 0:
						return fmt.Errorf("%s is not executable; chmod +x it first", s)
					}
					return nil
				})),
			huh.NewInput().Title("Its arguments, as you would type them in a shell").Value(&a.Arguments).
				Placeholder(`--steps 1000 "a b"`).
				Validate(func(s string) error { _, err := splitShellWords(s); return err }),
		).Title("The program")},
		{group: huh.NewGroup(
			huh.NewInput().Title(title("File for the program's standard output", &a.Stdout, "job.{cluster}.{process}.out")).Value(&a.Stdout).
				Placeholder("job.{cluster}.{process}.out").
				Validate(keep(&a.Stdout, func(s string) error { return a.fieldErrorWith(&a.Stdout, s, "stdout") })),
			huh.NewInput().Title(title("File for its standard error", &a.Stderr, "job.{cluster}.{process}.err")).Value(&a.Stderr).
				Placeholder("job.{cluster}.{process}.err").
				Validate(keep(&a.Stderr, func(s string) error { return a.fieldErrorWith(&a.Stderr, s, "stderr") })),
			huh.NewInput().Title(title("Other files it writes that must come back, separated by spaces (kept at every checkpoint, so each must exist from the first one on)", &a.OutputFiles, "none")).Value(&a.OutputFiles).
				Placeholder("results/ summary.txt").
				Validate(keep(&a.OutputFiles, func(s string) error {
					if _, err := splitShellWords(s); err != nil {
						return err
					}
					return a.fieldErrorWith(&a.OutputFiles, s, "output_files")
				})),
		).Title("Its files")},
		{group: huh.NewGroup(
			huh.NewSelect[submitgen.Mode]().Title("When should DMTCP checkpoint?").Value(&a.Mode).Options(
				huh.NewOption("Every interval and on eviction (recommended)", submitgen.ModeBoth),
				huh.NewOption("Every interval only (HTCondor self-checkpointing)", submitgen.ModeSelf),
				huh.NewOption("Only when HTCondor evicts the job", submitgen.ModeEvict)),
			huh.NewInput().Title(title("Checkpoint interval (like 30m, 1h30m or 1800 seconds)", &a.Interval, defaultInterval)).Value(&a.Interval).
				Placeholder(defaultInterval).
				Validate(func(s string) error {
					if s = strings.TrimSpace(s); s == "" {
						return nil // the default
					}
					d, err := submitgen.ParseDuration(s)
					switch {
					case err != nil:
						return err
					case d < 0:
						return errors.New("the interval cannot be negative")
					case d == 0 && a.Mode != submitgen.ModeEvict:
						return errors.New("this mode checkpoints every interval; give one such as 30m")
					}
					return nil
				}),
		).Title("Checkpoints")},
		{group: huh.NewGroup(
			huh.NewSelect[bool]().Title("Where do DMTCP and shim_dmtcp come from on the execute nodes?").Value(&a.BundleHere).Options(
				huh.NewOption("A dmtcp_condor_integration bundle here, sent with each job (DMTCP and its shim_dmtcp)", true),
				huh.NewOption("DMTCP is installed on every execute node", false)),
			dmtcpDir.Value(&a.DMTCPPath).
				Validate(keep(&a.DMTCPPath, func(s string) error {
					switch {
					case s == "":
						return errors.New("give a directory")
					case !a.BundleHere && !filepath.IsAbs(s):
						return errors.New("give an absolute path, such as /opt/dmtcp")
					case !a.BundleHere:
						return nil
					}
					for _, need := range []string{"bin/shim_dmtcp", "lib/dmtcp"} {
						if _, err := os.Stat(filepath.Join(local(s), need)); err != nil {
							return fmt.Errorf("%s has no %s; give the unpacked dmtcp_condor_integration directory", s, need)
						}
					}
					return nil
				})),
		).Title("DMTCP")},
		{group: huh.NewGroup(
			huh.NewSelect[bool]().Title("And shim_dmtcp, which HTCondor runs in place of the program?").Value(&a.ShimHere).Options(
				huh.NewOption("Installed on every execute node at "+submitgen.InstalledShim+" (the dmtcp-condor package)", false),
				huh.NewOption("A shim_dmtcp file here, sent with each job", true)),
		).Title("The shim"), skip: func() bool { return a.BundleHere }},
		{group: huh.NewGroup(
			huh.NewInput().Title("The shim_dmtcp file to send").Value(&a.ShimPath).
				Placeholder("./shim_dmtcp").
				Validate(keep(&a.ShimPath, func(s string) error {
					fi, err := os.Stat(local(strings.TrimSpace(s)))
					switch {
					case strings.TrimSpace(s) == "":
						return errors.New("give the shim_dmtcp file, such as ./shim_dmtcp")
					case err != nil:
						return fmt.Errorf("%s not found in %s", s, absDir(base))
					case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
						return fmt.Errorf("%s is not an executable file", s)
					}
					return nil
				})),
		).Title("The shim"), skip: func() bool { return a.BundleHere || !a.ShimHere }},
		{group: huh.NewGroup(
			huh.NewConfirm().Title("After the first checkpoint, restart only on machines like that one?").
				Description("Safer: a checkpoint may crash on another CPU or OS version.").Value(&a.PinFirst),
			huh.NewInput().Title(title("How many jobs?", &a.Jobs, "1")).Value(&a.Jobs).Placeholder("1").
				Validate(count("jobs", submitgen.MaxJobsPerSubmission)),
			huh.NewInput().Title(title("CPU cores per job", &a.CPUs, "the pool's default")).Value(&a.CPUs).Placeholder("the pool's default (1)").
				Validate(count("cores", 1024)),
			huh.NewInput().Title(title("Memory per job, with a unit (like 2GB or 512MB)", &a.Memory, "the pool's default")).Value(&a.Memory).
				Placeholder("the pool's default").
				Validate(func(s string) error {
					if s = strings.TrimSpace(s); s == "" {
						return nil
					}
					if _, err := strconv.ParseFloat(s, 64); err == nil {
						return fmt.Errorf("give a unit: %sGB or %sMB (a bare number would be MiB)", s, s)
					}
					_, err := submitgen.ParseSize(s)
					return err
				}),
		).Title("Where and how much")},
	}
}

// lineReader hands out its input at most one line per Read. huh's accessible
// prompts each wrap the input in a new bufio.Scanner, which would otherwise
// swallow the answers to later questions on its first read.
type lineReader struct {
	r       *bufio.Reader
	pending []byte // rest of a line that did not fit the caller's buffer
	eof     bool   // the input has ended: prompts now take their defaults
}

// Read returns the rest of the current line, reading a new one when it is used up.
func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		line, err := l.r.ReadBytes('\n')
		if len(line) == 0 {
			l.eof = true
			return 0, err
		}
		l.pending = line
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

func runWizard(opts *WizardOptions) error {
	in, out := opts.IO.In, opts.IO.ErrOut
	var lines *lineReader
	if opts.Accessible {
		lines = &lineReader{r: bufio.NewReader(in)}
		in, out = lines, opts.IO.Out
	}
	yamlPath, subPath := opts.Output, outputPath(opts.Output)
	r, err := submitgen.NewRenderer(opts.TemplatesDir)
	if err != nil {
		return err
	}
	// A hand-written job.sub is never replaced (as by render): say so
	// before any question is asked.
	if err := checkReplaceable(subPath, opts.Force); err != nil {
		return fmt.Errorf("%w (the wizard writes the submit file beside the description: use -o elsewhere.yaml)", err)
	}
	var existing []string
	for _, p := range []string{yamlPath, subPath} {
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
	}
	a := defaultAnswers()
	// plan turns the answers into the two files; the summary and the final
	// check share it. The submit file is rendered from the description read
	// back, so it is exactly what "dmtcp-condor render" will give later.
	plan := func() (desc, sub []byte, err error) {
		job, err := a.job()
		if err != nil {
			return nil, nil, err
		}
		if err := job.Validate(); err != nil {
			return nil, nil, err
		}
		if desc, err = submitgen.Marshal(job); err != nil {
			return nil, nil, err
		}
		written, err := submitgen.Decode(yamlPath, desc)
		if err != nil {
			return nil, nil, fmt.Errorf("internal error: the description does not read back: %w", err)
		}
		var buf bytes.Buffer
		if err := r.Render(&buf, written); err != nil {
			return nil, nil, err
		}
		return desc, buf.Bytes(), nil
	}
	for {
		// New fields each round: huh's groups remember their last field,
		// and going back must start at the first question.
		qs := a.questions(filepath.Dir(yamlPath), opts.Accessible)
		write, replace := false, opts.Force || len(existing) == 0
		final := []huh.Field{huh.NewConfirm().Title(fmt.Sprintf("Write %s and %s? (No goes back to the questions)", yamlPath, subPath)).Value(&write).
			Validate(func(yes bool) error {
				if _, _, err := plan(); yes && err != nil {
					return fmt.Errorf("cannot write: %v (answer No to change it)", err)
				}
				return nil
			})}
		if !replace {
			verb := map[bool]string{true: "exists", false: "exist"}[len(existing) == 1]
			final = append(final, huh.NewConfirm().Title(fmt.Sprintf("%s already %s. Replace?", strings.Join(existing, " and "), verb)).Value(&replace))
		}
		groups := qs
		if opts.Accessible {
			// Accessible prompts cannot show a summary that follows the
			// answers, so it is printed between the questions and the
			// confirmation.
			if err := runForm(groups, true, in, out); err != nil {
				return err
			}
			if lines.eof {
				return errors.New("the input ended before the questions did; nothing written")
			}
			if _, _, err := plan(); err != nil {
				fmt.Fprintf(out, "\nNot ready: %v\n", err)
			} else {
				fmt.Fprintf(out, "\nSummary:\n%s\n\n", a.summary())
			}
			groups = nil
		} else {
			summary := huh.NewNote().Title("Summary").DescriptionFunc(func() string {
				if _, _, err := plan(); err != nil {
					return escapeNote("Not ready: " + err.Error())
				}
				return escapeNote(a.summary())
			}, a).Height(summaryLines + 4) // fixed, so the form does not scroll when the text grows
			final = append([]huh.Field{summary}, final...)
		}
		if err := runForm(append(groups, question{group: huh.NewGroup(final...)}), opts.Accessible, in, out); err != nil {
			return err
		}
		if !write {
			if opts.Accessible && lines.eof {
				return errors.New("the input ended; nothing written")
			}
			// Going back keeps every answer: the fields show them again.
			fmt.Fprintln(out, "Back to the questions; your answers are kept.")
			continue
		}
		if !replace {
			fmt.Fprintln(out, "Nothing written.")
			return nil
		}
		break
	}
	desc, sub, err := plan()
	if err != nil {
		return fmt.Errorf("nothing written: %w", err)
	}
	if err := writeFileAtomic(yamlPath, desc); err != nil {
		return err
	}
	if err := writeFileAtomic(subPath, sub); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s and %s. Submit with: %s\n", yamlPath, subPath, submitAdvice(filepath.Dir(yamlPath), subPath))
	return nil
}

// runForm asks the questions that are not skipped. Accessible prompts get
// the base theme, which has no colours, because they go to screen readers,
// scripts and logs; they are asked one group at a time, because huh's
// accessible mode asks hidden groups too.
func runForm(qs []question, accessible bool, in io.Reader, out io.Writer) error {
	run := func(groups ...*huh.Group) error {
		f := huh.NewForm(groups...).WithAccessible(accessible).WithInput(in).WithOutput(out)
		if accessible {
			f = f.WithTheme(huh.ThemeFunc(huh.ThemeBase))
		}
		if err := f.Run(); err != nil {
			if errors.Is(err, huh.ErrUserAborted) {
				return errors.New("wizard cancelled; nothing written")
			}
			return fmt.Errorf("asking questions: %w", err)
		}
		return nil
	}
	if accessible {
		for _, q := range qs {
			if q.skip == nil || !q.skip() {
				if err := run(q.group); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var groups []*huh.Group
	for _, q := range qs {
		g := q.group
		if q.skip != nil {
			g = g.WithHideFunc(q.skip)
		}
		groups = append(groups, g)
	}
	return run(groups...)
}

// escapeNote keeps huh's note markup (_italic_, *bold*, `code`) from
// mangling YAML keys like same_as_first_checkpoint.
func escapeNote(s string) string {
	return strings.NewReplacer(`\`, `\\`, "_", `\_`, "*", `\*`, "`", "\\`").Replace(s)
}

// absDir names a directory absolutely in messages ("not found in /home/me").
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// summaryLines is the height of the summary.
const summaryLines = 8

// summary describes the answers in short lines, the facts the questions
// asked, so the user can check them before anything is written.
func (a *answers) summary() string {
	args, _ := splitShellWords(a.Arguments)
	cmd := []string{shellQuote(a.Program)}
	for _, w := range args {
		cmd = append(cmd, shellQuote(w))
	}
	where := "sent with each job"
	if !a.ProgramHere {
		where = "installed on the nodes"
	}
	interval := cmp.Or(strings.TrimSpace(a.Interval), defaultInterval)
	when := map[submitgen.Mode]string{
		submitgen.ModeBoth:  "every " + interval + " and on eviction",
		submitgen.ModeSelf:  "every " + interval + " (self-checkpointing)",
		submitgen.ModeEvict: "on eviction only",
	}[a.Mode]
	dmtcp := "bundle " + a.DMTCPPath + ", sent with each job"
	shim := "the bundle's bin/shim_dmtcp, sent with each job"
	if !a.BundleHere {
		dmtcp = "installed in " + a.DMTCPPath + " on the nodes"
		shim = "installed on the nodes at " + submitgen.InstalledShim
		if a.ShimHere {
			shim = a.ShimPath + ", sent with each job"
		}
	}
	restart := "on any machine HTCondor picks"
	if a.PinFirst {
		restart = "only on machines like the first checkpoint's"
	}
	outs := cmp.Or(strings.TrimSpace(a.OutputFiles), "no others")
	return fmt.Sprintf("  Program:     %s (%s)\n  Output:      stdout %s, stderr %s; files %s\n  Checkpoints: %s\n  DMTCP:       %s\n  Shim:        %s\n  Restarts:    %s\n  Jobs:        %s, %s CPU, memory %s",
		strings.Join(cmd, " "), where,
		cmp.Or(strings.TrimSpace(a.Stdout), "job.{cluster}.{process}.out"), cmp.Or(strings.TrimSpace(a.Stderr), "job.{cluster}.{process}.err"), outs,
		when, dmtcp, shim, restart,
		cmp.Or(strings.TrimSpace(a.Jobs), "1"), cmp.Or(strings.TrimSpace(a.CPUs), "the pool's default"), cmp.Or(strings.TrimSpace(a.Memory), "the pool's default"))
}

// shellQuote writes a word so it reads back the same in a shell.
func shellQuote(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' || r == ',' || r == '+' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
