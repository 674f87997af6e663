package pgtest

import "syscall"

// procAttr runs the child under cred (nil: as ourselves) and kills it if the
// test binary dies first, so no server outlives a crashed test run.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}
