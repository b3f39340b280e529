package backend

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuildInfoText: the version text names the module version, the commit (whole, with
// "(modified)" for a dirty tree) and the Go release, from what runtime/debug reports.
func TestBuildInfoText(t *testing.T) {
	const rev = "7d3a8f8c0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			"Gatehouse v1.2.0, commit " + rev + ", go1.26.10"},
		{"dirty tree", &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Version: "v0.0.0-20260302090000-7d3a8f8c0123+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			"Gatehouse v0.0.0-20260302090000-7d3a8f8c0123+dirty, commit " + rev + " (modified), go1.26.10"},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"Gatehouse (devel), commit unknown, go1.26.8"},
		{"no build info", nil, "Gatehouse (devel), commit unknown, " + runtime.Version()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildInfoFrom(tt.info).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// The running program's: its own Go release.
	if got := VersionText(); !strings.HasPrefix(got, "Gatehouse ") || !strings.HasSuffix(got, ", "+runtime.Version()) {
		t.Errorf("VersionText() = %q, want Gatehouse … and %s", got, runtime.Version())
	}
}
