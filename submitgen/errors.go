package submitgen

import "fmt"

// Error is a problem in a job description, located so an editor can jump to
// it and worded so the user knows what to change: "job.yaml:7:
// checkpoint.interval: ...; use ...". Decoding and validation return the first
// problem only, as one such error, because later ones are often consequences.
type Error struct {
	File  string // description file name as given, "" when built in Go
	Line  int    // 1-based line, 0 when unknown
	Field string // dotted key path such as "checkpoint.interval" or "arguments[2]"
	Msg   string // what is wrong and how to fix it
}

// Error formats the problem as FILE:LINE: FIELD: MSG, the form compilers use.
func (e *Error) Error() string {
	loc := e.File
	if loc == "" {
		loc = "job description"
	}
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// source remembers the file name and the line of every decoded key path.
type source struct {
	file  string
	lines map[string]int
}

// errorf builds an Error for the key path, using the line of the path or of
// its closest parent that was written in the file (a missing key is reported
// at the mapping that should hold it).
func (s *source) errorf(path, format string, args ...any) *Error {
	e := &Error{Field: path, Msg: fmt.Sprintf(format, args...)}
	if s == nil {
		return e
	}
	e.File = s.file
	// The root mapping's line is not used: "job.yaml:1: dmtcp: is missing"
	// would point at whatever key happens to come first.
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			e.Line = l
			break
		}
	}
	return e
}

// parentPath drops the last element of a key path: "a.b[2]" -> "a.b" -> "a" -> "".
func parentPath(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '.' || p[i] == '[' {
			return p[:i]
		}
	}
	return ""
}

// joinPath appends a key to a key path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf is the line a key path was set on (or its closest parent's), 0
// when unknown; for errors that point at a second key.
func (s *source) lineOf(path string) int {
	return s.errorf(path, "").Line
}

// has says whether the description file set the key path itself (a zero
// value written out is then an error, not "use the default").
func (s *source) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.lines[path]
	return ok
}
