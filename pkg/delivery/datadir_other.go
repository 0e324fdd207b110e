//go:build !unix

package delivery

import "io/fs"

// ownerProblem: ownership is not checked where Unix user ids do not exist
// (Windows keeps per-user ACLs on the temp and data directories).
func ownerProblem(fs.FileInfo) string { return "" }
