package submitgen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// dollar is how a literal "$" is written in a submit file: condor_submit expands
// every "$(...)" (and "$ENV(...)", "$$(...)" ...) in a value, so user text must
// never reach it with a bare "$".
const dollar = "$(DOLLAR)"

// segment is a piece of one argument or value: either literal user text, which
// is quoted and has its "$" escaped, or a macro reference such as "$(Cluster)"
// that the generator wants condor_submit to expand, or the "NAME=" of an
// environment entry, kept outside the quotes so the file reads NAME='x y'.
type segment struct {
	text  string
	macro bool // written verbatim
	name  bool // written verbatim, before any quote
}

// word is one argument (or one NAME=VALUE environment entry) made of segments.
type word []segment

// literal makes a word from plain user text.
func literal(s string) word { return word{{text: s}} }

// badChar reports the first character that no submit-file value can carry: a
// newline or CR would end the command (or be joined by a trailing "\"), and NUL
// truncates it inside condor_submit.
func badChar(s string) (string, bool) {
	switch {
	case strings.ContainsRune(s, '\n'):
		return "a newline", true
	case strings.ContainsRune(s, '\r'):
		return "a carriage return", true
	case strings.ContainsRune(s, 0):
		return "a NUL byte", true
	}
	return "", false
}

// isSpace is the set of characters HTCondor's argument parser splits on
// (C isspace in the "C" locale).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// writeWord appends one word in HTCondor's new ("V2") argument syntax. A word
// holding whitespace or a single quote (or an empty one) is wrapped whole in
// '...' with every ' doubled; HTCondor's own encoder quotes each such run
// separately (it”'s), which parses the same but is harder to read. Every "
// is doubled because the whole value sits inside "...", and every $ in
// literal text becomes $(DOLLAR). Macro segments are written verbatim.
func writeWord(b *strings.Builder, w word) {
	quote := true // an empty word must be written ''
	for _, s := range w {
		if s.text != "" {
			quote = false
		}
	}
	for _, s := range w {
		if s.macro && s.text == "$("+itemVar+")" {
			quote = true // an item from a file may hold whitespace
		}
		if !s.macro && !s.name && strings.IndexFunc(s.text, func(r rune) bool { return r < 0x80 && (isSpace(byte(r)) || r == '\'') }) >= 0 {
			quote = true
		}
	}
	opened := false
	for _, s := range w {
		if quote && !opened && !s.name {
			b.WriteByte('\'')
			opened = true
		}
		if s.macro || s.name {
			b.WriteString(s.text)
			continue
		}
		b.WriteString(escapeLiteral(quoteDoubler.Replace(s.text)))
	}
	if quote {
		if !opened {
			b.WriteByte('\'')
		}
		b.WriteByte('\'')
	}
}

// quoteWords encodes words as one new-style value, "w1 w2 ...".
func quoteWords(words []word) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for i, w := range words {
		for _, s := range w {
			if what, bad := badChar(s.text); bad {
				return "", fmt.Errorf("argument %d contains %s, which a submit file cannot carry", i+1, what)
			}
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		writeWord(&b, w)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// QuoteArguments encodes argv as the value of a submit file's "arguments"
// command in the new syntax, so that the job sees exactly argv whatever
// characters it holds (spaces, quotes, "$", backslashes). It fails only for
// newline, CR or NUL, which no submit file can carry.
func QuoteArguments(argv []string) (string, error) {
	words := make([]word, len(argv))
	for i, a := range argv {
		words[i] = literal(a)
	}
	return quoteWords(words)
}

// EnvVar is one environment variable for the job. Environment entries are
// kept as a list (not a map) wherever order must be stable and visible.
type EnvVar struct {
	Name  string
	Value string
}

// validEnvName reports whether name can be a job environment variable: HTCondor
// needs a non-empty name without "=", and the shell-style rule keeps names that
// a program can actually read with getenv.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// envWord is the environment entry NAME=VALUE for a checked name.
func envWord(name string, value word) word {
	return append(word{{text: name + "=", name: true}}, value...)
}

// QuoteEnvironment encodes env as the value of a submit file's "environment"
// command in the new syntax ("NAME=VALUE NAME2='x y'"), sorted by name so the
// output is stable. Values may hold any character but newline, CR and NUL.
func QuoteEnvironment(env []EnvVar) (string, error) {
	sorted := append([]EnvVar(nil), env...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	words := make([]word, len(sorted))
	for i, e := range sorted {
		if !validEnvName(e.Name) {
			return "", fmt.Errorf("environment variable name %q is not valid: use letters, digits and _, not starting with a digit", e.Name)
		}
		words[i] = envWord(e.Name, word{{text: e.Value}})
	}
	return quoteWords(words)
}

// parseArguments is the inverse of QuoteArguments: it reads a new-style
// arguments value the way condor_submit does (expand $(DOLLAR), strip the
// outer "...", undouble "", split on whitespace outside '...', undouble ”).
// It exists so tests and fuzzing can check the encoder; it rejects every
// other macro because the generator never writes one into user text.
func parseArguments(value string) ([]string, error) {
	value = strings.TrimSpace(value)
	expanded, err := expandDollar(value)
	if err != nil {
		return nil, err
	}
	if len(expanded) < 2 || expanded[0] != '"' || expanded[len(expanded)-1] != '"' {
		return nil, fmt.Errorf("new-style value must be enclosed in double quotes: %q", value)
	}
	inner := expanded[1 : len(expanded)-1]
	var raw strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '"' {
			if i+1 < len(inner) && inner[i+1] == '"' {
				raw.WriteByte('"')
				i++
				continue
			}
			return nil, fmt.Errorf("lone double quote at byte %d of %q: a literal \" is written \"\"", i+1, value)
		}
		raw.WriteByte(inner[i])
	}
	return splitV2(raw.String())
}

// expandDollar replaces $(DOLLAR) with "$" in one pass, as condor_submit does,
// and rejects any other "$" so a test notices text that was not escaped.
func expandDollar(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		// "$$(DOLLARDOLLAR)" is a pair of literal dollars, filled in when
		// the job starts (see escapeDollars).
		if pair := "$$(DOLLARDOLLAR)"; strings.HasPrefix(s[i:], pair) {
			b.WriteString("$$")
			i += len(pair) - 1
			continue
		}
		if !strings.HasPrefix(s[i:], dollar) {
			return "", fmt.Errorf("unescaped $ at byte %d of %q: condor_submit would expand it as a macro", i, s)
		}
		b.WriteByte('$')
		i += len(dollar) - 1
	}
	return b.String(), nil
}

// splitV2 splits the raw (unquoted) new-style syntax into words.
func splitV2(s string) ([]string, error) {
	args := []string{}
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isSpace(c):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						cur.WriteByte('\'')
						i++
						continue
					}
					closed = true
					break
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("unterminated single quote in %q", s)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// parseEnvironment is the inverse of QuoteEnvironment for tests and fuzzing:
// it tokenises like parseArguments and splits each entry at its first "=".
func parseEnvironment(value string) ([]EnvVar, error) {
	words, err := parseArguments(value)
	if err != nil {
		return nil, err
	}
	env := make([]EnvVar, 0, len(words))
	for _, w := range words {
		name, val, ok := strings.Cut(w, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("environment entry %q is not NAME=VALUE", w)
		}
		env = append(env, EnvVar{Name: name, Value: val})
	}
	return env, nil
}

// quoteDoubler doubles both quote characters inside a new-style value.
var quoteDoubler = strings.NewReplacer("'", "''", `"`, `""`)

var dollarRunRE = regexp.MustCompile(`\$+`)

// escapeLiteral writes every run of "$" in literal text with escapeDollars.
func escapeLiteral(t string) string {
	return dollarRunRE.ReplaceAllStringFunc(t, func(run string) string { return escapeDollars(len(run)) })
}

// escapeDollars writes a run of n literal "$": condor_submit rescans after
// expanding $(DOLLAR), so "$(DOLLAR)$(DOLLAR)" would become the match-time
// reference "$$(DOLLAR)". Pairs are $$(DOLLARDOLLAR), which the shadow turns
// into "$$" when the job starts; an odd one is $(DOLLAR), last.
func escapeDollars(n int) string {
	return strings.Repeat("$$(DOLLARDOLLAR)", n/2) + strings.Repeat(dollar, n%2)
}
