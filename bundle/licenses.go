package bundle

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// License is one licence text a bundle carries and what it covers, for
// its README.
type License struct {
	Name   string   `json:"name"`   // the file in the bundle: doc/runtime/gcc-12-base/copyright
	Covers []string `json:"covers"` // what it is the licence of
}

// commonLicenses is where Debian keeps the full texts its copyright files
// refer to by name.
const commonLicenses = "/usr/share/common-licenses"

var commonRef = regexp.MustCompile(regexp.QuoteMeta(commonLicenses) + `/([A-Za-z0-9][A-Za-z0-9.+-]*[A-Za-z0-9+])`)

// runtimeLicenses finds, in the build host's package documentation, the
// licence of each copied library (GCC's runtime is GPL with the GCC
// Runtime Library Exception: the copies must travel with both texts): the
// owning package's copyright file on Debian (with the common licences it
// refers to) or its /usr/share/licenses directory on rpm systems. It
// returns the entries, what each covers, and the libraries whose licence
// was not found. With dmtcpLGPL, the texts of the GNU LGPL 3 and GPL 3
// go too: DMTCP's own COPYING only names its licence.
func runtimeLicenses(ctx context.Context, libs []SharedLib, dmtcpLGPL bool) (entries []*entry, lics []License, missing []string) {
	covers := map[string][]string{} // bundle name -> libraries
	srcs := map[string]string{}
	var refs []string
	if dmtcpLGPL {
		refs = []string{"LGPL-3", "GPL-3"}
	}
	for _, l := range libs {
		files := licenseFilesOf(ctx, l.Path)
		if len(files) == 0 {
			missing = append(missing, l.Name)
			continue
		}
		for name, src := range files {
			srcs[name] = src
			covers[name] = appendOnce(covers[name], l.Name)
			if data, err := os.ReadFile(src); err == nil {
				for _, m := range commonRef.FindAllStringSubmatch(string(data), -1) {
					refs = appendOnce(refs, m[1])
				}
			}
		}
	}
	for _, ref := range refs {
		src := filepath.Join(commonLicenses, ref)
		if st, err := os.Stat(src); err == nil && st.Mode().IsRegular() {
			name := "doc/common-licenses/" + ref
			srcs[name] = src
			covers[name] = []string{"full text the licences above refer to"}
		}
	}
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		real, err := filepath.EvalSymlinks(srcs[n])
		if err != nil {
			continue
		}
		entries = append(entries, &entry{name: n, src: real})
		lics = append(lics, License{Name: n, Covers: covers[n]})
	}
	return entries, lics, missing
}

// licenseFilesOf maps bundle names to the licence files of the package
// that owns lib on this machine.
func licenseFilesOf(ctx context.Context, lib string) map[string]string {
	out := map[string]string{}
	if pkg := owner(ctx, "dpkg-query", lib); pkg != "" {
		doc := filepath.Join("/usr/share/doc", pkg)
		if real, err := filepath.EvalSymlinks(doc); err == nil {
			doc = real // libstdc++6 -> gcc-12-base: one copy for all
		}
		if _, err := os.Stat(filepath.Join(doc, "copyright")); err == nil {
			out[path.Join("doc/runtime", filepath.Base(doc), "copyright")] = filepath.Join(doc, "copyright")
		}
		return out
	}
	if pkg := owner(ctx, "rpm", lib); pkg != "" {
		dir := filepath.Join("/usr/share/licenses", pkg)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Type().IsRegular() {
				out[path.Join("doc/runtime", pkg, e.Name())] = filepath.Join(dir, e.Name())
			}
		}
	}
	return out
}

// owner asks the package manager (dpkg-query or rpm) which package owns
// lib, trying the /usr-less path a merged-/usr machine's packages record.
func owner(ctx context.Context, tool, lib string) string {
	if _, err := exec.LookPath(tool); err != nil {
		return ""
	}
	cands := []string{lib}
	if rest, ok := strings.CutPrefix(lib, "/usr/"); ok {
		cands = append(cands, "/"+rest)
	}
	for _, c := range cands {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var out []byte
		var err error
		if tool == "rpm" {
			out, err = exec.CommandContext(ctx, "rpm", "-qf", "--qf", "%{NAME}\n", c).Output()
		} else {
			out, err = exec.CommandContext(ctx, "dpkg-query", "-S", c).Output()
		}
		cancel()
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if tool == "dpkg-query" {
			// "libstdc++6:amd64: /usr/lib/..." -> libstdc++6
			first, _, _ = strings.Cut(first, ": ")
			first, _, _ = strings.Cut(first, ":")
		}
		if first != "" && !strings.ContainsAny(first, "/ ") {
			return first
		}
	}
	return ""
}
