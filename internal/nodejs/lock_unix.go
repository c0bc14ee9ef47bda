//go:build unix

package nodejs

import (
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock on path, waiting up to InstallTimeout.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(InstallTimeout)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, lockErr(path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, lockErr(path, errLockTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
