//go:build !unix

package datadir

// RestrictUmask does nothing where there is no umask: on Windows the files inherit the access
// list of the per-user folder they are created in.
func RestrictUmask() {}

// unixModes says that file modes are not Unix permissions here (Windows reports 0777 or 0666
// for everything), so Prepare only creates the directory.
const unixModes = false
