package bundle

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// VersionPattern is what a release version looks like, for "bundle" and
// "package" alike: a digit first, then groups of letters and digits
// joined by single dots, pluses, tildes or dashes (1.2.0, 1.2.0-rc1,
// 1.2.0~rc1, 1.2.1-SNAPSHOT.abc1234). The version becomes part of file
// names, of the bundle's top directory and of the packages' control
// files, so nothing else may pass: no slash or "..", no newline, no space.
const VersionPattern = `^[0-9][0-9A-Za-z]*([.+~-][0-9A-Za-z]+)*$`

var versionRE = regexp.MustCompile(VersionPattern)

// CheckVersion validates a release version against VersionPattern. Its
// error is an *InputError for "Version".
func CheckVersion(v string) error {
	switch {
	case v == "":
		return badInput("Version", fmt.Errorf("the release version is empty; give one such as 1.2.0"))
	case len(v) > 64:
		return badInput("Version", fmt.Errorf("release version %q is longer than 64 characters", v))
	case !versionRE.MatchString(v):
		return badInput("Version", fmt.Errorf("%q is not a release version: it must match %s (a digit first, then letters and digits joined by single . + ~ or -, such as 1.2.0 or 1.2.0-rc1)", v, VersionPattern))
	}
	return nil
}

// OutputPath joins dir (the output directory) and a generated file name,
// and refuses a name that would put the file anywhere but directly in
// dir: an *InputError for "OutDir".
func OutputPath(dir, name string) (string, error) {
	if dir == "" {
		dir = "."
	}
	out := filepath.Join(dir, name)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00\n") || filepath.Dir(out) != filepath.Clean(dir) {
		return "", badInput("OutDir", fmt.Errorf("the output file name %q is not a plain file name inside the output directory %s", name, dir))
	}
	return out, nil
}
