package backend

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// BuildInfo is what a Gatehouse program says about its own build: `gatehouse version`, the web
// footer (to administrators) and the desktop console's About show its String, one text made
// here once.
type BuildInfo struct {
	Version   string // the main module's version: a tag, a pseudo-version, or "(devel)"
	Revision  string // the commit it was built from (vcs.revision); "" if the build recorded none
	Modified  bool   // built from a working tree with uncommitted changes (vcs.modified)
	GoVersion string // the Go release it was built with, e.g. "go1.26.10"
}

// ReadBuildInfo is the running program's BuildInfo, from runtime/debug. A build without module
// information (rare: go run of a file) says "(devel)" and the Go release of the runtime.
func ReadBuildInfo() BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return buildInfoFrom(info)
}

func buildInfoFrom(info *debug.BuildInfo) BuildInfo {
	b := BuildInfo{Version: "(devel)", GoVersion: runtime.Version()}
	if info == nil {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the build in one line, e.g. "Gatehouse v1.2.0, commit 0123abcd… (modified), go1.26.10".
// The whole revision is given: it is what `git show` needs, and a short one may become
// ambiguous. "commit unknown" when the build recorded none (go build -buildvcs=false, or a
// source tree outside version control).
func (b BuildInfo) String() string {
	var s strings.Builder
	s.WriteString("Gatehouse " + b.Version + ", commit ")
	if b.Revision == "" {
		s.WriteString("unknown")
	} else {
		s.WriteString(b.Revision)
		if b.Modified {
			s.WriteString(" (modified)")
		}
	}
	s.WriteString(", " + b.GoVersion)
	return s.String()
}

// VersionText is the running program's ReadBuildInfo as text (BuildInfo.String): what every
// front end shows as the version. It does not change while the program runs, so it is read once.
func VersionText() string { return versionText() }

var versionText = sync.OnceValue(func() string { return ReadBuildInfo().String() })
