package chaos

import "syscall"

// procAttr puts a child in its own process group and has the kernel kill it
// if the chaos process dies without cleaning up.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
