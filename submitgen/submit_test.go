package submitgen

import (
	"strings"
	"testing"
)

// ownedSpellings are submit keys that set what the generator writes, in the
// spellings condor_submit takes (any case, aliases, +Attr, MY.Attr), with
// the description key the refusal must point to. e2e's
// TestPassThroughRefusesOwned checks in a real pool that the ones HTCondor
// 23.9 honours do override the generated file.
var ownedSpellings = []struct{ key, fix string }{
	{"+Requirements", "platform.requirements"},
	{"MY.Requirements", "platform.requirements"},
	{"my.requirements", "platform.requirements"},
	{"REQUIREMENTS", "platform.requirements"},
	{"+KillSig", "checkpoint.signal"},
	{"My.KillSig", "checkpoint.signal"},
	{"Kill_Sig", "checkpoint.signal"},
	{"My.OnExitHold", "periodic_release"},
	{"+OnExitHoldReason", "periodic_release"},
	{"+OnExitHoldSubCode", "periodic_release"},
	{"RequestCpus", "resources.cpus"},
	{"+RequestCpus", "resources.cpus"},
	{"request_CPUs", "resources.cpus"},
	{"RequestMemory", "resources.memory"},
	{"+RequestDisk", "resources.disk"},
	{"WhenToTransferOutput", "checkpoint.mode"},
	{"+WhenToTransferOutput", "checkpoint.mode"},
	{"ShouldTransferFiles", "file transfer"},
	{"+TransferOutput", "output_files"},
	{"+TransferCheckpoint", "output_files"},
	{"+TransferInput", "input_files"},
	{"+TransferExecutable", "shim.installed"},
	{"JobMaxVacateTime", "checkpoint.vacate_time"},
	{"KillSigTimeout", "checkpoint.vacate_time"},
	{"+SuccessCheckpointExitCode", "checkpoint.exit_code"},
	{"+WantFTOnCheckpoint", "checkpoint.exit_code"},
	{"+JobUniverse", "vanilla"},
	{"+Cmd", "program"},
	{"+Args", "arguments"},
	{"+Arguments", "arguments"},
	{"env", "environment"},
	{"+Env", "environment"},
	{"getenv", "environment"},
	{"stdin", "stdin"},
	{"+In", "stdin"},
	{"+Out", "stdout"},
	{"+Err", "stderr"},
	{"+UserLog", "event log"},
	{"want_io_proxy", "platform.same_as_first_checkpoint"},
	{"WantIOProxy", "platform.same_as_first_checkpoint"},
	{"+DMTCPCkptArch", "same_as_first_checkpoint"},
	{"Queue", "use queue"},
}

// TestPassThroughRefusesOwned: every spelling of an owned command or
// attribute is refused, naming the key and the description key to use.
func TestPassThroughRefusesOwned(t *testing.T) {
	for _, tc := range ownedSpellings {
		t.Run(tc.key, func(t *testing.T) {
			job, err := Decode("job.yaml", []byte(base+"submit:\n  "+tc.key+": \"1\"\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = job.Validate()
			want := "job.yaml:5: submit." + tc.key + ": " + tc.key + " is written by the generator; "
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.fix) {
				t.Errorf("got %v\nwant %s...%s...", err, want, tc.fix)
			}
		})
	}
}

// TestPassThroughAllows: commands and attributes the generator does not
// write pass through as written.
func TestPassThroughAllows(t *testing.T) {
	for _, key := range []string{"max_retries", "+ProjectName", "MY.AccountingGroup", "request_GPUs", "initialdir", "hold_kill_sig", "periodic_release", "+RequirementsNote", "my_requirements"} {
		job, err := Decode("job.yaml", []byte(base+"submit:\n  "+key+": \"1\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Validate(); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// TestPassThroughNames: a key that is neither a command nor an attribute
// name (a dot other than MY., a space) is refused.
func TestPassThroughNames(t *testing.T) {
	for _, key := range []string{"TARGET.Requirements", "a.b", "+", "MY.", "\"x y\"", "+a.b"} {
		job, err := Decode("job.yaml", []byte(base+"submit:\n  "+key+": \"1\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Validate(); err == nil || !strings.Contains(err.Error(), "is not a submit command name") {
			t.Errorf("%s: got %v, want \"is not a submit command name\"", key, err)
		}
	}
}
