package shim

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ChirpAttrs maps the machine ClassAd attributes a restart depends on to
// the job attributes the shim sets from them at the first checkpoint; a
// submit file's Requirements compare them with each candidate machine.
var ChirpAttrs = [][2]string{
	{"Arch", "DMTCPCkptArch"},
	{"OpSys", "DMTCPCkptOpSys"},
	{"OpSysAndVer", "DMTCPCkptOpSysAndVer"},
	{"Microarch", "DMTCPCkptMicroarch"},
}

// chirpPlatform writes this machine's platform into the job ad with
// condor_chirp. Where there is no condor_chirp or no machine ad (not under
// HTCondor, or no +WantIOProxy) it does nothing: pinning is an extra.
func chirpPlatform(ctx context.Context, log *logger) {
	chirp := findChirp()
	adPath := os.Getenv("_CONDOR_MACHINE_AD")
	if chirp == "" || adPath == "" {
		log.Printf("chirp: no condor_chirp or machine ad here; platform not recorded in the job ad")
		return
	}
	ad, err := readClassAd(adPath)
	if err != nil {
		log.Printf("chirp: %v", err)
		return
	}
	for _, a := range ChirpAttrs {
		val, ok := ad[a[0]]
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(cctx, chirp, "set_job_attr", a[1], val).CombinedOutput()
		cancel()
		if err != nil {
			log.Printf("chirp: set_job_attr %s %s: %v: %s", a[1], val, err, strings.TrimSpace(string(out)))
			return
		}
		log.Printf("chirp: %s = %s", a[1], val)
	}
}

// findChirp looks where HTCondor installs condor_chirp: PATH, then its
// libexec directories.
func findChirp() string {
	if p, err := exec.LookPath("condor_chirp"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/libexec/condor/condor_chirp", "/usr/lib/condor/libexec/condor_chirp"} {
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if libexec, err := exec.Command("condor_config_val", "LIBEXEC").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(libexec)), "condor_chirp")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// readClassAd reads "Name = value" lines of an old-syntax ClassAd file,
// keeping each value as the ClassAd expression text it is.
func readClassAd(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ad := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		if ok {
			ad[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return ad, sc.Err()
}
