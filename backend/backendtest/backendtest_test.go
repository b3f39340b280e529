package backendtest_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

const password = "correct horse battery staple"

// TestNew: what New promises, on every store: the fake clock at a TOTP step boundary for the
// Service and the store alike, an administrator signed in with the password confirmed, codes an app computes accepted, and Reopen a Service over the same data that has
// nothing of the first one's memory.
func TestNew(t *testing.T) {
	backendtest.EachStore(t, func(t *testing.T, kind backendtest.StoreKind) {
		e := backendtest.New(t, backendtest.WithStore(kind), backendtest.WithAdmin("root", password))
		if now := e.Clock.Now(); !now.Equal(backendtest.T0) || now.Unix()%30 != 0 {
			t.Errorf("the clock reads %v, want T0 (%v), the start of a TOTP step", now, backendtest.T0)
		}
		if len(e.Key) != backend.SecretKeySize || e.Config.Passwords.Argon2 != backendtest.CheapArgon2 {
			t.Errorf("key of %d bytes, argon2 %+v; want %d bytes and the cheap parameters", len(e.Key), e.Config.Passwords.Argon2, backend.SecretKeySize)
		}
		// The administrator's changes that need a recent password go through at once.
		bob := backendtest.CreateUser(t, e.Service, e.Admin, backend.NewUser{Username: "bob", Password: password})
		if err := e.Service.SetUserPassword(t.Context(), e.Admin, bob.ID, "another long passphrase", false); err != nil {
			t.Errorf("SetUserPassword as the administrator: %v, want the password confirmed", err)
		}
		if !bob.CreatedAt.Equal(backendtest.T0) {
			t.Errorf("bob created at %v, want the store's clock, T0", bob.CreatedAt)
		}

		app := backendtest.EnrollApp(t, e.Service, backendtest.SignIn(t, e.Service, "bob", "another long passphrase"), "another long passphrase", e.Clock.Now())
		if len(app.RecoveryCodes) != backend.RecoveryCodeCount || backendtest.EncodeKey(app.Secret) != strings.ReplaceAll(app.Key, " ", "") {
			t.Errorf("EnrollApp: %d codes, secret %x for key %q", len(app.RecoveryCodes), app.Secret, app.Key)
		}
		e.Clock.Advance(30 * time.Second)
		other := e.Reopen()
		st := backendtest.Login(t, other, "bob", "another long passphrase", backend.StepVerify)
		if done, err := other.VerifyTOTP(t.Context(), st.AttemptToken, e.Code(app.Key)); err != nil || done.Step != backend.StepDone {
			t.Errorf("the app's code on the reopened Service: %+v, %v; want signed in", done, err)
		}
		if backendtest.TOTP(t, app.Key, e.Clock.Now()) != e.Code(app.Key) {
			t.Error("Code is not TOTP at the clock's time")
		}
	})
}

// TestWithSMS: texts go to the fake Twilio through the real gateway, the webhook takes texts
// signed over the public URL, and what the Service logs is in Logs.
func TestWithSMS(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := backendtest.New(t, backendtest.WithSMS(srv.URL), backendtest.WithAdmin("root", password))
	mux.Handle("POST "+sms.WebhookPath, e.Webhook(e.Service))
	if e.SMS.PublicURL != srv.URL || e.SMS.APIURL != e.Twilio.URL || e.SMS.From != smstest.PhoneNumber {
		t.Errorf("SMS configuration %+v", e.SMS)
	}
	en, err := e.Service.BeginSMSEnrollment(t.Context(), e.Admin)
	if err != nil {
		t.Fatal(err)
	}
	status, reply, err := e.Twilio.Text(e.SMS.WebhookURL(), "+16502530067", smstest.PhoneNumber, en.Code)
	if err != nil || status != http.StatusOK || reply == "" {
		t.Fatalf("text to the webhook: %d %q %v", status, reply, err)
	}
	if st, err := e.Service.SMSEnrollmentStatus(t.Context(), e.Admin); err != nil || st.State != backend.SMSStateReceived {
		t.Fatalf("after the text: %+v, %v; want received", st, err)
	}
	if _, _, err := e.Twilio.Text(e.SMS.WebhookURL(), "+16502530067", smstest.PhoneNumber, "no code here"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Logs.String(), "inbound text ignored") {
		t.Errorf("Logs lack the text ignored:\n%s", e.Logs.String())
	}
	if _, err := e.Service.ConfirmSMSEnrollment(t.Context(), e.Admin); err != nil {
		t.Fatal(err)
	}
	st := backendtest.Login(t, e.Service, "root", password, backend.StepVerify)
	if _, err := e.Service.SendSMSCode(t.Context(), st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	if msgs := e.Twilio.Messages(); len(msgs) != 1 || msgs[0].To != "+16502530067" {
		t.Errorf("texts sent: %+v, want one to +16502530067", msgs)
	}
}

// TestDataDir: a data directory as gatehouse keeps it, with the key file; Close closes the
// store before the test ends, as a test handing the directory to a server process needs.
func TestDataDir(t *testing.T) {
	dir, key := backendtest.DataDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err != nil || string(got) != string(key) {
		t.Errorf("secret.key holds %q, want the key in base64", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "secret.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("secret.key mode %v, want 0600", fi.Mode().Perm())
	}
	e := backendtest.New(t, backendtest.InDataDir(dir, key), backendtest.WithRealClock())
	if e.Clock != nil || e.Config.Now != nil {
		t.Errorf("WithRealClock: Clock %v, want none and the real time", e.Clock)
	}
	backendtest.CreateUser(t, e.Service, e.Service.Operator(), backend.NewUser{Username: "alice", Password: password})
	if _, err := os.Stat(backendtest.SQLitePath(dir)); err != nil {
		t.Errorf("the database is not in the data directory: %v", err)
	}
	e.Close()
	if _, err := e.Service.NeedsFirstAdmin(context.Background()); err == nil {
		t.Error("the store answers after Close")
	}
	e.Close() // again: nothing happens
	again := backendtest.New(t, backendtest.InDataDir(dir, key))
	if _, err := again.Service.UserByUsername(t.Context(), again.Service.Operator(), "alice"); err != nil {
		t.Errorf("alice in the data directory opened again: %v", err)
	}
}
