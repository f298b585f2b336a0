package submitgen

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/dmtcp-condor/dmtcp-condor/templates"
)

// View is what the job.sub template sees. Every value is already encoded for
// the submit language (quoted, $ escaped), so a site's own template only
// arranges lines and comments and cannot get the quoting wrong. Empty strings
// and zero numbers mean "do not write this command".
type View struct {
	Source  string // base name of the description file, for the header comment
	Program string // the program as the user wrote it, for comments
	Engine  string // dmtcp or condor-syscall

	Executable         string // the shim
	TransferExecutable bool   // false when the shim is installed on the execute node
	Arguments          string // shim options, --, program and its arguments (new syntax)
	Environment        string // new-syntax environment including DMTCP_TMPDIR

	TransferInputFiles string // comma-separated, in a stable order
	Stdout, Stderr     string // the program's stdio files (in the shim's options)
	DMTCPLog           string // the shim's and DMTCP's diagnostics file (--log)
	Output, Error, Log string // the shim's own stdout/stderr and the job event log

	Mode                    string // evict, self or both
	IntervalSeconds         int64  // periodic checkpoint interval, 0 = none
	KillSig                 string // signal name, equal to the shim's --signal
	WhenToTransferOutput    string // ON_EXIT_OR_EVICT, or ON_EXIT in self mode
	VacateTime              int64  // job_max_vacate_time in seconds, 0 = pool default
	CheckpointExitCode      int    // 0 when not self-checkpointing
	TransferCheckpointFiles string // with CheckpointExitCode
	TransferOutputFiles     string // with ON_EXIT_OR_EVICT: the checkpoint directory and the shim's files

	HoldCodes         []ExitCode // the shim's failure codes, for comments
	OnExitHold        string     // ClassAd expressions for on_exit_hold*
	OnExitHoldReason  string
	OnExitHoldSubcode string

	Requirements string // "" for none
	WantIOProxy  bool   // the shim records the first checkpoint's platform with condor_chirp
	Legacy       bool   // Requirements uses attributes modern pools lack

	RequestCPUs   int
	RequestMemory string // "2GB", "" when not requested
	RequestDisk   string

	Extra []Command // pass-through submit commands, sorted by key
	Queue string    // the complete queue statement
}

// Command is one pass-through submit command.
type Command struct {
	Key, Value string
}

// MainTemplate is the template that renders a whole job.sub. A site's
// template directory may redefine it or any template it calls.
const MainTemplate = "job.sub.tmpl"

// Renderer renders job descriptions with one set of templates. Make one with
// NewRenderer and reuse it.
type Renderer struct {
	tmpl *template.Template
}

// NewRenderer parses the templates embedded in the binary and then, if
// overrideDir is not "", every *.tmpl file in it, so a site can replace the
// whole job.sub template or only the pieces it defines. Templates get sprig's
// hermetic functions (no environment or randomness, so output is stable) and
// a missing map key is an error rather than "<no value>" in a submit file.
func NewRenderer(overrideDir string) (*Renderer, error) {
	t := template.New(MainTemplate).Funcs(sprig.HermeticTxtFuncMap()).Option("missingkey=error")
	t, err := t.ParseFS(templates.FS, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parsing built-in templates: %w", err)
	}
	if overrideDir != "" {
		files, err := filepath.Glob(filepath.Join(overrideDir, "*.tmpl"))
		if err != nil {
			return nil, fmt.Errorf("listing templates in %s: %w", overrideDir, err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no *.tmpl files in template directory %s; copy %s from `dmtcp-condor templates` or the source tree and edit it", overrideDir, MainTemplate)
		}
		if t, err = t.ParseFiles(files...); err != nil {
			return nil, fmt.Errorf("parsing templates in %s: %w", overrideDir, err)
		}
	}
	return &Renderer{tmpl: t}, nil
}

// Render validates job and writes its submit file to w. Nothing is written
// when the description or the templates fail.
func (r *Renderer) Render(w io.Writer, job *Job) error {
	v, err := job.build()
	if err != nil {
		return err
	}
	if job.src != nil {
		// The name only appears in a comment; a control character in it
		// (a newline in a file name) would end the comment.
		v.Source = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, filepath.Base(job.src.file))
	}
	var buf bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&buf, MainTemplate, v); err != nil {
		return fmt.Errorf("rendering %s: %w", MainTemplate, err)
	}
	if err := checkSubmitText(buf.String()); err != nil {
		return fmt.Errorf("rendering %s: %w", MainTemplate, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing submit file: %w", err)
	}
	return nil
}

// checkSubmitText guards against templates (a site's included) producing a
// file condor_submit would read differently than it looks: a line ending in
// "\" silently joins the next one, and a value that still says "<no value>"
// came from a template referring to a missing field.
func checkSubmitText(s string) error {
	for i, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		// Comments too: whether a continued comment swallows the next line
		// differs between HTCondor versions, so never risk it.
		if strings.HasSuffix(t, `\`) {
			return fmt.Errorf("output line %d ends with a backslash, which condor_submit joins with the next line: %q", i+1, line)
		}
		if strings.Contains(t, "<no value>") {
			return fmt.Errorf("output line %d has an empty template value: %q", i+1, line)
		}
	}
	return nil
}

// holdExpressions builds on_exit_hold and its reason from ShimExitCodes: the
// job is held only when the shim itself exits (not a signal) with one of its
// failure codes, and the reason names the failure in words.
func holdExpressions() (hold, reason, subcode string) {
	first, last := ShimExitCodes[0].Code, ShimExitCodes[len(ShimExitCodes)-1].Code
	hold = fmt.Sprintf("(ExitBySignal =?= false) && (ExitCode >= %d) && (ExitCode <= %d)", first, last)
	expr := `"unknown shim failure"`
	for i := len(ShimExitCodes) - 1; i >= 0; i-- {
		c := ShimExitCodes[i]
		expr = fmt.Sprintf("ifThenElse(ExitCode == %d, %q, %s)", c.Code, c.Reason, expr)
	}
	reason = fmt.Sprintf(`strcat("shim_dmtcp exit code ", ExitCode, ": ", %s, "; details in %s")`, expr, shimLog)
	return hold, reason, "ExitCode"
}
