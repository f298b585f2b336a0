package submitgen

import (
	"slices"
	"strings"
	"testing"
)

// TestNamedFilesComeBack: in every mode, every file the description names
// (stdout, stderr, the shim's log, output_files) is in transfer_output_files
// (back at exit, and kept at eviction where the mode keeps the sandbox) and,
// when self-checkpointing, in transfer_checkpoint_files beside the
// checkpoint directory. A file in a subdirectory goes as its top-level
// directory, so HTCondor does not flatten it.
func TestNamedFilesComeBack(t *testing.T) {
	named := []string{"out.txt", "err.txt", shimLog, "results", "summary.txt", "a"}
	for _, tc := range []struct {
		mode      Mode
		when      string
		outCkpt   bool // dmtcp_checkpoints in transfer_output_files
		selfCkpts bool
	}{
		{ModeEvict, "ON_EXIT_OR_EVICT", true, false},
		{ModeSelf, "ON_EXIT", false, true},
		{ModeBoth, "ON_EXIT_OR_EVICT", true, true},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			job := &Job{
				Program: "./sim", DMTCP: DMTCPSource{Prefix: "/opt/dmtcp"},
				Stdout: "out.txt", Stderr: "err.txt",
				OutputFiles: []string{"results/log.txt", "./summary.txt", "results/", "a/b/c", "out.txt"},
				Checkpoint:  Checkpoint{Mode: tc.mode},
			}
			v, err := job.build()
			if err != nil {
				t.Fatal(err)
			}
			if v.WhenToTransferOutput != tc.when {
				t.Errorf("when_to_transfer_output = %s, want %s", v.WhenToTransferOutput, tc.when)
			}
			want := named
			if tc.outCkpt {
				want = append([]string{ckptDir}, named...)
			}
			if got := strings.Split(v.TransferOutputFiles, ", "); !slices.Equal(got, want) {
				t.Errorf("transfer_output_files = %q, want %q", got, want)
			}
			if !tc.selfCkpts {
				if v.TransferCheckpointFiles != "" || v.CheckpointExitCode != 0 {
					t.Errorf("mode %s writes checkpoint_exit_code %d, transfer_checkpoint_files %q", tc.mode, v.CheckpointExitCode, v.TransferCheckpointFiles)
				}
				return
			}
			if got, want := strings.Split(v.TransferCheckpointFiles, ", "), append([]string{ckptDir}, named...); !slices.Equal(got, want) {
				t.Errorf("transfer_checkpoint_files = %q, want %q", got, want)
			}
		})
	}
}
