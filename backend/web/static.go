package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"gatehouse/backend"
)

//go:embed static
var staticFiles embed.FS

// staticVersion is a hash of the static files: their URLs carry it, so browsers may cache them
// for long and still get a new version at once after an upgrade.
var staticVersion = func() string {
	h := sha256.New()
	fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFiles.ReadFile(path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// staticPath is the URL of a static file.
func staticPath(name string) string { return "/static/" + name + "?v=" + staticVersion }

func staticHandler() http.Handler {
	files := http.FileServerFS(staticFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// initial is the letter in the user menu's avatar.
func initial(u *backend.User) string {
	r, _ := utf8.DecodeRuneInString(u.Name())
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}
