package submitgen

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// base is a valid description that the bad cases below extend or break.
const base = "program: ./sim\ndmtcp:\n  prefix: /opt/dmtcp\n"

// TestBadDescriptions: each broken description gives one error that names
// the file, the line and the key, and says what to do.
func TestBadDescriptions(t *testing.T) {
	for _, tc := range badDescriptions {
		t.Run(tc.name, func(t *testing.T) {
			job, err := Decode("job.yaml", []byte(tc.yaml))
			if err == nil {
				err = job.Validate()
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a *submitgen.Error", err)
			}
			if e.Line != tc.line && tc.line != 0 || e.Field != tc.field || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got  %s\nwant job.yaml:%d: %s: ...%s...", err, tc.line, tc.field, tc.msg)
			}
			prefix := "job.yaml:"
			if tc.line > 0 {
				prefix = fmt.Sprintf("job.yaml:%d: ", tc.line)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

// badDescriptions are broken descriptions, each with the one error it
// gives (TestBadDescriptions) and, unless the schema cannot say so, a
// JSON Schema that rejects it too (TestSchemaAgreesWithRender).
var badDescriptions = []struct {
	name, yaml string
	line       int
	field      string
	msg        string // substring of the message: the problem and the fix
}{
	{"unknown key", base + "checkpoint:\n  interva: 30m\n", 5, "checkpoint.interva", `unknown key "interva"; did you mean "interval"?`},
	{"unknown top-level key", "programm: ./sim\n", 1, "programm", `did you mean "program"?`},
	{"unknown key lists allowed", base + "colour: red\n", 4, "colour", "keys allowed here: program, program_installed, arguments"},
	{"wrong type list", base + "arguments: --fast\n", 4, "arguments", `expected a list (lines starting with "- ", or [a, b]), got "--fast"`},
	{"wrong type scalar", base + "stdin: [a, b]\n", 4, "stdin", "expected a single value, got a list"},
	{"wrong type int", base + "resources:\n  cpus: many\n", 5, "resources.cpus", `expected a whole number, got "many"`},
	{"wrong type bool", base + "program_installed: maybe\n", 4, "program_installed", "expected true or false"},
	{"wrong type mapping", base + "checkpoint: 30m\n", 4, "checkpoint", "expected a mapping with keys mode, interval"},
	{"repeated key", base + "stdin: a\nstdin: b\n", 5, "stdin", "key repeated (first set on line 4)"},
	{"bad interval", base + "checkpoint:\n  interval: soon\n", 5, "checkpoint.interval", `"soon" is not a duration; write hours, minutes and seconds, each unit once and largest first`},
	{"negative interval", base + "checkpoint:\n  interval: -5m\n", 5, "checkpoint.interval", "is negative (-5m); use a positive duration such as 30m or 1800, or 0"},
	{"negative seconds", base + "checkpoint:\n  interval: -1800\n", 5, "checkpoint.interval", "is negative (-30m)"},
	{"zero interval self", base + "checkpoint:\n  mode: self\n  interval: 0\n", 6, "checkpoint.interval", "set an interval such as 30m, or use mode: evict"},
	{"bad mode", base + "checkpoint:\n  mode: sometimes\n", 5, "checkpoint.mode", `unknown checkpoint mode "sometimes"; use evict, self or both`},
	{"bad signal", base + "checkpoint:\n  signal: SIGKILL\n", 5, "checkpoint.signal", "use one of SIGHUP, SIGINT"},
	{"shim exit code", base + "checkpoint:\n  exit_code: 241\n", 5, "checkpoint.exit_code", "use a code from 1 to 239 or 252 to 255"},
	{"bad size", base + "resources:\n  memory: lots\n", 5, "resources.memory", "write a positive number of MiB like 2048, or a number and a unit"},
	{"missing program", "dmtcp:\n  prefix: /opt/dmtcp\n", 0, "program", "is missing; add a line like: program: ./myprogram"},
	{"literal $(DOLLAR)", base + "arguments: [\"cost $(DOLLAR)5\"]\n", 4, "arguments[0]", "condor_submit always turns into $"},
	{"bad engine", base + "engine: criu\n", 4, "engine", `unknown engine "criu"; use dmtcp, or condor-syscall`},
	{"prefix with condor-syscall", base + "engine: condor-syscall\n", 3, "dmtcp.prefix", "does not apply to engine condor-syscall"},
	{"compress with condor-syscall", "program: ./sim\nengine: condor-syscall\ncheckpoint:\n  compress: false\n", 4, "checkpoint.compress", "applies to DMTCP images only"},
	{"empty file", "", 1, "", "the job description is empty"},
	{"missing dmtcp", "program: ./sim\n", 0, "dmtcp", "add dmtcp.bundle"},
	{"both dmtcp", "program: ./sim\ndmtcp:\n  prefix: /opt/dmtcp\n  bundle: b\n", 2, "dmtcp", "sets both bundle and prefix"},
	{"relative prefix", "program: ./sim\ndmtcp:\n  prefix: opt/dmtcp\n", 3, "dmtcp.prefix", "is not an absolute path"},
	{"newline in argument", base + "arguments:\n  - ok\n  - |\n    two\n    lines\n", 6, "arguments[1]", "contains a newline; a submit file cannot carry newlines"},
	{"CR in environment", base + "environment:\n  A: \"x\\ry\"\n", 5, "environment.A", "contains a carriage return"},
	{"NUL in stdout", base + "stdout: \"a\\0b\"\n", 4, "stdout", "contains a NUL byte"},
	{"comma in input file", base + "input_files: [\"a,b\"]\n", 4, "input_files[0]", "contains a comma"},
	{"stdout with directory", base + "stdout: out/x.txt\n", 4, "stdout", "give a file name only"},
	{"shared stdout", base + "stdout: x.out\nqueue:\n  count: 3\n", 4, "stdout", "add {process} to the name"},
	{"item without items", base + "arguments: [\"{item}\"]\n", 4, "arguments[0]", "uses {item} but the queue has no items"},
	{"bad item", base + "queue:\n  items: [a, \"b c\"]\n", 5, "queue.items[1]", "cannot be a queue item"},
	{"negative count", base + "queue:\n  count: -2\n", 5, "queue.count", "is negative (-2)"},
	{"bad env name", base + "environment:\n  1X: a\n", 5, "environment.1X", "is not a valid variable name"},
	{"generator env", base + "environment:\n  DMTCP_TMPDIR: /tmp\n", 5, "environment.DMTCP_TMPDIR", "is set by the generator"},
	{"shim env", base + "environment:\n  SHIM_DMTCP_CKPTINT: \"5\"\n", 5, "environment.SHIM_DMTCP_CKPTINT", "set it through the description's own fields"},
	{"owned submit command", base + "submit:\n  Executable: /bin/true\n", 5, "submit.Executable", "Executable is written by the generator; HTCondor runs the shim"},
	{"owned kill_sig", base + "submit:\n  kill_sig: 15\n", 5, "submit.kill_sig", "use checkpoint.signal"},
	{"owned MY attribute", base + "submit:\n  MY.WantIOProxy: \"false\"\n", 5, "submit.MY.WantIOProxy", "use platform.same_as_first_checkpoint"},
	{"bad submit key", base + "submit:\n  \"request cpus\": 2\n", 5, "submit.request cpus", "is not a submit command name"},
	{"transfer_output_files", base + "submit:\n  transfer_output_files: a\n", 5, "submit.transfer_output_files", "use output_files (the generator lists"},
	{"bad microarch", base + "platform:\n  microarch: \"x86 64\"\n", 5, "platform.microarch", "is not a Microarch value"},
	{"bad legacy", base + "platform:\n  legacy:\n    checkpoint_platform: 'a\"b'\n", 6, "platform.legacy.checkpoint_platform", "contains a quote"},
	{"bundle clash", "program: ./sim\ninput_files: [data/bin]\ndmtcp:\n  bundle: b\n", 2, "input_files[0]", "where the DMTCP bundle goes"},
	{"absolute output file", base + "output_files: [/tmp/x]\n", 4, "output_files[0]", "is an absolute path; name files relative to the job's working directory"},
	{"output file outside", base + "output_files: [../x]\n", 4, "output_files[0]", "is not inside the job's working directory"},
	{"output file dot", base + "output_files: [./]\n", 4, "output_files[0]", "is not inside the job's working directory"},
	{"from_file command", base + "queue:\n  from_file: 'echo pwned |'\n", 5, "queue.from_file", "is not a plain file name; condor_submit would read it as a command"},
	{"from_file inline list", base + "queue:\n  from_file: (a b c)\n", 5, "queue.from_file", "or list the items under queue.items"},
	{"from_file slice", base + "queue:\n  from_file: '[:1] items.txt'\n", 5, "queue.from_file", "is not a plain file name"},
	{"from_file macro", base + "queue:\n  from_file: $(x)\n", 5, "queue.from_file", "is not a plain file name"},
	{"from_file option", base + "queue:\n  from_file: -x\n", 5, "queue.from_file", "is not a plain file name"},
	{"requirements escape", base + "platform:\n  requirements: 'true) || (true'\n", 5, "platform.requirements", `has ")" at column 5 after a complete expression`},
	{"requirements open", base + "platform:\n  requirements: '(Memory > 1'\n", 5, "platform.requirements", `ends where ")" should follow`},
	{"requirements two", base + "platform:\n  requirements: 'a b'\n", 5, "platform.requirements", `has "b" at column 3 after a complete expression`},
	{"requirements macro", base + "platform:\n  requirements: '$(Arch) == 1'\n", 5, "platform.requirements", "submit-file macros are not expanded here"},
	{"requirements string", base + "platform:\n  requirements: 'Name == \"x'\n", 5, "platform.requirements", "unterminated"},
	{"requirements empty parens", base + "platform:\n  requirements: '()'\n", 5, "platform.requirements", `has ")" at column 2 where a value should be`},
	{"stdout dot", base + "stdout: .\n", 4, "stdout", `"." is a directory, not a file name`},
	{"stderr dotdot", base + "stderr: ..\n", 4, "stderr", `".." is a directory, not a file name; give a file name such as job.{cluster}.{process}.err`},
	{"stdout checkpoint dir", base + "stdout: dmtcp_checkpoints\n", 4, "stdout", `"dmtcp_checkpoints" is the shim's checkpoint directory; choose another name`},
	{"stderr shim log", base + "stderr: dmtcp.{cluster}.{process}.log\n", 4, "stderr", "is the shim's log"},
	{"stdout shim output", base + "stdout: shim.{cluster}.{process}.out\n", 4, "stdout", "is the shim's own stdout"},
	{"stdout event log", base + "stdout: job.{cluster}.log\n", 4, "stdout", "is the job's event log"},
	{"stdout program", base + "stdout: sim\n", 4, "stdout", `"sim" is also the sandbox name of the program (program, line 1), which the job's output would overwrite`},
	{"stdin is stdout", base + "stdin: in/x.txt\nstdout: x.txt\n", 5, "stdout", `"x.txt" is also stdin: the program would read the file its own output empties`},
	{"stdout is stderr", base + "stdout: o.txt\nstderr: o.txt\n", 5, "stderr", `"o.txt" is also stdout (stdout, line 4): the two streams would overwrite each other`},
	{"stdout input file", base + "input_files: [data/a.csv]\nstdout: a.csv\n", 5, "stdout", "sandbox name of an input file (input_files[0], line 4)"},
	{"stdout bundle bin", "program: ./sim\nstdout: bin\ndmtcp:\n  bundle: b\n", 2, "stdout", "the DMTCP bundle's bin directory (dmtcp.bundle, line 4)"},
	{"second document", base + "---\nprogram: ./other\n", 4, "", "a second YAML document starts here (after ---)"},
	{"second document after marker", "---\n" + base + "---\n", 5, "", "a second YAML document starts here"},
	{"fractional cpus", base + "resources:\n  cpus: 1.5\n", 5, "resources.cpus", `expected a whole number, got "1.5"`},
	{"exponent count", base + "queue:\n  count: 1e9\n", 5, "queue.count", `expected a whole number, got "1e9"`},
	{"quoted count", base + "queue:\n  count: \"3\"\n", 5, "queue.count", `expected a whole number, got "3"`},
	{"NaN memory", base + "resources:\n  memory: NaN\n", 5, "resources.memory", `"NaN" is not a size`},
	{"2IB memory", base + "resources:\n  memory: 2IB\n", 5, "resources.memory", `"2IB" is not a size`},
	{"zero memory", base + "resources:\n  memory: 0\n", 5, "resources.memory", `"0" is not a size`},
	{"zero count", base + "queue:\n  count: 0\n", 5, "queue.count", "is 0, which would queue no job"},
	{"huge count", base + "queue:\n  count: 1000000000\n", 5, "queue.count", "MAX_JOBS_PER_SUBMISSION = 20000"},
	{"overflowing count with items", base + "queue:\n  count: 9223372036854775807\n  items: [a, b]\n", 5, "queue.count", "more than HTCondor accepts in one submission"},
	{"huge count with items", base + "queue:\n  count: 10000\n  items: [a, b, c]\n", 5, "queue.count", "queues 10000 × 3 items = 30000 jobs"},
	{"zero exit code", base + "checkpoint:\n  exit_code: 0\n", 5, "checkpoint.exit_code", "is 0, which HTCondor takes as the job's success"},
	{"repeated unit", base + "checkpoint:\n  interval: 30m20m\n", 5, "checkpoint.interval", "each unit once and largest first"},
	{"units out of order", base + "checkpoint:\n  interval: 30s1m\n", 5, "checkpoint.interval", "each unit once and largest first"},
	{"milliseconds", base + "checkpoint:\n  interval: 2000ms\n", 5, "checkpoint.interval", "is not a duration"},
	{"tab indentation", "program: ./sim\ndmtcp:\n\tprefix: /opt/dmtcp\n", 3, "", "indented with a tab: YAML indents with spaces only"},
	{"tab before key", "program: ./sim\n\tdmtcp: x\n", 2, "", "replace the tab with spaces"},
	{"NUL byte", "program: ./s\x00im\n", 1, "", "a NUL byte at column 13"},
	{"invalid UTF-8", "program: ./sim\nstdin: \xff\n", 2, "", "byte 0xFF at column 8 is not UTF-8 text; save the file as UTF-8"},
	{"control character", "program: ./sim\x1b\n", 1, "", "control character U+001B"},
	{"mode in capitals", base + "checkpoint:\n  mode: Self\n", 5, "checkpoint.mode", `unknown checkpoint mode "Self"; use evict, self or both (in lower case)`},
	{"engine in capitals", base + "engine: DMTCP\n", 4, "engine", "(in lower case)"},
	{"zero memory with unit", base + "resources:\n  memory: 0GB\n", 5, "resources.memory", `"0GB" is not a size`},
	{"zero vacate time", base + "checkpoint:\n  vacate_time: 0\n", 5, "checkpoint.vacate_time", "must be positive"},
	{"compress budget evict", base + "checkpoint:\n  mode: evict\n  compress_budget: 1m\n", 6, "checkpoint.compress_budget", "applies only to modes self and both with compress on"},
	{"compress budget no compress", base + "checkpoint:\n  compress: false\n  compress_budget: 1m\n", 6, "checkpoint.compress_budget", "applies only to modes self and both with compress on"},
	{"owned submit alias", base + "submit:\n  _Request_Cpus_: 2\n", 5, "submit._Request_Cpus_", "use resources.cpus"},
	{"not yaml", "program: [\n", 1, "", "not valid YAML: did not find expected node content"},
}

// TestMissingKeyLine: a missing key is reported at the mapping that should
// hold it when there is one.
func TestMissingKeyLine(t *testing.T) {
	job, err := Decode("job.yaml", []byte("# comment\nprogram: ./sim\nshim:\n  path: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = job.Validate()
	if got, want := err.Error(), "job.yaml: dmtcp: is missing; add dmtcp.bundle"; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want prefix %q", got, want)
	}
}

// TestValidateWithoutFile: a Job built in Go gets the same checks, located by
// field only.
func TestValidateWithoutFile(t *testing.T) {
	job := &Job{Program: "./sim", DMTCP: DMTCPSource{Prefix: "/opt/dmtcp"}, Arguments: []string{"a\nb"}}
	if got, want := job.Validate().Error(), "job description: arguments[0]: contains a newline"; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want prefix %q", got, want)
	}
	job.Arguments = []string{"fine"}
	if err := job.Validate(); err != nil {
		t.Errorf("valid job: %v", err)
	}
}

func TestAliasesAndNullsDecode(t *testing.T) {
	job, err := Decode("job.yaml", []byte("program: &p ./sim\narguments: [*p, 1, true, 2.50]\nstdin:\ndmtcp: {prefix: /opt/dmtcp}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(job.Arguments, "|"); got != "./sim|1|true|2.50" {
		t.Errorf("arguments = %q: YAML scalars must be kept as written", got)
	}
	if job.Stdin != "" {
		t.Errorf("stdin = %q, want empty for a null value", job.Stdin)
	}
}

// FuzzDecode: no input makes Decode or Validate panic; an error always
// names the file; a description that validates renders.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{base, base + "---\nx: 1\n", "program: ./s\x00\n", "a:\n\tb: 1\n", base + "queue:\n  count: 1e9\n", "\xff"} {
		f.Add([]byte(s))
	}
	r, err := NewRenderer("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		job, err := Decode("job.yaml", data)
		if err == nil {
			err = job.Validate()
			if err == nil {
				if err := r.Render(io.Discard, job); err != nil {
					t.Fatalf("validates but does not render: %v", err)
				}
				return
			}
		}
		if !strings.HasPrefix(err.Error(), "job.yaml") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
