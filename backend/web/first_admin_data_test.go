package web

import (
	"html"
	"strings"
	"testing"
)

// TestFirstAdminCommandsNameTheDataDir pins issue 11 (web 8): the commands that create the
// first administrator, on the login page and in what serve prints, name the server's data
// directory with --data (quoted for the shell when it must be), instead of telling people to
// add it.
func TestFirstAdminCommandsNameTheDataDir(t *testing.T) {
	dir := "/srv/gate house/it's here"
	quoted := `'/srv/gate house/it'\''s here'`
	e := newEnv(t, withConfig(func(c *Config) { c.DataDir = dir }))
	page := e.client().get("/login").body
	for _, program := range []string{"go run .", "gatehouse"} {
		want := "| " + program + " user create --data " + quoted + " --username NAME --admin --password-stdin"
		if !strings.Contains(page, html.EscapeString(want)) {
			t.Errorf("the login page lacks %q", want)
		}
		if text := FirstAdminCLIText(dir); !strings.Contains(text, "\n    printf '%s\\n' 'PASSWORD' "+want+"\n") {
			t.Errorf("serve's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(page, "add the same") || strings.Contains(FirstAdminCLIText(dir), "add the same") {
		t.Error("the hint still tells people to add --data")
	}
	for in, want := range map[string]string{"/var/lib/gatehouse": "/var/lib/gatehouse", "C:/gh": "C:/gh", "$HOME/x": `'$HOME/x'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
