package backendtest

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// The helpers below take the Service explicitly, so that a test holding several (Reopen, or
// one built with another configuration) says which one it means. Each fails tb on an error.

// CreateUser creates a user as actor (an administrator, or svc.Operator()).
func CreateUser(tb testing.TB, svc *backend.Service, actor *backend.Identity, nu backend.NewUser) *backend.User {
	tb.Helper()
	u, err := svc.CreateUser(tb.Context(), actor, nu)
	if err != nil {
		tb.Fatalf("CreateUser(%s): %v", nu.Username, err)
	}
	return u
}

// Login runs the password step and fails tb unless it reaches the step want.
func Login(tb testing.TB, svc *backend.Service, username, password string, want backend.LoginStep) *backend.LoginState {
	tb.Helper()
	st, err := svc.Login(tb.Context(), username, password)
	if err != nil {
		tb.Fatalf("Login(%s): %v", username, err)
	}
	if st.Step != want {
		tb.Fatalf("Login(%s): got step %s, want %s", username, st.Step, want)
	}
	return st
}

// Authenticate returns the identity of a session token.
func Authenticate(tb testing.TB, svc *backend.Service, sessionToken string) *backend.Identity {
	tb.Helper()
	id, err := svc.Authenticate(tb.Context(), sessionToken)
	if err != nil {
		tb.Fatalf("Authenticate: %v", err)
	}
	return id
}

// SignIn logs in a user who has no second factor and returns the session's identity.
func SignIn(tb testing.TB, svc *backend.Service, username, password string) *backend.Identity {
	tb.Helper()
	return Authenticate(tb, svc, Login(tb, svc, username, password, backend.StepDone).SessionToken)
}

// App is an authenticator app enrolled by EnrollApp.
type App struct {
	Key           string              // the key as shown for typing, grouped in fours
	Secret        []byte              // the key decoded
	RecoveryCodes []string            // the codes handed out
	Login         *backend.LoginState // set when enrolled at the enroll step of a login
}

// EnrollApp enrolls an authenticator app for id (a session, whose password it confirms first,
// or a login at the enroll step), confirming with the code the app shows at the time at. The
// code's time step is then used up: the next login with the app needs the next step's code.
func EnrollApp(tb testing.TB, svc *backend.Service, id *backend.Identity, password string, at time.Time) *App {
	tb.Helper()
	if id.SignedIn() {
		if err := svc.ConfirmPassword(tb.Context(), id, password); err != nil {
			tb.Fatalf("ConfirmPassword: %v", err)
		}
	}
	en, err := svc.BeginAppEnrollment(tb.Context(), id)
	if err != nil {
		tb.Fatalf("BeginAppEnrollment: %v", err)
	}
	res, err := svc.ConfirmAppEnrollment(tb.Context(), id, TOTP(tb, en.Key, at))
	if err != nil {
		tb.Fatalf("ConfirmAppEnrollment: %v", err)
	}
	return &App{Key: en.Key, Secret: DecodeKey(tb, en.Key), RecoveryCodes: res.RecoveryCodes, Login: res.Login}
}
