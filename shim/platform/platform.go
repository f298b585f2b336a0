// Package platform records what a checkpoint needs from the machine that
// restarts it, and judges whether this machine will do.
//
// A DMTCP image carries the job's memory, including the libraries it had
// loaded, so what breaks a restart elsewhere is below the image: DMTCP's
// major version (the image format), the CPU architecture, and the CPU
// features that glibc and numeric libraries chose code paths for when the
// job started (a restart on a CPU without AVX2 dies of SIGILL later, far
// from the cause). A different kernel or glibc usually works and is only
// worth a warning.
package platform

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Info is what one machine offers a checkpoint.
type Info struct {
	DMTCPVersion string   `json:"dmtcp_version,omitempty"`
	Arch         string   `json:"arch"`
	Kernel       string   `json:"kernel"`
	Glibc        string   `json:"glibc,omitempty"`
	CPUModel     string   `json:"cpu_model,omitempty"`
	CPUFlags     []string `json:"cpu_flags,omitempty"`
	Hostname     string   `json:"hostname,omitempty"`
}

// Collect reads this machine's platform. The DMTCP version comes from the
// engine, which knows which install it runs.
func Collect(ctx context.Context, dmtcpVersion string) Info {
	info := Info{DMTCPVersion: dmtcpVersion}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		info.Arch = utsString(u.Machine[:])
		info.Kernel = utsString(u.Release[:])
		info.Hostname = utsString(u.Nodename[:])
	}
	info.Glibc = glibcVersion(ctx)
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		info.CPUModel, info.CPUFlags = parseCPUInfo(f)
		f.Close()
	}
	return info
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}

// glibcVersion asks getconf: the shim is static and has no libc of its own
// to ask. An empty result just leaves the field out.
func glibcVersion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "glibc"))
}

// parseCPUInfo takes the first processor's model and feature flags from
// /proc/cpuinfo (x86's "model name"/"flags", arm64's "Features").
func parseCPUInfo(r io.Reader) (model string, flags []string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if strings.TrimSpace(sc.Text()) == "" && flags != nil {
				break // end of the first processor
			}
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "model name", "Processor", "CPU part":
			if model == "" {
				model = val
			}
		case "flags", "Features":
			if flags == nil {
				flags = strings.Fields(val)
				sort.Strings(flags)
			}
		}
	}
	return model, flags
}

// isaPrefixes name the CPU features that libraries select code paths by at
// start (glibc's ifuncs, BLAS kernels): missing any of them on the restart
// machine means illegal instructions after the restart.
var isaPrefixes = []string{
	"pni", "sse", "ssse3", "avx", "fma", "bmi", "f16c", "movbe", "popcnt", "abm",
	"lzcnt", "adx", "aes", "sha", "erms", "fsrm", "vaes", "vpclmulqdq", "amx",
	"asimd", "sve", "atomics", "crc32", "pmull",
}

// ISAFlags keeps the flags that matter to a restart (see isaPrefixes), in
// their order: what a job is pinned by.
func ISAFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if isISAFlag(f) {
			out = append(out, f)
		}
	}
	return out
}

// CPUFlags reads this machine's CPU feature flags from /proc/cpuinfo, sorted.
func CPUFlags() ([]string, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_, flags := parseCPUInfo(f)
	return flags, nil
}

// ParseCPUFlags reads the flags of the first processor of a /proc/cpuinfo
// text.
func ParseCPUFlags(r io.Reader) []string {
	_, flags := parseCPUInfo(r)
	return flags
}

func isISAFlag(f string) bool {
	for _, p := range isaPrefixes {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// Verdict is what Check found: Problems make a restart impossible or unsafe,
// Warnings are differences that usually work.
type Verdict struct {
	Problems []string
	Warnings []string
}

// OK reports whether a restart may go ahead.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// Check compares the machine a checkpoint was taken on (ckpt) with this one
// (here).
func Check(ckpt, here Info) Verdict {
	var v Verdict
	if ckpt.DMTCPVersion != "" && here.DMTCPVersion != "" && Major(ckpt.DMTCPVersion) != Major(here.DMTCPVersion) {
		v.Problems = append(v.Problems, fmt.Sprintf(
			"the checkpoint was written by DMTCP %s and this machine has DMTCP %s: DMTCP cannot restart images of another major version; send the job with a DMTCP %s.x bundle",
			ckpt.DMTCPVersion, here.DMTCPVersion, Major(ckpt.DMTCPVersion)))
	}
	if ckpt.Arch != "" && here.Arch != "" && ckpt.Arch != here.Arch {
		v.Problems = append(v.Problems, fmt.Sprintf(
			"the checkpoint was taken on %s and this machine is %s; pin the job to Arch == %q",
			ckpt.Arch, here.Arch, strings.ToUpper(ckpt.Arch)))
	}
	if len(here.CPUFlags) > 0 {
		have := make(map[string]bool, len(here.CPUFlags))
		for _, f := range here.CPUFlags {
			have[f] = true
		}
		var missing []string
		for _, f := range ckpt.CPUFlags {
			if isISAFlag(f) && !have[f] {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			v.Problems = append(v.Problems, fmt.Sprintf(
				"this CPU (%s) lacks features the checkpointed job may use (%s; it ran on %s); pin the job to machines with them (e.g. Microarch or has_avx2 in Requirements)",
				orUnknown(here.CPUModel), strings.Join(missing, " "), orUnknown(ckpt.CPUModel)))
		}
	}
	if ckpt.Kernel != here.Kernel && ckpt.Kernel != "" {
		v.Warnings = append(v.Warnings, fmt.Sprintf("kernel differs: checkpoint %s, here %s", ckpt.Kernel, here.Kernel))
	}
	if ckpt.Glibc != here.Glibc && ckpt.Glibc != "" && here.Glibc != "" {
		v.Warnings = append(v.Warnings, fmt.Sprintf("glibc differs: checkpoint %s, here %s (the image carries its own)", ckpt.Glibc, here.Glibc))
	}
	if ckpt.DMTCPVersion != here.DMTCPVersion && v.OK() {
		v.Warnings = append(v.Warnings, fmt.Sprintf("DMTCP version differs: checkpoint %s, here %s", ckpt.DMTCPVersion, here.DMTCPVersion))
	}
	return v
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown model"
	}
	return s
}

// Major is the major version of a dotted version string ("4.2.0" -> "4").
func Major(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	major, _, _ := strings.Cut(v, ".")
	return major
}
