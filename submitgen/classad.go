package submitgen

import (
	"fmt"
	"strings"
)

// checkClassAdExpr reports whether s is exactly one ClassAd expression, the
// form condor_submit needs for requirements. The generator ANDs the user's
// text into its own clauses inside parentheses, so text that is not one
// expression could escape them: "true) || (true" would defeat every
// platform pin. This is a parser of the ClassAd expression grammar (the
// operators and precedence of the HTCondor manual's "ClassAd Syntax"),
// not an evaluator: it accepts any well-formed expression and names the
// first place where s stops being one.
func checkClassAdExpr(s string) error {
	toks, err := lexClassAd(s)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return fmt.Errorf("is empty; give an expression such as TARGET.Memory > 4096")
	}
	p := &adParser{toks: toks}
	if err := p.expr(); err != nil {
		return err
	}
	if p.i < len(p.toks) {
		return fmt.Errorf("has %q at column %d after a complete expression; it must be one expression (balance the parentheses, join conditions with && or ||)", p.toks[p.i].text, p.toks[p.i].col)
	}
	return nil
}

// adToken is one lexical token of a ClassAd expression: kind 'n' number,
// 's' string, 'i' identifier (or quoted attribute name), 'o' operator.
type adToken struct {
	kind byte
	text string
	col  int // 1-based
}

// adOperators are ClassAd's operators and punctuation, longest first so
// that "=?=" is not read as "=" "?" "=".
var adOperators = []string{
	">>>", "=?=", "=!=",
	"==", "!=", "<=", ">=", "&&", "||", "<<", ">>",
	"<", ">", "+", "-", "*", "/", "%", "!", "~", "&", "|", "^", "?", ":", ",", ".", ";", "=", "(", ")", "[", "]", "{", "}",
}

func lexClassAd(s string) ([]adToken, error) {
	var toks []adToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '\'':
			// Strings in "..." and attribute names in '...'; a backslash
			// escapes the next character.
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("has an unterminated %c...%c at column %d; close it", c, c, i+1)
			}
			kind := byte('s')
			if c == '\'' {
				kind = 'i'
			}
			toks = append(toks, adToken{kind, s[i : j+1], i + 1})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || ((s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, adToken{'n', s[i:j], i + 1})
			i = j
		case isAlnum(c) || c == '_':
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			toks = append(toks, adToken{'i', s[i:j], i + 1})
			i = j
		default:
			op := ""
			for _, o := range adOperators {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				hint := ""
				if c == '$' {
					hint = " (submit-file macros are not expanded here; write the ClassAd expression itself, or use submit: for macros)"
				}
				return nil, fmt.Errorf("has %q at column %d, which is not ClassAd syntax%s", c, i+1, hint)
			}
			toks = append(toks, adToken{'o', op, i + 1})
			i += len(op)
		}
	}
	return toks, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// adParser is a recursive-descent parser over adToken; each method consumes
// one construct or returns an error naming the column.
type adParser struct {
	toks  []adToken
	i     int
	depth int
}

// adLevels are the binary operators by precedence, loosest first (the
// ternary ?: is looser still and handled in expr).
var adLevels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"},
	{"==", "!=", "=?=", "=!=", "is", "isnt"},
	{"<", "<=", ">", ">="},
	{"<<", ">>", ">>>"},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *adParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].text
	}
	return ""
}

func (p *adParser) accept(ops ...string) bool {
	t := p.peek()
	for _, o := range ops {
		if p.i < len(p.toks) && strings.EqualFold(t, o) && (p.toks[p.i].kind == 'o' || p.toks[p.i].kind == 'i') {
			p.i++
			return true
		}
	}
	return false
}

func (p *adParser) errExpected(what string) error {
	if p.i >= len(p.toks) {
		return fmt.Errorf("ends where %s should follow; complete the expression", what)
	}
	t := p.toks[p.i]
	return fmt.Errorf("has %q at column %d where %s should be; it must be one expression with balanced parentheses", t.text, t.col, what)
}

func (p *adParser) expr() error {
	// Deep nesting is legal but no requirement needs it; the limit keeps a
	// hostile input from exhausting the stack.
	if p.depth++; p.depth > 200 {
		return fmt.Errorf("nests deeper than 200 levels; simplify it")
	}
	defer func() { p.depth-- }()
	if err := p.binary(0); err != nil {
		return err
	}
	if p.accept("?") {
		if err := p.expr(); err != nil {
			return err
		}
		if !p.accept(":") {
			return p.errExpected(`":" of a ?: expression`)
		}
		return p.expr()
	}
	return nil
}

func (p *adParser) binary(level int) error {
	if level == len(adLevels) {
		return p.unary()
	}
	if err := p.binary(level + 1); err != nil {
		return err
	}
	for p.accept(adLevels[level]...) {
		if err := p.binary(level + 1); err != nil {
			return err
		}
	}
	return nil
}

func (p *adParser) unary() error {
	for p.accept("-", "+", "!", "~") {
	}
	if err := p.primary(); err != nil {
		return err
	}
	for {
		switch {
		case p.accept("."):
			if p.i >= len(p.toks) || p.toks[p.i].kind != 'i' {
				return p.errExpected("an attribute name after \".\"")
			}
			p.i++
		case p.accept("["):
			if err := p.expr(); err != nil {
				return err
			}
			if !p.accept("]") {
				return p.errExpected(`"]"`)
			}
		default:
			return nil
		}
	}
}

func (p *adParser) primary() error {
	if p.i >= len(p.toks) {
		return p.errExpected("a value")
	}
	t := p.toks[p.i]
	switch {
	case t.kind == 'n' || t.kind == 's':
		p.i++
		return nil
	case t.kind == 'i':
		p.i++
		if p.accept("(") { // a function call
			return p.list(")")
		}
		return nil
	case p.accept("("):
		if err := p.expr(); err != nil {
			return err
		}
		if !p.accept(")") {
			return p.errExpected(`")"`)
		}
		return nil
	case p.accept("{"):
		return p.list("}")
	case p.accept("["):
		// A nested ClassAd: [ name = expr; ... ]
		for !p.accept("]") {
			if p.i >= len(p.toks) || p.toks[p.i].kind != 'i' {
				return p.errExpected(`an attribute name or "]"`)
			}
			p.i++
			if !p.accept("=") {
				return p.errExpected(`"="`)
			}
			if err := p.expr(); err != nil {
				return err
			}
			if !p.accept(";") && p.peek() != "]" {
				return p.errExpected(`";" or "]"`)
			}
		}
		return nil
	}
	return p.errExpected("a value")
}

// list reads "expr, expr, ..." up to and including end.
func (p *adParser) list(end string) error {
	if p.accept(end) {
		return nil
	}
	for {
		if err := p.expr(); err != nil {
			return err
		}
		if p.accept(end) {
			return nil
		}
		if !p.accept(",") {
			return p.errExpected(fmt.Sprintf(`"," or %q`, end))
		}
	}
}
