//go:build unix

package datadir

import "syscall"

// RestrictUmask makes every file and directory the process creates from now on private to its
// user (umask 077): not only the data directory's files but everything else it writes, such as
// the PDF that the desktop console's print dialog saves with "Print to File", which holds
// recovery codes.
func RestrictUmask() { syscall.Umask(0o077) }

// unixModes says that file modes are Unix permissions here, which Prepare checks.
const unixModes = true
