package submitgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Load reads and decodes the job description at path; see Decode.
func Load(path string) (*Job, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading job description: %w", err)
	}
	return Decode(path, data)
}

// Decode parses a YAML job description strictly: an unknown or repeated key, a
// value of the wrong kind, or a value that does not parse is an *Error naming
// file, line and key (with the closest known key for a misspelling). yaml.v3's
// KnownFields is not used because it is lost inside custom unmarshalers and
// reports Go type names; this walker knows the key path of every value.
// Decode does not validate; call Job.Validate (Render does).
func Decode(file string, data []byte) (*Job, error) {
	src := &source{file: file, lines: map[string]int{}}
	if e := checkPlainText(file, data); e != nil {
		return nil, e
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Line: 1, Msg: "the job description is empty; start with a line like: program: ./myprogram"}
		}
		return nil, yamlError(file, data, err)
	}
	// A second document (after a --- line) would be ignored: one file is
	// one job description.
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(file, data, err)
		}
		return nil, &Error{File: file, Line: secondDocLine(data), Msg: "a second YAML document starts here (after ---), and a job description is one document; remove the --- line, or put the second job in a file of its own"}
	}
	job := &Job{src: src}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, &Error{File: file, Line: 1, Msg: "the job description is empty; start with a line like: program: ./myprogram"}
	}
	d := decoder{src: src}
	if err := d.decode(root, reflect.ValueOf(job).Elem(), ""); err != nil {
		return nil, err
	}
	return job, nil
}

// checkPlainText finds what no YAML parser reports with a line: bytes that
// are not UTF-8 and control characters (NUL from a binary or UTF-16 file).
func checkPlainText(file string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("byte 0x%02X at column %d is not UTF-8 text; save the file as UTF-8 (a UTF-16 file or a binary cannot be read)", data[i], col)}
		case r == 0:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("a NUL byte at column %d; a job description is plain text: remove it (a UTF-16 file has one in every other byte: save it as UTF-8)", col)}
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("control character U+%04X at column %d; remove it (write special characters in a quoted string with an escape such as \\t)", r, col)}
		}
		if r == '\n' {
			line, col = line+1, 0
		}
		col++
		i += size
	}
	return nil
}

// yamlError turns a yaml.v3 error into an *Error with its line, and adds
// the fix for the commonest cause, a tab in the indentation (YAML indents
// with spaces only).
func yamlError(file string, data []byte, err error) *Error {
	e := &Error{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "not valid YAML: " + m[2]
	}
	lines := strings.Split(string(data), "\n")
	tabbed := func(n int) bool {
		return n >= 1 && n <= len(lines) && strings.Contains(lines[n-1][:len(lines[n-1])-len(strings.TrimLeft(lines[n-1], " \t"))], "\t")
	}
	switch {
	case tabbed(e.Line):
		e.Msg += "; this line is indented with a tab: YAML indents with spaces only, so replace the tab with spaces"
	case e.Line == 0:
		for n := range lines {
			if tabbed(n + 1) {
				e.Line = n + 1
				e.Msg += "; this line is indented with a tab: YAML indents with spaces only, so replace the tab with spaces"
				break
			}
		}
	}
	return e
}

// secondDocLine is the line of the --- that starts a second document.
func secondDocLine(data []byte) int {
	seen := false
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "---") && strings.TrimSpace(strings.TrimPrefix(l, "---")) == "" || strings.HasPrefix(l, "--- ") {
			if seen || i > 0 && hasContentBefore(data, i) {
				return i + 1
			}
			seen = true
		}
	}
	return 0
}

// hasContentBefore says whether lines before line index n hold anything
// but comments and blank lines (then a --- at n ends a first document).
func hasContentBefore(data []byte, n int) bool {
	for _, l := range strings.Split(string(data), "\n")[:n] {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "%") {
			return true
		}
	}
	return false
}

// yamlLineRE splits yaml.v3's "yaml: line 3: did not find ..." so the line
// goes where editors look for it.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decoder walks a YAML node tree into Go values, recording each key's line.
type decoder struct{ src *source }

// kindName describes a YAML node kind in a user's words.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value lines)"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) *Error {
	e := d.src.errorf(path, format, args...)
	e.Line = n.Line
	return e
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.src.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "key:" with nothing after it means "not set"
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			return d.fail(n, path, "%v", err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Map:
		return d.decodeMap(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.fail(n, path, "expected a list (lines starting with \"- \", or [a, b]), got %s", kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return d.fail(n, path, "expected a single value, got %s; quote it if it is meant as text", kindName(n))
		}
		v.SetString(n.Value)
		return nil
	case reflect.Bool, reflect.Int:
		// The resolved tag must match: yaml.v3 would turn 1.5 or 1e9 into
		// a whole number without a word.
		want, tag := "true or false", "!!bool"
		if v.Kind() == reflect.Int {
			want, tag = "a whole number", "!!int"
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != tag || n.Decode(v.Addr().Interface()) != nil {
			return d.fail(n, path, "expected %s, got %s", want, kindName(n))
		}
		return nil
	}
	return fmt.Errorf("submitgen: internal error: cannot decode into %s at %s", v.Type(), path)
}

// yamlKey is the YAML key of a struct field, "" for fields not in YAML.
func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" {
		return ""
	}
	return key
}

// yamlFields maps the YAML keys of a struct type to field indexes.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		key := yamlKey(t.Field(i))
		if key == "" {
			continue
		}
		idx[key] = i
		keys = append(keys, key)
	}
	return idx, keys
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	fields, keys := yamlFields(v.Type())
	if n.Kind != yaml.MappingNode {
		return d.fail(n, path, "expected a mapping with keys %s, got %s", strings.Join(keys, ", "), kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		fi, ok := fields[k.Value]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := closest(k.Value, keys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			where := "here"
			if path != "" {
				where = "under " + path
			}
			return d.fail(k, kp, "%s (keys allowed %s: %s)", msg, where, strings.Join(keys, ", "))
		}
		if line, dup := seen[k.Value]; dup {
			return d.fail(k, kp, "key repeated (first set on line %d); keep one", line)
		}
		seen[k.Value] = k.Line
		if err := d.decode(val, v.Field(fi), kp); err != nil {
			return err
		}
		d.src.lines[kp] = k.Line
	}
	return nil
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.fail(n, path, "expected a mapping (NAME: value lines), got %s", kindName(n))
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return d.fail(k, path, "expected a name as key, got %s", kindName(k))
		}
		if line, dup := seen[k.Value]; dup {
			return d.fail(k, kp, "key repeated (first set on line %d); keep one", line)
		}
		seen[k.Value] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(val, elem, kp); err != nil {
			return err
		}
		d.src.lines[kp] = k.Line
		m.SetMapIndex(reflect.ValueOf(k.Value), elem)
	}
	v.Set(m)
	return nil
}

// closest returns the candidate nearest to s in edit distance if it is close
// enough to be a likely misspelling, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", len(s)/2+2
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if d := editDistance(strings.ToLower(s), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
