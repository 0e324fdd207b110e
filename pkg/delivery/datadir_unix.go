//go:build unix

package delivery

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownerProblem says why a file owned by another user cannot hold the queue.
func ownerProblem(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Sprintf("it belongs to user id %d, not to this process's user (id %d); "+
			"point delivery.dataDir at a directory this user creates (e.g. a new subdirectory), or chown it", st.Uid, uid)
	}
	return ""
}
