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
		if text := FirstAdminCLIText(dir, false); !strings.Contains(text, "\n    printf '%s\\n' 'PASSWORD' "+want+"\n") {
			t.Errorf("serve's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(page, "add the same") || strings.Contains(FirstAdminCLIText(dir, false), "add the same") {
		t.Error("the hint still tells people to add --data")
	}
	for in, want := range map[string]string{"/var/lib/gatehouse": "/var/lib/gatehouse", "C:/gh": "C:/gh", "$HOME/x": `'$HOME/x'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestFirstAdminCommandsOnPostgreSQL pins issue 12 (#8): on PostgreSQL the hint said to add
// --data, and the commands run so made an administrator in a local SQLite. They say to run
// them with the server's database URL and key, and name no --data.
func TestFirstAdminCommandsOnPostgreSQL(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) { c.DataDir, c.SharedDatabase = "/var/lib/gatehouse", true }))
	page := e.client().get("/login").body
	text := FirstAdminCLIText("/var/lib/gatehouse", true)
	for name, got := range map[string]string{"login page": html.UnescapeString(page), "serve's text": text} {
		if !strings.Contains(got, "Run them with the same GATEHOUSE_DATABASE_URL and server key") {
			t.Errorf("%s lacks the database URL and key:\n%s", name, got)
		}
		if strings.Contains(got, "--data") {
			t.Errorf("%s names --data:\n%s", name, got)
		}
		if !strings.Contains(got, "gatehouse user create --username NAME --admin --password-stdin") {
			t.Errorf("%s lacks the command:\n%s", name, got)
		}
	}
}
