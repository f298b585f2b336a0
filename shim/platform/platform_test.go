package platform

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	base := Info{DMTCPVersion: "4.2.0", Arch: "x86_64", Kernel: "6.1.0", Glibc: "2.36", CPUModel: "EPYC", CPUFlags: []string{"avx", "avx2", "fpu", "sse4_2"}}
	for _, tc := range []struct {
		name     string
		here     func(i Info) Info
		problem  string // "" means OK
		warnings int
	}{
		{"same machine", func(i Info) Info { return i }, "", 0},
		{"patch release", func(i Info) Info { i.DMTCPVersion = "4.2.1"; return i }, "", 1},
		{"major version", func(i Info) Info { i.DMTCPVersion = "3.0.0"; return i }, "DMTCP 4.2.0", 0},
		{"architecture", func(i Info) Info { i.Arch = "aarch64"; return i }, `Arch == "X86_64"`, 0},
		{"CPU without avx2", func(i Info) Info { i.CPUFlags = []string{"avx", "fpu", "sse4_2"}; i.CPUModel = "Old"; return i }, "avx2", 0},
		{"CPU with more features", func(i Info) Info { i.CPUFlags = append(i.CPUFlags, "avx512f"); return i }, "", 0},
		{"missing non-ISA flag", func(i Info) Info { i.CPUFlags = []string{"avx", "avx2", "sse4_2"}; return i }, "", 0},
		{"kernel and glibc", func(i Info) Info { i.Kernel = "6.12"; i.Glibc = "2.41"; return i }, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(base, tc.here(base))
			if tc.problem == "" && !v.OK() {
				t.Errorf("refused: %v", v.Problems)
			}
			if tc.problem != "" && (v.OK() || !strings.Contains(strings.Join(v.Problems, ";"), tc.problem)) {
				t.Errorf("problems %v, want one mentioning %q", v.Problems, tc.problem)
			}
			if len(v.Warnings) != tc.warnings {
				t.Errorf("warnings %v, want %d", v.Warnings, tc.warnings)
			}
		})
	}
}

func TestParseCPUInfo(t *testing.T) {
	x86 := "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2\n\nprocessor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n"
	model, flags := parseCPUInfo(strings.NewReader(x86))
	if model != "AMD EPYC" || strings.Join(flags, " ") != "avx2 fpu sse4_2" {
		t.Errorf("x86: %q %v", model, flags)
	}
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd atomics\nCPU part\t: 0xd0c\n"
	model, flags = parseCPUInfo(strings.NewReader(arm))
	if model != "0xd0c" || strings.Join(flags, " ") != "asimd atomics fp" {
		t.Errorf("arm64: %q %v", model, flags)
	}
}

func TestCollectThisMachine(t *testing.T) {
	info := Collect(context.Background(), "4.2.0")
	if info.Arch == "" || info.Kernel == "" || info.DMTCPVersion != "4.2.0" {
		t.Errorf("incomplete: %+v", info)
	}
	if runtime.GOARCH == "amd64" && info.Arch != "x86_64" {
		t.Errorf("arch %q on amd64", info.Arch)
	}
	if v := Check(info, info); !v.OK() || len(v.Warnings) != 0 {
		t.Errorf("this machine is not compatible with itself: %+v", v)
	}
}

func TestMajor(t *testing.T) {
	for in, want := range map[string]string{"4.2.0": "4", "v3.1": "3", "10": "10", "": ""} {
		if got := Major(in); got != want {
			t.Errorf("Major(%q) = %q, want %q", in, got, want)
		}
	}
}
