//go:build !unix

package nodejs

import (
	"os"
	"time"
)

// lockFile creates path exclusively, waiting up to InstallTimeout; a lock
// older than InstallTimeout is taken to be stale and removed.
func lockFile(path string) (unlock func(), err error) {
	deadline := time.Now().Add(InstallTimeout)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !os.IsExist(err) {
			return nil, lockErr(path, err)
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > InstallTimeout {
			_ = os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, lockErr(path, errLockTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
