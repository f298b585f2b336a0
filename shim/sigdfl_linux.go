package shim

import (
	"syscall"
	"unsafe"
)

// kernelSigaction is the kernel's struct sigaction on the 64-bit Linux
// architectures the shim is built for (amd64, arm64).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// setDefaultAction sets the signal's disposition to SIG_DFL behind the Go
// runtime's back; only used on the way out of the process.
func setDefaultAction(sig syscall.Signal) {
	var act kernelSigaction // handler 0 is SIG_DFL
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	var set uint64 = 1 << (uint(sig) - 1)
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 1 /* SIG_UNBLOCK */, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
}
