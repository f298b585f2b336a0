package shim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A fake condor_chirp records its arguments; the shim must set one job
// attribute per platform attribute the machine ad has, and none it lacks.
func TestChirpPlatform(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "calls")
	chirp := filepath.Join(dir, "condor_chirp")
	os.WriteFile(chirp, []byte("#!/bin/sh\necho \"$@\" >> "+record+"\n"), 0o755)
	ad := filepath.Join(dir, ".machine.ad")
	os.WriteFile(ad, []byte("Arch = \"X86_64\"\nOpSys = \"LINUX\"\nOpSysAndVer = \"Debian13\"\nCpus = 2\n"), 0o644)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	t.Setenv("_CONDOR_MACHINE_AD", ad)
	log, _ := openLog(filepath.Join(dir, "shim.log"), os.Stderr)
	defer log.Close()

	chirpPlatform(context.Background(), log)
	data, _ := os.ReadFile(record)
	want := "set_job_attr DMTCPCkptArch \"X86_64\"\nset_job_attr DMTCPCkptOpSys \"LINUX\"\nset_job_attr DMTCPCkptOpSysAndVer \"Debian13\"\n"
	if string(data) != want {
		t.Errorf("condor_chirp calls:\n%s\nwant:\n%s", data, want)
	}

	// No machine ad (not under HTCondor): nothing is called, nothing fails.
	os.Remove(record)
	t.Setenv("_CONDOR_MACHINE_AD", "")
	chirpPlatform(context.Background(), log)
	if _, err := os.Stat(record); err == nil {
		t.Error("condor_chirp called without a machine ad")
	}
	logged, _ := os.ReadFile(filepath.Join(dir, "shim.log"))
	if !strings.Contains(string(logged), "platform not recorded") {
		t.Errorf("log does not say the platform was not recorded:\n%s", logged)
	}
}
