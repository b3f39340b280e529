package backend

import (
	"context"
	"errors"
	"strings"
	"time"
)

// What a login resumes: a login that began somewhere else goes back there once it is complete,
// however many steps it takes (password, second factor, a forced enrollment, a new password).
// There are two such somewheres, and one mechanism for both:
//   - an application's OpenID Connect sign-in (AuthorizeApp sent the person to log in, or to
//     enroll): its authorization request's ID;
//   - a page of an application behind forward-auth (ForwardAuth sent the person to log in, or
//     BeginForwardEnrollment to enroll): the page's URL.
//
// It is one store row (LoginResume) bound to the token hash of the login attempt, moved with
// every step that replaces the attempt and at the end to the session's (moveResume, the one
// place that moves it), and taken once by that session (TakeResume). A server restarted
// between two steps, or another server on the store, carries on.

// LoginResume is what a login goes back to once it is complete: exactly one of AuthRequestID
// and URL.
type LoginResume struct {
	AuthRequestID string    // an OpenID Connect sign-in waiting for the login
	URL           string    // a protected page, canonical (CheckReturnURL)
	ExpiresAt     time.Time // the request's expiry, or returnTTL for a page
}

// returnTTL bounds how long a login may take and still return to the page asked for.
const returnTTL = time.Hour

// checkResume checks r and returns it as it is kept: a sign-in still pending (not complete,
// unexpired) with the request's expiry, or a page a login may return to (returnURL), canonical,
// for returnTTL. errAuthRequestGone for a request that is over; returnURL's errors for a page.
func (s *Service) checkResume(ctx context.Context, r LoginResume) (*LoginResume, error) {
	switch {
	case r.AuthRequestID != "" && r.URL != "":
		return nil, Errorf(EINVALID, "A login resumes one thing: an application's sign-in or a page, not both.")
	case r.AuthRequestID != "":
		ar, err := s.AuthRequest(ctx, r.AuthRequestID)
		if err != nil {
			return nil, err
		}
		if ar.Done {
			return nil, errAuthRequestGone
		}
		// A pointer only: the request may complete or expire before the login ends, and
		// AuthorizeApp, which TakeResume's caller goes to, checks it again then.
		return &LoginResume{AuthRequestID: ar.ID, ExpiresAt: ar.ExpiresAt}, nil
	case r.URL != "":
		u, _, err := s.returnURL(ctx, r.URL)
		if err != nil {
			return nil, err
		}
		return &LoginResume{URL: u, ExpiresAt: s.now().Add(returnTTL)}, nil
	}
	return nil, nil
}

// KeepResume binds what the login st resumes to the login's state in the store: its attempt,
// or the session it ended in (a login of one step). r names an application's sign-in (the
// request ID the login form carried) or a protected page (the rd it carried). A sign-in that
// expired or completed meanwhile is dropped, and so is a page that may not be returned to
// (EINVALID or EFORBIDDEN, keeping nothing): the login itself stands either way.
func (s *Service) KeepResume(ctx context.Context, st *LoginState, r LoginResume) error {
	if st == nil || (r.AuthRequestID == "" && r.URL == "") || len(r.AuthRequestID) > 64 {
		return nil
	}
	kept, err := s.checkResume(ctx, r)
	if errors.Is(err, errAuthRequestGone) {
		return nil
	} else if err != nil {
		return err
	}
	token := st.AttemptToken
	if st.Step == StepDone {
		token = st.SessionToken
	}
	return internal("keep resume", s.store.PutLoginResume(ctx, hashToken(token), kept))
}

// moveResume is the one rule that carries what a login resumes from one of its tokens to the
// next: a step replaced the attempt (from the old attempt's hash to the new one's), or the
// login became a session. Called in the step's transaction.
func (s *Service) moveResume(ctx context.Context, from, to string) error {
	if from == "" {
		return nil
	}
	return internal("move resume", s.store.MoveLoginResume(ctx, from, to))
}

// TakeResume returns, once, what id's login resumes, or nil if nothing: an application's
// sign-in to go back to (AuthorizeApp decides again, with this session), or a page, checked
// again (the domain may have been removed since). Going back to a page is the sign-in to its
// application, audited here (who, which application, how, from where), as an OpenID Connect
// sign-in is by AuthorizeApp: the forward-auth check itself writes nothing.
func (s *Service) TakeResume(ctx context.Context, id *Identity) (*LoginResume, error) {
	if !id.SignedIn() {
		return nil, nil
	}
	r, err := s.store.TakeLoginResume(ctx, id.session.TokenHash)
	if err != nil || r == nil {
		return nil, internal("take resume", err)
	}
	if r.URL == "" {
		return r, nil
	}
	u, a, err := s.returnURL(ctx, r.URL)
	if err != nil {
		return nil, nil
	}
	s.auditSSO(ctx, AuditSSOSignIn, id.User, a.Name, "forward-auth, amr: "+strings.Join(id.session.AMR, " "))
	return &LoginResume{URL: u, ExpiresAt: r.ExpiresAt}, nil
}

// resumedApp is the application the login attempt with the token hash resumes a sign-in to,
// nil if none (or it cannot be read: the caller's words then fall back to the general ones).
func (s *Service) resumedApp(ctx context.Context, attemptHash string) *App {
	r, err := s.store.FindLoginResume(ctx, attemptHash)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			s.log.Error("find login resume", "err", err)
		}
		return nil
	}
	if r.URL != "" {
		_, a, err := s.returnURL(ctx, r.URL)
		if err != nil {
			return nil
		}
		return a
	}
	ar, err := s.AuthRequest(ctx, r.AuthRequestID)
	if err != nil {
		return nil
	}
	a, err := s.store.FindAppByID(ctx, ar.AppID)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			s.log.Error("find application", "err", err)
		}
		return nil
	}
	return a
}
