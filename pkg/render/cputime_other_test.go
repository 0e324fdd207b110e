//go:build !unix

package render_test

import "time"

func processCPU() time.Duration { return 0 }
