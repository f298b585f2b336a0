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
		Long: `Wizard asks for the program, its arguments, how to checkpoint and where DMTCP
comes from, checks each answer as you type, shows a summary, and writes the job
description and the submit file only when you confirm. Existing files are
replaced only after asking (or with --force).

Without a terminal (or with --accessible) the questions are plain numbered
prompts read line by line from standard input; an empty line takes the default.`,
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

// answers are the wizard's questions with their defaults.
type answers struct {
	ProgramHere bool // the program is a file here, sent with the job
	Program     string
	Arguments   string // shell-style line
	Mode        submitgen.Mode
	Interval    string
	BundleHere  bool // DMTCP comes from a bundle directory here
	DMTCPPath   string
	PinFirst    bool
	Jobs        string
	Memory      string
}

// defaultInterval is the wizard's suggested checkpoint interval; an emptied
// interval field means it too.
const defaultInterval = "30m"

func defaultAnswers() *answers {
	return &answers{ProgramHere: true, Mode: submitgen.ModeBoth, Interval: defaultInterval, BundleHere: true, PinFirst: true, Jobs: "1"}
}

// job turns the answers into a description. The answers were validated field
// by field; Render checks the whole.
func (a *answers) job() (*submitgen.Job, error) {
	args, err := splitShellWords(a.Arguments)
	if err != nil {
		return nil, err
	}
	j := &submitgen.Job{Program: a.Program, ProgramInstalled: !a.ProgramHere, Arguments: args}
	j.Checkpoint.Mode = a.Mode
	iv, err := submitgen.ParseDuration(cmp.Or(a.Interval, defaultInterval))
	if err != nil {
		return nil, err
	}
	j.Checkpoint.Interval = &iv
	if a.BundleHere {
		j.DMTCP.Bundle = a.DMTCPPath
	} else {
		j.DMTCP.Prefix = a.DMTCPPath
	}
	j.Platform.SameAsFirstCheckpoint = a.PinFirst
	if n, _ := strconv.Atoi(strings.TrimSpace(a.Jobs)); n > 1 {
		j.Queue.Count = n
	}
	if a.Memory != "" {
		if j.Resources.Memory, err = submitgen.ParseSize(a.Memory); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// questions builds the question groups. base is the directory the
// description is written to: relative paths in answers are checked from
// there, because that is where condor_submit will be run.
func (a *answers) questions(base string, accessible bool) []*huh.Group {
	title := func(t, def string) string {
		if accessible && def != "" {
			return fmt.Sprintf("%s [%s]", t, def)
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
	return []*huh.Group{
		huh.NewGroup(
			huh.NewSelect[bool]().Title("Where is the program?").Value(&a.ProgramHere).Options(
				huh.NewOption("A file on this machine, sent with each job", true),
				huh.NewOption("Installed on every execute node (a path or a command name)", false)),
			huh.NewInput().Title("Program to run").Value(&a.Program).
				Placeholder("./myprogram").
				Validate(func(s string) error {
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
				}),
			huh.NewInput().Title("Its arguments, as you would type them in a shell").Value(&a.Arguments).
				Placeholder(`--steps 1000 "a b"`).
				Validate(func(s string) error { _, err := splitShellWords(s); return err }),
		).Title("The program"),
		huh.NewGroup(
			huh.NewSelect[submitgen.Mode]().Title("When should DMTCP checkpoint?").Value(&a.Mode).Options(
				huh.NewOption("Every interval and on eviction (recommended)", submitgen.ModeBoth),
				huh.NewOption("Every interval only (HTCondor self-checkpointing)", submitgen.ModeSelf),
				huh.NewOption("Only when HTCondor evicts the job", submitgen.ModeEvict)),
			huh.NewInput().Title(title("Checkpoint interval (like 30m or 1800)", defaultInterval)).Value(&a.Interval).
				Validate(func(s string) error {
					if s == "" {
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
		).Title("Checkpoints"),
		huh.NewGroup(
			huh.NewSelect[bool]().Title("Where does DMTCP come from on the execute nodes?").Value(&a.BundleHere).Options(
				huh.NewOption("A dmtcp_condor_integration bundle here, sent with each job", true),
				huh.NewOption("Installed on every execute node", false)),
			dmtcpDir.Value(&a.DMTCPPath).
				Validate(func(s string) error {
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
				}),
		).Title("DMTCP"),
		huh.NewGroup(
			huh.NewConfirm().Title("After the first checkpoint, restart only on machines like that one?").
				Description("Safer: a checkpoint may crash on another CPU or OS version.").Value(&a.PinFirst),
			huh.NewInput().Title(title("How many jobs?", "1")).Value(&a.Jobs).
				Validate(func(s string) error {
					if n, err := strconv.Atoi(strings.TrimSpace(s)); s != "" && (err != nil || n < 1) {
						return errors.New("give a whole number of jobs, 1 or more")
					}
					return nil
				}),
			huh.NewInput().Title(title("Memory per job (like 2GB; empty for the pool's default)", "")).Value(&a.Memory).
				Validate(func(s string) error {
					if s == "" {
						return nil
					}
					_, err := submitgen.ParseSize(s)
					return err
				}),
		).Title("Where and how much"),
	}
}

// lineReader hands out its input at most one line per Read. huh's accessible
// prompts each wrap the input in a new bufio.Scanner, which would otherwise
// swallow the answers to later questions on its first read.
type lineReader struct {
	r       *bufio.Reader
	pending []byte // rest of a line that did not fit the caller's buffer
}

// Read returns the rest of the current line, reading a new one when it is used up.
func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		line, err := l.r.ReadBytes('\n')
		if len(line) == 0 {
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
	if opts.Accessible {
		in, out = &lineReader{r: bufio.NewReader(in)}, opts.IO.Out
	}
	yamlPath, subPath := opts.Output, outputPath(opts.Output)
	r, err := submitgen.NewRenderer(opts.TemplatesDir)
	if err != nil {
		return err
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
	write, replace := true, opts.Force || len(existing) == 0
	final := []huh.Field{huh.NewConfirm().Title(fmt.Sprintf("Write %s and %s?", yamlPath, subPath)).Value(&write).
		Validate(func(yes bool) error {
			if _, _, err := plan(); yes && err != nil {
				return fmt.Errorf("cannot write: %v (shift+tab goes back)", err)
			}
			return nil
		})}
	if !replace {
		verb := map[bool]string{true: "exists", false: "exist"}[len(existing) == 1]
		final = append(final, huh.NewConfirm().Title(fmt.Sprintf("%s already %s. Replace?", strings.Join(existing, " and "), verb)).Value(&replace))
	}
	groups := a.questions(filepath.Dir(yamlPath), opts.Accessible)
	if opts.Accessible {
		// Accessible prompts cannot show a summary that follows the
		// answers, so it is printed between the questions and the confirmation.
		if err := runForm(groups, opts.Accessible, in, out); err != nil {
			return err
		}
		if _, _, err := plan(); err != nil {
			return fmt.Errorf("nothing written: %w", err)
		}
		fmt.Fprintf(out, "\nSummary:\n%s\n\n", a.summary())
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
	if err := runForm(append(groups, huh.NewGroup(final...)), opts.Accessible, in, out); err != nil {
		return err
	}
	if !write || !replace {
		fmt.Fprintln(out, "Nothing written.")
		return nil
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
	fmt.Fprintf(out, "Wrote %s and %s. Submit with: condor_submit %s\n", yamlPath, subPath, filepath.Base(subPath))
	return nil
}

// runForm asks the groups' questions. Accessible prompts get the base theme,
// which has no colours, because they go to screen readers, scripts and logs.
func runForm(groups []*huh.Group, accessible bool, in io.Reader, out io.Writer) error {
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
const summaryLines = 5

// summary describes the answers in five short lines, the same few facts the
// questions asked, so the user can check them before anything is written.
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
	when := map[submitgen.Mode]string{
		submitgen.ModeBoth:  "every " + cmp.Or(a.Interval, defaultInterval) + " and on eviction",
		submitgen.ModeSelf:  "every " + cmp.Or(a.Interval, defaultInterval) + " (self-checkpointing)",
		submitgen.ModeEvict: "on eviction only",
	}[a.Mode]
	dmtcp := "bundle " + a.DMTCPPath + ", sent with each job"
	if !a.BundleHere {
		dmtcp = "installed in " + a.DMTCPPath + " on the nodes"
	}
	restart := "on any machine HTCondor picks"
	if a.PinFirst {
		restart = "only on machines like the first checkpoint's"
	}
	mem := a.Memory
	if mem == "" {
		mem = "the pool's default"
	}
	return fmt.Sprintf("  Program:     %s (%s)\n  Checkpoints: %s\n  DMTCP:       %s\n  Restarts:    %s\n  Jobs:        %s, memory %s",
		strings.Join(cmd, " "), where, when, dmtcp, restart, cmp.Or(a.Jobs, "1"), mem)
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
