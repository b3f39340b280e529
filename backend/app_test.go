package backend_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// goodApp is a valid confidential application.
func goodApp(name string) backend.NewApp {
	return backend.NewApp{Name: name, RedirectURIs: []string{"https://wiki.example.com/oauth2/callback"}}
}

// createApp registers na as the administrator.
func (e *env) createApp(na backend.NewApp) (*backend.App, string) {
	e.t.Helper()
	a, secret, err := e.svc.CreateApp(ctx, e.admin, na)
	if err != nil {
		e.t.Fatalf("CreateApp(%q): %v", na.Name, err)
	}
	return a, secret
}

// appCount is the number of applications stored.
func (e *env) appCount() int {
	e.t.Helper()
	p, err := e.svc.Apps(ctx, e.admin, backend.AppFilter{})
	if err != nil {
		e.t.Fatalf("Apps: %v", err)
	}
	return p.Total
}

// TestAppValidation: each bad input is refused with its own message, naming its field, and
// nothing is stored or audited.
func TestAppValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createApp(goodApp("Wiki"))
	long := "https://app.example.com/" + strings.Repeat("a", backend.MaxRedirectURISize)
	many := make([]string, backend.MaxRedirectURIs+1)
	for i := range many {
		many[i] = "https://app.example.com/cb" + string(rune('a'+i))
	}
	with := func(edit func(*backend.NewApp)) backend.NewApp {
		na := goodApp("Tracker")
		edit(&na)
		return na
	}
	uris := func(u ...string) backend.NewApp { return with(func(na *backend.NewApp) { na.RedirectURIs = u }) }
	tests := []struct {
		name  string
		in    backend.NewApp
		code  string
		field string
		want  string
	}{
		{"no name", with(func(na *backend.NewApp) { na.Name = "  " }), backend.EINVALID, backend.FieldName, "Enter a name for the application."},
		{"long name", with(func(na *backend.NewApp) { na.Name = strings.Repeat("n", backend.MaxAppNameLength+1) }), backend.EINVALID, backend.FieldName, "at most 100 characters on one line"},
		{"two-line name", with(func(na *backend.NewApp) { na.Name = "a\nb" }), backend.EINVALID, backend.FieldName, "on one line"},
		{"name taken", with(func(na *backend.NewApp) { na.Name = "WIKI" }), backend.ECONFLICT, backend.FieldName, `There is already an application named "WIKI".`},
		{"no redirect URI", uris(), backend.EINVALID, backend.FieldRedirectURIs, "Enter at least one redirect URI"},
		{"relative", uris("/callback"), backend.EINVALID, backend.FieldRedirectURIs, `"/callback" must be an absolute URL`},
		{"no scheme", uris("app.example.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "must be an absolute URL"},
		{"http not loopback", uris("http://app.example.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "must use https: http is allowed only for localhost"},
		{"http lookalike", uris("http://localhost.evil.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "must use https"},
		{"other scheme", uris("javascript://app.example.com/%0aalert(1)"), backend.EINVALID, backend.FieldRedirectURIs, "must use https (or http on localhost)"},
		{"fragment", uris("https://app.example.com/cb#x"), backend.EINVALID, backend.FieldRedirectURIs, "must not have a fragment"},
		{"empty fragment", uris("https://app.example.com/cb#"), backend.EINVALID, backend.FieldRedirectURIs, "must not have a fragment"},
		{"wildcard host", uris("https://*.example.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "contains a wildcard (*)"},
		{"wildcard path", uris("https://app.example.com/*"), backend.EINVALID, backend.FieldRedirectURIs, "contains a wildcard (*)"},
		{"userinfo", uris("https://user:pw@app.example.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "must not contain a user name or password"},
		{"not a URL", uris("https://app.example.com:port/cb"), backend.EINVALID, backend.FieldRedirectURIs, "is not a valid URL"},
		{"too long", uris(long), backend.EINVALID, backend.FieldRedirectURIs, "is longer than 2000 bytes"},
		{"too many", uris(many...), backend.EINVALID, backend.FieldRedirectURIs, "at most 10 redirect URIs, not 11"},
		{"twice", uris("https://app.example.com/cb", "https://app.example.com/cb"), backend.EINVALID, backend.FieldRedirectURIs, "is listed twice"},
		{"bad audience", with(func(na *backend.NewApp) { na.Audience = "friends" }), backend.EINVALID, backend.FieldAudience, "Who may use the application"},
		{"bad back-channel URI", with(func(na *backend.NewApp) { na.BackchannelLogoutURI = "http://app.example.com/logout" }), backend.EINVALID, backend.FieldBackchannelLogoutURI, "back-channel logout URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, secret, err := e.svc.CreateApp(ctx, e.admin, tt.in)
			wantCode(t, "CreateApp", err, tt.code)
			if msg := backend.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message: got %q, want it to say %q", msg, tt.want)
			}
			if f := backend.ErrorFields(err); !slices.Contains(f, tt.field) {
				t.Errorf("fields: got %v, want %q", f, tt.field)
			}
			if secret != "" {
				t.Errorf("secret of a refused application: got %q, want none", secret)
			}
		})
	}
	// Several bad fields at once: each is named.
	_, _, err := e.svc.CreateApp(ctx, e.admin, backend.NewApp{Name: "", RedirectURIs: []string{"ftp://x"}})
	if f := backend.ErrorFields(err); !slices.Equal(f, []string{backend.FieldName, backend.FieldRedirectURIs}) {
		t.Errorf("two bad fields: got fields %v, want name and redirect_uris", f)
	}
	if n := e.appCount(); n != 1 {
		t.Errorf("applications after refused creations: got %d, want 1", n)
	}
	if ev := e.auditEvents(backend.AuditAppCreated); len(ev) != 1 {
		t.Errorf("app.created events: got %d, want 1", len(ev))
	}

	// What is allowed: loopback over http, a query, several URIs in their order.
	ok := []string{"http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:9000/cb?x=1", "https://app.example.com/cb?tenant=a"}
	a, _ := e.createApp(backend.NewApp{Name: "Native", RedirectURIs: ok, Public: true, BackchannelLogoutURI: "https://app.example.com/logout"})
	if got, _ := e.svc.App(ctx, e.admin, a.ID); !slices.Equal(got.RedirectURIs, ok) {
		t.Errorf("redirect URIs: got %q, want %q", got.RedirectURIs, ok)
	}

	// The edit form is checked alike, and a refused edit changes nothing.
	before, _ := e.svc.App(ctx, e.admin, a.ID)
	bad := []string{"https://app.example.com/cb#frag"}
	name := ""
	_, err = e.svc.UpdateApp(ctx, e.admin, a.ID, backend.AppChanges{Name: &name, RedirectURIs: &bad})
	wantCode(t, "UpdateApp with bad fields", err, backend.EINVALID)
	if f := backend.ErrorFields(err); !slices.Equal(f, []string{backend.FieldName, backend.FieldRedirectURIs}) {
		t.Errorf("UpdateApp fields: got %v, want name and redirect_uris", f)
	}
	taken := "wiki"
	_, err = e.svc.UpdateApp(ctx, e.admin, a.ID, backend.AppChanges{Name: &taken, RedirectURIs: &ok})
	wantCode(t, "UpdateApp to a taken name", err, backend.ECONFLICT)
	if after, _ := e.svc.App(ctx, e.admin, a.ID); after.Name != before.Name || !slices.Equal(after.RedirectURIs, before.RedirectURIs) || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("after refused edits: got %+v, want %+v", after, before)
	}
	if ev := e.auditEvents(backend.AuditAppUpdated); len(ev) != 0 {
		t.Errorf("app.updated events after refused edits: got %d, want 0", len(ev))
	}
}

// TestAppSecretShownOnce: a confidential application's secret is returned once, at creation
// and at each regeneration; the store holds only its SHA-256, never the secret.
func TestAppSecretShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, secret := e.createApp(goodApp("Wiki"))
	if len(secret) != 43 {
		t.Fatalf("secret %q: got %d characters, want 43 (32 bytes, base64url)", secret, len(secret))
	}
	if !strings.HasPrefix(a.ClientID, "gh-") || len(a.ClientID) != 19 {
		t.Errorf("client ID %q: want gh- and 16 characters", a.ClientID)
	}
	hashOf := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	stored := func() []byte { return bytes.Join(slices.Collect(maps.Values(e.h.Contents())), nil) }

	all := stored()
	if bytes.Contains(all, []byte(secret)) {
		t.Errorf("the store holds the client secret in clear")
	}
	if !bytes.Contains(all, []byte(hashOf(secret))) {
		t.Errorf("the store does not hold the secret's SHA-256: nothing was searched")
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Errorf("the log holds the client secret")
	}
	// Read back, the application has the hash only, and it checks the secret.
	got, err := e.svc.App(ctx, e.admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretHash != hashOf(secret) || !got.CheckSecret(secret) || got.CheckSecret(secret[:42]) || got.CheckSecret("") {
		t.Errorf("CheckSecret: the stored hash %q does not check the secret as it should", got.SecretHash)
	}
	for _, ev := range e.auditEvents("app.") {
		if strings.Contains(ev.Detail, secret) || strings.Contains(ev.Detail, got.SecretHash) {
			t.Errorf("audit event %s names the secret or its hash: %q", ev.Action, ev.Detail)
		}
	}

	// Regenerating: a new secret, once; the old one stops working and is gone from the store.
	_, fresh, err := e.svc.RegenerateAppSecret(ctx, e.admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == secret || len(fresh) != 43 {
		t.Fatalf("regenerated secret %q: want a new one of 43 characters", fresh)
	}
	got, _ = e.svc.App(ctx, e.admin, a.ID)
	if got.CheckSecret(secret) || !got.CheckSecret(fresh) {
		t.Errorf("after regeneration: old secret accepted %v, new %v; want false, true", got.CheckSecret(secret), got.CheckSecret(fresh))
	}
	if bytes.Contains(stored(), []byte(fresh)) {
		t.Errorf("the store holds the regenerated secret in clear")
	}
	if got.ClientID != a.ClientID {
		t.Errorf("client ID after regeneration: got %q, want it unchanged %q", got.ClientID, a.ClientID)
	}

	// A public application has no secret, and none to regenerate.
	p, none := e.createApp(backend.NewApp{Name: "SPA", Public: true, RedirectURIs: []string{"https://spa.example.com/"}})
	if none != "" || p.SecretHash != "" || p.CheckSecret("") {
		t.Errorf("public application: secret %q, hash %q; want none", none, p.SecretHash)
	}
	_, s, err := e.svc.RegenerateAppSecret(ctx, e.admin, p.ID)
	wantCode(t, "RegenerateAppSecret of a public application", err, backend.ECONFLICT)
	if s != "" {
		t.Errorf("a public application's regenerated secret: got %q, want none", s)
	}
}

// TestAppAdminOnly: every application method is an administrator's, and each change needs a
// recently confirmed password; refused calls change nothing.
func TestAppAdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, secret := e.createApp(goodApp("Wiki"))
	e.createUser(backend.NewUser{Username: "user"})
	user := e.signIn("user", goodPassword)
	name := "Renamed"
	calls := []struct {
		name   string
		change bool // needs a recently confirmed password
		call   func(id *backend.Identity) error
	}{
		{"CreateApp", true, func(id *backend.Identity) error { _, _, err := e.svc.CreateApp(ctx, id, goodApp("Other")); return err }},
		{"Apps", false, func(id *backend.Identity) error { _, err := e.svc.Apps(ctx, id, backend.AppFilter{}); return err }},
		{"App", false, func(id *backend.Identity) error { _, err := e.svc.App(ctx, id, a.ID); return err }},
		{"AppByRef", false, func(id *backend.Identity) error { _, err := e.svc.AppByRef(ctx, id, a.ClientID); return err }},
		{"UpdateApp", true, func(id *backend.Identity) error {
			_, err := e.svc.UpdateApp(ctx, id, a.ID, backend.AppChanges{Name: &name})
			return err
		}},
		{"RegenerateAppSecret", true, func(id *backend.Identity) error { _, _, err := e.svc.RegenerateAppSecret(ctx, id, a.ID); return err }},
		{"DeleteApp", true, func(id *backend.Identity) error { _, err := e.svc.DeleteApp(ctx, id, a.ID); return err }},
	}
	for _, who := range []struct {
		name string
		id   *backend.Identity
	}{{"user session", user}, {"nobody", nil}} {
		for _, c := range calls {
			t.Run(who.name+"/"+c.name, func(t *testing.T) { wantCode(t, c.name, c.call(who.id), backend.EFORBIDDEN) })
		}
	}
	// The administrator's confirmation lapses: reads go on, changes ask for the password.
	e.clock.Advance(e.cfg.ReauthWindow + 11*time.Minute)
	admin := e.identity(e.adminToken)
	for _, c := range calls {
		want := ""
		if c.change {
			want = backend.EREAUTH
		}
		t.Run("unconfirmed admin/"+c.name, func(t *testing.T) { wantCode(t, c.name, c.call(admin), want) })
	}
	got, err := e.svc.App(ctx, e.svc.Operator(), a.ID)
	if err != nil || got.Name != "Wiki" || !got.CheckSecret(secret) {
		t.Errorf("the application after refused calls: got %+v, %v; want it unchanged", got, err)
	}
	if n := e.appCount(); n != 1 {
		t.Errorf("applications after refused calls: got %d, want 1", n)
	}
	if ev := e.auditEvents("app."); len(ev) != 1 {
		t.Errorf("application events after refused calls: got %d, want 1 (the creation)", len(ev))
	}
	// Confirmed again (or the operator), the changes go through.
	if err := e.svc.ConfirmPassword(ctx, admin, adminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateApp(ctx, admin, a.ID, backend.AppChanges{Name: &name}); err != nil {
		t.Errorf("UpdateApp confirmed: %v", err)
	}
	if _, err := e.svc.DeleteApp(ctx, e.svc.Operator(), a.ID); err != nil {
		t.Errorf("DeleteApp as the operator: %v", err)
	}
}

// TestAppAuditEvents: every change is audited, with who, which application and what, and the
// audit log's "Applications" filter (and "Administration") finds them.
func TestAppAuditEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, _ := e.createApp(backend.NewApp{Name: "Wiki", RedirectURIs: []string{"https://wiki.example.com/cb"}, Audience: backend.AudienceAdmins, RequireTwoFactor: true})
	uris := []string{"https://wiki.example.com/cb", "https://wiki.example.com/cb2"}
	everyone, no := backend.AudienceEveryone, false
	same := "Wiki"
	a, err := e.svc.UpdateApp(ctx, e.admin, a.ID, backend.AppChanges{Name: &same, RedirectURIs: &uris, Audience: &everyone, RequireTwoFactor: &no})
	if err != nil {
		t.Fatal(err)
	}
	// An edit that changes nothing is refused, not audited.
	_, err = e.svc.UpdateApp(ctx, e.admin, a.ID, backend.AppChanges{Name: &same, RedirectURIs: &uris})
	wantCode(t, "UpdateApp changing nothing", err, backend.ECONFLICT)
	if _, _, err := e.svc.RegenerateAppSecret(ctx, e.admin, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeleteApp(ctx, e.admin, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.App(ctx, e.admin, a.ID); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("App after DeleteApp: got %v, want ENOTFOUND", err)
	}
	_, err = e.svc.DeleteApp(ctx, e.admin, a.ID)
	wantCode(t, "DeleteApp twice", err, backend.ENOTFOUND)

	want := []struct{ action, detail string }{
		{backend.AuditAppDeleted, "client ID " + a.ClientID},
		{backend.AuditAppSecretRegenerated, "client ID " + a.ClientID},
		{backend.AuditAppUpdated, "redirect URIs, who may use it: Everyone, Require Two-Factor: No"},
		{backend.AuditAppCreated, "client ID " + a.ClientID + ", confidential, who may use it: Administrators only, Require Two-Factor: Yes"},
	}
	p, err := e.svc.AuditLog(ctx, e.admin, backend.AuditFilter{Action: "app."})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != len(want) {
		t.Fatalf("Applications filter: got %d events, want %d", len(p.Events), len(want))
	}
	for i, w := range want {
		ev := p.Events[i]
		// The application is the event's application, not a user (TargetName is for accounts).
		if ev.Action != w.action || ev.Detail != w.detail || ev.ActorName != "admin" || ev.TargetApp != "Wiki" || ev.TargetName != "" || ev.TargetID != 0 {
			t.Errorf("event %d: got %s by %s on app %q user %q %q, want %s by admin on app Wiki, no user, %q", i, ev.Action, ev.ActorName,
				ev.TargetApp, ev.TargetName, ev.Detail, w.action, w.detail)
		}
		if backend.AuditActionText(ev.Action) == ev.Action {
			t.Errorf("action %s has no words for people", ev.Action)
		}
	}
	// The filter offers the kind, and Administration takes the changes in too.
	if !slices.ContainsFunc(backend.AuditKinds, func(k backend.AuditKind) bool { return k.Key == "app." && k.Label == "Applications" }) {
		t.Errorf("AuditKinds offers no Applications")
	}
	p, _ = e.svc.AuditLog(ctx, e.admin, backend.AuditFilter{Action: "admin."})
	if n := len(slices.DeleteFunc(p.Events, func(ev *backend.AuditEvent) bool { return !strings.HasPrefix(ev.Action, "app.") })); n != 4 {
		t.Errorf("Administration filter: got %d application events, want 4", n)
	}
}

// TestAppLookups: an application is found by ID, client ID and name (ignoring case), listed
// by name, and kept across a restart.
func TestAppLookups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w, _ := e.createApp(goodApp("wiki"))
	c, _ := e.createApp(goodApp("Chat"))
	b, _ := e.createApp(goodApp("Billing"))
	p, err := e.svc.Apps(ctx, e.admin, backend.AppFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range p.Apps {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"Billing", "Chat", "wiki"}) || p.Total != 3 {
		t.Errorf("Apps: got %q (%d), want Billing, Chat, wiki", names, p.Total)
	}
	if p, _ := e.svc.Apps(ctx, e.admin, backend.AppFilter{Offset: 1, Limit: 1}); len(p.Apps) != 1 || p.Apps[0].ID != c.ID || p.Total != 3 {
		t.Errorf("Apps page 2 of 1: got %+v, want Chat of 3", p)
	}
	for _, ref := range []string{w.ClientID, "WIKI", " wiki "} {
		if a, err := e.svc.AppByRef(ctx, e.admin, ref); err != nil || a.ID != w.ID {
			t.Errorf("AppByRef(%q): got %v, %v; want wiki", ref, a, err)
		}
	}
	_, err = e.svc.AppByRef(ctx, e.admin, "nothing")
	if backend.ErrorCode(err) != backend.ENOTFOUND || backend.ErrorMessage(err) != `There is no application "nothing".` {
		t.Errorf("AppByRef(nothing): got %v", err)
	}
	_, err = e.svc.App(ctx, e.admin, 999)
	wantCode(t, "App(999)", err, backend.ENOTFOUND)

	restarted := e.restarted()
	got, err := restarted.App(ctx, restarted.Operator(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != b.ClientID || got.Name != "Billing" || !slices.Equal(got.RedirectURIs, b.RedirectURIs) ||
		got.Audience != backend.AudienceEveryone || !got.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("after a restart: got %+v, want %+v", got, b)
	}
}
