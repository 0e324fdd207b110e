//go:build unix

package render_test

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time. Benchmarks report it
// next to wall time because this build machine is shared: wall-clock medians
// include waiting for a core, CPU time is the renderer's own cost.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
