package dmtcpcondor_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	dmtcpcondor "github.com/dmtcp-condor/dmtcp-condor"
	"github.com/dmtcp-condor/dmtcp-condor/cli"
	"github.com/dmtcp-condor/dmtcp-condor/shim"
)

// program says whether the package in dir is one of the two command lines,
// whose errors may name their own flags, or only runs them (mains, the
// end-to-end suites). Every other package is a library: its errors name
// inputs, values and files, and a command adds which of its flags gave
// them (issue 16), because a library serves commands whose flags differ.
func program(dir string) bool {
	top, _, _ := strings.Cut(filepath.ToSlash(dir), "/")
	return dir == "shim" || top == "cli" || top == "cmd" || top == "e2e"
}

// ourFlags are the flags of dmtcp-condor (every command) and shim_dmtcp.
func ourFlags(t *testing.T) map[string]bool {
	flags := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				flags["--"+f.Name] = true
				if f.Shorthand != "" {
					flags["-"+f.Shorthand] = true
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.NewRootCmd("test"))
	var usage bytes.Buffer
	shim.Usage(&usage)
	shimFlags := regexp.MustCompile(`(?m)^  (--[a-z][a-z0-9-]+)`).FindAllStringSubmatch(usage.String(), -1)
	for _, m := range shimFlags {
		flags[m[1]] = true
	}
	// Enough that neither source can have come up empty.
	if len(shimFlags) < 15 || len(flags) < 40 {
		t.Fatalf("found %d flags (%d of shim_dmtcp): the flag sources changed shape", len(flags), len(shimFlags))
	}
	return flags
}

// flagRE finds what looks like an option in a message: a long one, or a
// one-letter one standing alone (" -o DIR").
var flagRE = regexp.MustCompile(`(?:^|[^\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b(?:[^-]|$)`)

// excused says why a flag in message msg is not a library naming a
// command's flag, or "".
func excused(msg, flag string) string {
	// An option of a program the library runs, written after it or its
	// other options: "bin/dmtcp_launch --version", "%s --version says",
	// "git log -1 --format=%ct".
	if regexp.MustCompile(`(%[sv]|\S*[/_]\S*|-\S+) ` + regexp.QuoteMeta(flag) + `\b`).MatchString(msg) {
		return "an argument of the program before it"
	}
	// A whole dmtcp-condor command line means the same whoever prints it.
	if regexp.MustCompile(`dmtcp-condor( [a-z]+)+ ` + regexp.QuoteMeta(flag) + `\b`).MatchString(msg) {
		return "a whole dmtcp-condor command line"
	}
	return ""
}

// named are the flags of flags that message msg names, unexcused.
func named(msg string, flags map[string]bool) []string {
	var out []string
	for _, m := range flagRE.FindAllStringSubmatch(msg, -1) {
		if flags[m[1]] && excused(msg, m[1]) == "" {
			out = append(out, m[1])
		}
	}
	return out
}

// messages returns the string literals of the error and warning messages
// in file: the arguments of fmt.Errorf, errors.New and every Errorf or
// Warnf method or function, and the literals of Error methods.
func messages(file *ast.File) (lits []*ast.BasicLit, calls int) {
	collect := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
				lits = append(lits, l)
			}
			return true
		})
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv != nil && n.Name.Name == "Error" && n.Body != nil {
				calls++
				collect(n.Body)
				return false
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, _ := sel.X.(*ast.Ident)
			if sel.Sel.Name == "Errorf" || sel.Sel.Name == "Warnf" || sel.Sel.Name == "New" && x != nil && x.Name == "errors" {
				calls++
				for _, a := range n.Args {
					collect(a)
				}
			}
		}
		return true
	})
	return lits, calls
}

// No library error names a flag of dmtcp-condor or shim_dmtcp.
func TestLibraryErrorsNameNoFlags(t *testing.T) {
	flags := ourFlags(t)
	fset := token.NewFileSet()
	var files, calls int
	var bad []string
	for _, path := range dmtcpcondor.GoFiles(t) {
		if strings.HasSuffix(path, "_test.go") || program(filepath.Dir(path)) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files++
		lits, n := messages(f)
		calls += n
		for _, l := range lits {
			msg, err := strconv.Unquote(l.Value)
			if err != nil {
				continue
			}
			for _, flag := range named(msg, flags) {
				bad = append(bad, fset.Position(l.Pos()).String()+": "+flag+" in "+strconv.Quote(msg))
			}
		}
	}
	// The walk must have reached the libraries, so that a rename or a
	// new skip cannot make this pass by checking nothing.
	if files < 40 || calls < 200 {
		t.Fatalf("scanned %d files and %d error constructors: too few, the walk missed the libraries", files, calls)
	}
	t.Logf("scanned %d files, %d error constructors", files, calls)
	sort.Strings(bad)
	for _, b := range bad {
		t.Errorf("%s: a library error names a command's flag; say which input is wrong (an *InputError, a sentinel) and let the command add its flag", b)
	}
}

// The check finds a flag where one is, and lets through what is not one.
func TestFlagDetector(t *testing.T) {
	flags := ourFlags(t)
	for _, tt := range []struct {
		msg  string
		want string // the flag reported, or ""
	}{
		{"give --shim PATH", "--shim"},
		{"write the directory with -o", "-o"},
		{"--version is empty", "--version"},
		{"bin/dmtcp_launch --version printed nothing", ""},
		{"%s --version says %q", ""},
		{"define them (dmtcp-condor sge config --cpu-flags)", ""},
		{"dmtcp_command --coord-port 7779", ""},
		{"set it to $(git log -1 --format=%ct)", ""},
		{"give each job its own --ckpt-dir", "--ckpt-dir"},
		{"build with -trimpath", ""},
		{"a-o b", ""},
		{"pass --no-gzip", ""}, // DMTCP's, not ours
	} {
		src := "package p\nimport \"fmt\"\nfunc f() error { return fmt.Errorf(" + strconv.Quote(tt.msg) + ") }\n"
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		lits, calls := messages(f)
		if calls != 1 || len(lits) != 1 {
			t.Fatalf("%q: %d calls, %d literals", tt.msg, calls, len(lits))
		}
		got := strings.Join(named(tt.msg, flags), " ")
		if got != tt.want {
			t.Errorf("%q: reported %q, want %q", tt.msg, got, tt.want)
		}
	}
}
