package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// overrides are submit keys, in the spellings condor_submit 23.9 takes,
// that change a job attribute the generator writes (attr), with a value
// that changes it.
var overrides = []struct{ key, value, attr string }{
	{"+Requirements", "true", "Requirements"},
	{"MY.Requirements", "true", "Requirements"},
	{"REQUIREMENTS", "true", "Requirements"},
	{"+KillSig", `"SIGKILL"`, "KillSig"},
	{"My.KillSig", `"SIGKILL"`, "KillSig"},
	{"My.OnExitHold", "false", "OnExitHold"},
	{"+OnExitHoldReason", `"x"`, "OnExitHoldReason"},
	{"+OnExitHoldSubCode", "1", "OnExitHoldSubCode"},
	{"RequestCpus", "3", "RequestCpus"},
	{"+RequestCpus", "3", "RequestCpus"},
	{"request_CPUs", "3", "RequestCpus"},
	{"RequestMemory", "7", "RequestMemory"},
	{"+RequestDisk", "7", "RequestDisk"},
	{"WhenToTransferOutput", "ON_EXIT", "WhenToTransferOutput"},
	{"+WhenToTransferOutput", `"ON_EXIT"`, "WhenToTransferOutput"},
	{"+ShouldTransferFiles", `"NO"`, "ShouldTransferFiles"},
	{"+TransferOutput", `"x"`, "TransferOutput"},
	{"+TransferCheckpoint", `"x"`, "TransferCheckpoint"},
	{"+TransferInput", `"x"`, "TransferInput"},
	{"+TransferExecutable", "true", "TransferExecutable"},
	{"JobMaxVacateTime", "7", "JobMaxVacateTime"},
	{"KillSigTimeout", "7", "KillSigTimeout"},
	{"+SuccessCheckpointExitCode", "7", "SuccessCheckpointExitCode"},
	{"+WantFTOnCheckpoint", "false", "WantFTOnCheckpoint"},
	{"Universe", "local", "JobUniverse"},
	{"+JobUniverse", "12", "JobUniverse"},
	{"+Cmd", `"/bin/true"`, "Cmd"},
	{"+Arguments", `"x"`, "Arguments"},
	{"+Args", `"x"`, "Args"},
	{"env", "A=1", "Env"},
	{"+Env", `"A=1"`, "Env"},
	{"+Environment", `"A=1"`, "Environment"},
	{"getenv", "true", "Environment"},
	{"stdin", "x", "In"},
	{"+In", `"x"`, "In"},
	{"+Out", `"x"`, "Out"},
	{"+Err", `"x"`, "Err"},
	{"+UserLog", `"x"`, "UserLog"},
	{"want_io_proxy", "true", "WantIOProxy"},
	{"WantIOProxy", "true", "WantIOProxy"},
}

// TestPassThroughRefusesOwned is issue 13's item 2 against the real
// condor_submit: each spelling in overrides, appended to a rendered
// job.sub, does change the job attribute the generator wrote (so it must
// be refused), and dmtcp-condor render refuses it in a description's
// submit: section, naming the key.
func TestPassThroughRefusesOwned(t *testing.T) {
	p := needPool(t)
	t.Parallel()
	dir := newJobDir(t)
	src := filepath.Join(suite.repo, "testdata", "submitgen", "minimal.yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	put(t, dir, "minimal.yaml", data, 0o644)
	renderFile(t, dir, "minimal.yaml")
	sub, err := os.ReadFile(filepath.Join(dir, "job.sub"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(sub), "\nqueue\n")
	if i < 0 {
		t.Fatalf("job.sub has no queue statement:\n%s", sub)
	}
	head := string(sub[:i+1])
	adsOf := func(name, text string) map[string]string {
		t.Helper()
		put(t, dir, name, []byte(text), 0o644)
		if out, err := p.user(dir, "condor_submit", "-dry-run", "ads.txt", name); err != nil {
			t.Fatalf("condor_submit -dry-run %s: %v\n%s", name, err, out)
		}
		out, err := os.ReadFile(filepath.Join(dir, "ads.txt"))
		if err != nil {
			t.Fatal(err)
		}
		ad := map[string]string{}
		for _, l := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				ad[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
			}
		}
		return ad
	}
	baseAd := adsOf("base.sub", string(sub))
	for _, o := range overrides {
		t.Run(o.key, func(t *testing.T) {
			ad := adsOf("probe.sub", head+o.key+" = "+o.value+"\nqueue\n")
			a := strings.ToLower(o.attr)
			if ad[a] == baseAd[a] {
				t.Errorf("condor_submit: %s = %s left %s = %s: not an override in this HTCondor, drop it from the table", o.key, o.value, o.attr, baseAd[a])
			}
			var d map[string]any
			if err := yaml.Unmarshal(data, &d); err != nil {
				t.Fatal(err)
			}
			d["submit"] = map[string]string{o.key: o.value}
			y, _ := yaml.Marshal(d)
			put(t, dir, "owned.yaml", y, 0o644)
			cmd := exec.Command(suite.cli, "render", "owned.yaml", "-o", "-")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "submit."+o.key+": "+o.key+" is written by the generator; ") {
				t.Errorf("dmtcp-condor render with submit: {%s: %s}: %v\n%s", o.key, o.value, err, out)
			}
		})
	}
}

// TestRequirementsDryRun: ClassAd expressions that render accepts as
// platform.requirements are ones condor_submit accepts too (the
// generator's parser is no stricter than HTCondor's on real expressions),
// and the job's Requirements keep them as one parenthesised clause.
func TestRequirementsDryRun(t *testing.T) {
	p := needPool(t)
	t.Parallel()
	for _, expr := range []string{
		`TARGET.Memory > 4096`,
		`(Arch == "X86_64") && (OpSys == "LINUX")`,
		`TARGET.has_avx2 =?= true || MY.Foo =!= undefined`,
		`regexp("^node[0-9]+", Machine) && !IsWarm`,
		`member(Machine, {"a", "b"}) ? true : false`,
		`Memory >= 1.5e3 * 2 - -1 % 3`,
		`Name == "quote \" inside"`,
	} {
		t.Run(expr, func(t *testing.T) {
			dir := newJobDir(t)
			render(t, dir, desc{
				"program":           "/bin/true",
				"program_installed": true,
				"dmtcp":             map[string]any{"prefix": "/opt/dmtcp"},
				"platform":          map[string]any{"requirements": expr},
			})
			executableFixture(t, p, dir)
			if out, err := p.user(dir, "condor_submit", "-dry-run", "ads.txt", "job.sub"); err != nil {
				t.Fatalf("condor_submit -dry-run refuses what render accepted: %v\n%s", err, out)
			}
			req, err := p.user(dir, "condor_q", "-jobads", "ads.txt", "-af:r", "Requirements")
			if err != nil || !strings.HasPrefix(strings.TrimSpace(req), "(") {
				t.Errorf("Requirements = %q, %v: want the expression as a parenthesised clause", req, err)
			}
		})
	}
}
