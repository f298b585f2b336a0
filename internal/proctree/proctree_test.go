package proctree

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestDescendants(t *testing.T) {
	// sh -> sleep: both are below the sh the test starts.
	cmd := exec.Command("sh", "-c", "sleep 5 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var got []int
	for i := 0; i < 200 && len(got) < 2; i++ {
		time.Sleep(10 * time.Millisecond)
		got = Descendants(cmd.Process.Pid)
	}
	if len(got) != 2 || got[0] != cmd.Process.Pid {
		t.Fatalf("Descendants = %v, want the shell then its sleep", got)
	}
	if st, ok := Read(got[1]); !ok || st.PPID != cmd.Process.Pid {
		t.Errorf("sleep's stat %+v, %v", st, ok)
	}
	if st, ok := Read(os.Getpid()); !ok || st.State != 'R' && st.State != 'S' {
		t.Errorf("own stat %+v", st)
	}
	if Descendants(1<<30) != nil {
		t.Error("a missing process has descendants")
	}
}
