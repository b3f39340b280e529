//go:build bindings

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// In the binary `wails build` runs to generate frontend/wailsjs (built with -tags bindings),
// wails.Run writes the bindings and returns; runDesktop then calls this.
func init() { afterBindings = sortBoundEnums }

// boundEnum is one enum of models.ts as Wails v2.9.2 writes it.
var boundEnum = regexp.MustCompile(`(?m)^\texport enum (\w+) \{\n(?:.*\n)*?\t\}\n`)

// sortBoundEnums puts the enums of each namespace of models.ts in name order. Wails v2.9.2
// writes them in Go map order, a different one on every run, so the committed bindings would
// never match a fresh build (fixed upstream for packages with structs only, wailsapp/wails
// #4664; our enums' package, backend, has none bound).
func sortBoundEnums() error {
	path := filepath.Join("frontend", "wailsjs", "go", "models.ts")
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	at := 0
	ms := boundEnum.FindAllSubmatchIndex(src, -1)
	for i := 0; i < len(ms); {
		j := i + 1 // ms[i:j] is a run of adjacent enums: one namespace's
		for j < len(ms) && ms[j][0] == ms[j-1][1] {
			j++
		}
		run := slices.Clone(ms[i:j])
		slices.SortFunc(run, func(a, b []int) int { return bytes.Compare(src[a[2]:a[3]], src[b[2]:b[3]]) })
		out.Write(src[at:ms[i][0]])
		for _, m := range run {
			out.Write(src[m[0]:m[1]])
		}
		at, i = ms[j-1][1], j
	}
	out.Write(src[at:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
