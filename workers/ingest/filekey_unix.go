//go:build unix

package ingest

import (
	"os"
	"syscall"
)

// keyOf is the device and inode of st, which name one file however it is reached.
func keyOf(st os.FileInfo) (fileKey, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: uint64(sys.Dev), ino: uint64(sys.Ino)}, true
}
