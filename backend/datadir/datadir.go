// Package datadir keeps Gatehouse's data directory private to the user that runs it: the
// database holds password hashes, phone numbers and the audit log, and the key file seals
// every TOTP secret, so no other local user may read or replace anything in it.
package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Prepare makes dir ready to hold Gatehouse's files: it creates it (0700) if it does not exist.
// An existing directory that other users can read or enter is tightened to 0700, and so is
// every file directly in it that they can read (databases written before Gatehouse created its
// files 0600 were 0644); tightened lists what was changed, for the log. A directory that other
// users can write to (a shared one such as /tmp) is refused: they could replace the files in it
// whatever their modes, and tightening it would break it for them.
func Prepare(dir string) (tightened []string, err error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data directory %s is not a directory", dir)
	}
	if !unixModes {
		return nil, nil
	}
	if mode := fi.Mode(); mode.Perm()&0o022 != 0 || mode&fs.ModeSticky != 0 {
		return nil, fmt.Errorf("data directory %s can be written by other users (mode %04o): choose a directory of your own (--data DIR), or run chmod 700 %s", dir, mode.Perm(), dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory %s can be read by other users (mode %04o) and could not be made private: %w; run chmod 700 %s", dir, perm, err, dir)
		}
		tightened = append(tightened, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return tightened, fmt.Errorf("data directory: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return tightened, fmt.Errorf("data directory: %w", err)
		}
		if info.Mode().Perm()&0o077 == 0 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Chmod(path, info.Mode().Perm()&0o700); err != nil {
			return tightened, fmt.Errorf("data directory: %s can be read by other users and could not be made private: %w", path, err)
		}
		tightened = append(tightened, path)
	}
	return tightened, nil
}
