package shim

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want func(o Options) string // "" when o is right
	}{
		{"the 2011 command line", []string{"--log", "s.log", "--stdin", "in", "--stdout", "o", "--stderr", "e", "--ckptint", "1800", "./a.out", "x", "arg two"}, nil,
			func(o Options) string {
				if o.Log != "s.log" || o.Stdin != "in" || o.Stdout != "o" || o.Stderr != "e" || o.CkptInterval != 30*time.Minute ||
					o.Program != "./a.out" || strings.Join(o.Args, "|") != "x|arg two" {
					return "not parsed as the old shim did"
				}
				return ""
			}},
		{"defaults", []string{"./a.out"}, nil, func(o Options) string {
			if o.Signal != syscall.SIGINT || o.CheckpointExitCode != 85 || o.CkptDir != DefaultCkptDir || !o.Compress || o.CkptInterval != 0 || o.StageDir != "/tmp" {
				return "wrong defaults"
			}
			return ""
		}},
		{"-- then options for the program", []string{"--ckptint", "30m", "--", "./a.out", "--log", "-x"}, nil, func(o Options) string {
			if o.Log != "" || strings.Join(o.Args, " ") != "--log -x" {
				return "options after -- must go to the program"
			}
			return ""
		}},
		{"program's own options after it", []string{"./a.out", "--ckptint", "5"}, nil, func(o Options) string {
			if o.CkptInterval != 0 || strings.Join(o.Args, " ") != "--ckptint 5" {
				return "options after the program must go to it"
			}
			return ""
		}},
		{"environment sets, flag wins", []string{"--ckptint", "60", "./a.out"},
			map[string]string{"SHIM_DMTCP_CKPTINT": "1h", "SHIM_DMTCP_SIGNAL": "TERM", "SHIM_DMTCP_COMPRESS": "0", "SHIM_DMTCP_CKPT_DIR": "/x"},
			func(o Options) string {
				if o.CkptInterval != time.Minute || o.Signal != syscall.SIGTERM || o.Compress || o.CkptDir != "/x" {
					return "env or precedence wrong"
				}
				return ""
			}},
		{"--no-compress", []string{"--no-compress", "./a.out"}, nil, func(o Options) string {
			if o.Compress {
				return "still compressing"
			}
			return ""
		}},
		{"signal by number", []string{"--signal", "15", "--exit-after-checkpoint", "--checkpoint-exit-code", "77", "./a.out"}, nil, func(o Options) string {
			if o.Signal != syscall.SIGTERM || !o.ExitAfterCheckpoint || o.CheckpointExitCode != 77 {
				return "not parsed"
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseOptions(tc.args, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.want(o); msg != "" {
				t.Errorf("%s: %+v", msg, o)
			}
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "the program to run"},
		{[]string{"--stdin", "--stdout", "o", "./a.out"}, nil, "--stdin needs a file name, but the next word is the option --stdout"},
		{[]string{"--ckptint", "-1", "./a.out"}, nil, "negative"},
		{[]string{"--ckptint", "1 hour", "./a.out"}, nil, "is not a duration"},
		{[]string{"--ckptint", "30m20m", "./a.out"}, nil, "each unit once"},
		{[]string{"--ckpt-timeout", "1.5s", "./a.out"}, nil, "bad value \"1.5s\" for --ckpt-timeout: \"1.5s\" is not a whole number of seconds"},
		{[]string{"--ckptint", "0.5s", "./a.out"}, nil, "shorter than 1s"},
		{[]string{"--signal", "KILL", "./a.out"}, nil, "cannot be trapped"},
		{[]string{"--signal", "BOGUS", "./a.out"}, nil, "unknown signal"},
		{[]string{"--checkpoint-exit-code", "0", "./a.out"}, nil, "from 1 to 255"},
		{[]string{"--checkpoint-exit-code", "241", "./a.out"}, nil, "shim's own code"},
		{[]string{"--stage-dir", "rel", "./a.out"}, nil, "absolute path"},
		{[]string{"--bogus", "./a.out"}, nil, "unknown option --bogus"},
		{[]string{"--log"}, nil, "option --log needs a value"},
		{[]string{"./a.out"}, map[string]string{"SHIM_DMTCP_COMPRESS": "maybe"}, "SHIM_DMTCP_COMPRESS"},
		{[]string{"./a.out"}, map[string]string{"SHIM_DMTCP_CKPTINT": "-3"}, "SHIM_DMTCP_CKPTINT"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := ParseOptions(tc.args, func(k string) string { return tc.env[k] })
			if _, ok := err.(*UsageError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error with %q", err, tc.want)
			}
		})
	}
}

func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"1800", "30m", "1h30m", "0", "-5", "", "9223372036854775807", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseInterval(s)
		if err == nil && d < 0 {
			t.Errorf("ParseInterval(%q) = %v, a negative interval", s, d)
		}
	})
}

func FuzzParseOptions(f *testing.F) {
	f.Add("--log\x00x\x00--ckptint\x0030m\x00./a.out\x00y")
	f.Add("--stdin\x00--stdout\x00a")
	f.Add("--\x00-x")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := ParseOptions(args, func(string) string { return "" })
		if err == nil && !o.ShowHelp && !o.ShowVersion && o.Program == "" {
			t.Errorf("%q parsed without a program", args)
		}
	})
}

func TestQuoteArgv(t *testing.T) {
	got := quoteArgv([]string{"./a.out", "two words", "", "it's", "$HOME"})
	want := `./a.out 'two words' '' 'it'\''s' '$HOME'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
