package backend

import (
	"context"
	"slices"
	"strings"
)

// SSOStep is what the browser does next in a sign-in to an application (AuthorizeApp).
type SSOStep string

// The steps of a sign-in to an application.
const (
	// SSOLogin: log in (again: a step-up to the second factor, Username prefilled), then
	// come back. The login form carries the request's ID to KeepResume.
	SSOLogin SSOStep = "login"
	// SSOEnroll: the article's forced enrollment first (Login is the login attempt at
	// StepEnroll), then back to the application.
	SSOEnroll SSOStep = "enroll"
	// SSOCallback: the request is complete: the code can be issued to this session.
	SSOCallback SSOStep = "callback"
	// SSOError: the request asked for no interaction (prompt=none) and needs one: the
	// application gets Error (login_required, interaction_required, access_denied) at its
	// redirect URI, with ErrorDescription, and the person sees no page of ours.
	SSOError SSOStep = "error"
)

// The OpenID Connect errors a prompt=none request can end in (OpenID Connect Core §3.1.2.6).
const (
	SSOLoginRequired       = "login_required"
	SSOInteractionRequired = "interaction_required"
	SSOAccessDenied        = "access_denied"
)

// SSODecision is AuthorizeApp's answer.
type SSODecision struct {
	Step      SSOStep
	App       *App
	RequestID string
	Username  string      // SSOLogin as a step-up: whose login to ask for again
	Login     *LoginState // SSOEnroll: the login attempt to hand to the enroll pages
	// SSOError: the error for the application and its description, and the request whose
	// redirect URI and state it goes to.
	Error, ErrorDescription string
	Request                 *AuthRequest
}

// answer ends d's request with an error to the application (prompt=none).
func (d *SSODecision) answer(r *AuthRequest, code, description string) (*SSODecision, error) {
	d.Step, d.Request, d.Error, d.ErrorDescription = SSOError, r, code, description
	return d, nil
}

// NoAccessMessage is what a person sees who may not use an application.
func NoAccessMessage(appName string) string {
	return "You don't have access to " + appName + ": it is for administrators only. If you need it, ask an administrator."
}

// LogoutConfirmText is what the page of an application's "Log out" (RP-initiated logout) says
// before the person confirms; appName is "" when the application did not say who it is.
func LogoutConfirmText(appName string) string {
	const ends = "This ends your Gatehouse session: the applications you signed in to with it can no longer renew your sign-in, and you log in again for the next one."
	if appName == "" {
		return ends
	}
	return appName + " asks to log you out. " + ends
}

// AuthorizeApp is the hand-off from an application's authorization request to a Gatehouse
// login, one rule for every way in:
//   - nobody signed in: log in (SSOLogin), and the sign-in goes on from the login;
//   - the app is for administrators only and this user is not one: EFORBIDDEN with
//     NoAccessMessage, audited;
//   - the app has "Require Two-Factor" and this session's login gave no second factor: an
//     enrolled user logs in again with it (SSOLogin, a step-up); a user without Two-Factor
//     goes through the article's forced enrollment, the same pages as a required user, with
//     no way around it (SSOEnroll), and comes back signed in with it;
//   - the request asks for a login newer than this session's (prompt=login, or max_age
//     shorter than the session's age): log in again, as for a step-up (SSOLogin); the
//     session that login opens answers it;
//   - otherwise the request is complete for this session (who, how, when), audited as a
//     sign-in to the app, and the code may be issued to this session alone (SSOCallback).
//
// A request with prompt=none shows the person nothing: where a login, an enrollment or a
// refusal would be, the application gets the error instead (SSOError). A complete request
// is checked against the app's rules again as they are now (appStillAllows) before its code
// is issued. EINVALID for a request that expired or was used.
func (s *Service) AuthorizeApp(ctx context.Context, id *Identity, reqID string) (*SSODecision, error) {
	r, err := s.AuthRequest(ctx, reqID)
	if err != nil {
		return nil, err
	}
	a, err := s.store.FindAppByID(ctx, r.AppID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errAuthRequestGone
	} else if err != nil {
		return nil, internal("find application", err)
	}
	d := &SSODecision{App: a, RequestID: r.ID}
	if r.Done {
		if id.SignedIn() && r.OwnerHash == id.session.TokenHash && !r.CodeIssued {
			// Completed a moment ago, perhaps under other rules: the app changed, or the
			// user was demoted, since.
			if err := s.appStillAllows(ctx, &OIDCToken{AppID: r.AppID, AMR: r.AMR}, id.User); ErrorCode(err) == EUNAUTHORIZED {
				return nil, errAuthRequestGone
			} else if err != nil {
				return nil, err
			}
			d.Step = SSOCallback
			return d, nil
		}
		return nil, errAuthRequestGone
	}
	none := slices.Contains(r.Prompt, PromptNone)
	if !id.SignedIn() {
		if none {
			return d.answer(r, SSOLoginRequired, "Nobody is signed in to Gatehouse in this browser.")
		}
		d.Step = SSOLogin
		return d, nil
	}
	u, sess := id.User, id.session
	if a.Audience == AudienceAdmins && u.Role != RoleAdmin {
		s.auditSSO(ctx, AuditSSORefused, u, a.Name, "the application is for administrators only")
		if none {
			return d.answer(r, SSOAccessDenied, NoAccessMessage(a.Name))
		}
		return nil, Errorf(EFORBIDDEN, "%s", NoAccessMessage(a.Name))
	}
	if s.needsFreshLogin(r, sess) {
		if none {
			return d.answer(r, SSOLoginRequired, "The application asks for a login more recent than this session's.")
		}
		d.Step, d.Username = SSOLogin, u.Username
		return d, nil
	}
	if a.RequireTwoFactor && !hasMFA(sess.AMR) {
		// Enrolled: log in again with the factor. Not enrolled: the forced enrollment, but
		// only for a password given lately, as setting up Two-Factor from the Profile needs
		// (requireRecentPassword): a session alone (a cookie left in a browser, or taken)
		// must not set up its own second factor, which would lock its owner out. Otherwise
		// a login again first, whose fresh session then enrolls.
		if u.Enrolled() || s.requireRecentPassword(id) != nil {
			if none {
				return d.answer(r, SSOLoginRequired, a.Name+" requires a login with Two-Factor Authentication.")
			}
			d.Step, d.Username = SSOLogin, u.Username
			return d, nil
		}
		if none {
			return d.answer(r, SSOInteractionRequired, a.Name+" requires Two-Factor Authentication, which this account has not set up.")
		}
		st, err := s.forceEnrollment(ctx, u, LoginResume{AuthRequestID: r.ID})
		if err != nil {
			return nil, err
		}
		d.Step, d.Login = SSOEnroll, st
		return d, nil
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		done := *r
		done.OwnerHash, done.UserID, done.SID, done.AMR, done.AuthTime = sess.TokenHash, u.ID, sess.SID, sess.AMR, sess.CreatedAt
		ok, err := s.store.CompleteAuthRequest(ctx, &done)
		if err != nil {
			return internal("complete auth request", err)
		} else if !ok {
			return errAuthRequestGone
		}
		return s.auditEvent(ctx, AuditSSOSignIn, u, u, a.Name, "amr: "+strings.Join(sess.AMR, " "))
	})
	if err != nil {
		return nil, err
	}
	d.Step = SSOCallback
	return d, nil
}

// forceEnrollment starts a login attempt at the enroll step for a signed-in user who has no
// Two-Factor and wants an application that requires it (the article's forced enrollment, the
// same pages, no way around it), and in the same transaction binds to the attempt what the
// enrollment goes back to (checkResume): an application's authorization request, or a
// protected page. The enrollment's sign-in (a new session, proven with the new factor, that
// replaces the old one) resumes it (TakeResume).
func (s *Service) forceEnrollment(ctx context.Context, u *User, resume LoginResume) (*LoginState, error) {
	kept, err := s.checkResume(ctx, resume)
	if err != nil {
		return nil, err
	} else if kept == nil {
		return nil, Errorf(EINTERNAL, "a forced enrollment resumes nothing")
	}
	token, hash := newToken()
	now := s.now()
	a := &LoginAttempt{TokenHash: hash, UserID: u.ID, Step: StepEnroll, CreatedAt: now, ExpiresAt: now.Add(s.attemptTTL),
		IP: ClientFrom(ctx).IP, CredentialsVersion: u.CredentialsVersion}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.CreateLoginAttempt(ctx, a); err != nil {
			return internal("create login attempt", err)
		}
		return internal("keep resume", s.store.PutLoginResume(ctx, hash, kept))
	})
	if err != nil {
		return nil, err
	}
	return &LoginState{Step: StepEnroll, User: u, AttemptToken: token, ExpiresAt: a.ExpiresAt}, nil
}

// AllowCodeFor checks that the code of request reqID may be issued to id: the request is
// complete for id's own session and has no code yet. The library's callback mints a code for
// whoever knows the request's ID; this is the check in front of it. EFORBIDDEN otherwise.
func (s *Service) AllowCodeFor(ctx context.Context, id *Identity, reqID string) error {
	r, err := s.AuthRequest(ctx, reqID)
	if err != nil {
		return err
	}
	if !id.SignedIn() || !r.Done || r.CodeIssued || r.OwnerHash != id.session.TokenHash {
		return Errorf(EFORBIDDEN, "This sign-in belongs to another login. Go back to the application and sign in again.")
	}
	return nil
}

// PostLogoutRedirect checks where an application asked to be sent after "Log out" (OpenID
// Connect RP-Initiated Logout): exactly one of its redirect URIs, "" for none. EINVALID
// otherwise, so that a logout link cannot send anyone anywhere else.
func (s *Service) PostLogoutRedirect(ctx context.Context, clientID, uri string) (*App, string, error) {
	if clientID == "" {
		if uri != "" {
			return nil, "", Errorf(EINVALID, "A post-logout redirect needs the application's client ID.")
		}
		return nil, "", nil
	}
	a, err := s.ClientApp(ctx, clientID)
	if err != nil {
		return nil, "", err
	}
	if uri == "" {
		return a, "", nil
	}
	base, _, _ := strings.Cut(uri, "?")
	for _, ru := range a.RedirectURIs {
		if base == ru {
			return a, uri, nil
		}
	}
	return nil, "", Errorf(EINVALID, "The post_logout_redirect_uri is not one of the application's redirect URIs.")
}

// auditSSO records a sign-in event best effort: the person as actor and target, the app as
// the application.
func (s *Service) auditSSO(ctx context.Context, action string, u *User, app, detail string) {
	if err := s.auditEvent(ctx, action, u, u, app, detail); err != nil {
		s.log.Error("audit event not recorded", "action", action, "err", err)
	}
}

// RequiredEnrollment is what the forced-enrollment page says about who requires Two-Factor
// and what "Log out" leaves: Lead at the top, Aside under the choices.
type RequiredEnrollment struct {
	Lead  string
	Aside string
}

// RequiredEnrollmentText is what the forced-enrollment page of id (a login at the enroll step)
// says. For a user an administrator requires Two-Factor of, the article's words. For a user
// sent here by an application with "Require Two-Factor" (AuthorizeApp for OpenID Connect,
// BeginForwardEnrollment for forward-auth: what the login resumes names it), the application:
// the login is asked again only when the person next signs in to it.
func (s *Service) RequiredEnrollmentText(ctx context.Context, id *Identity) RequiredEnrollment {
	article := RequiredEnrollment{
		Lead:  "Your administrator requires Two-Factor Authentication for your account. Set it up now to finish logging in.",
		Aside: `Not now? Use "Log out" at the top of the page. You will be asked again at your next login.`,
	}
	if id == nil || id.attempt == nil || id.User.TwoFactorRequired {
		return article
	}
	a := s.resumedApp(ctx, id.attempt.TokenHash)
	if a == nil {
		return article
	}
	return RequiredEnrollment{
		Lead:  a.Name + " requires Two-Factor Authentication. Set it up now to finish signing in to " + a.Name + ".",
		Aside: `Not now? Use "Log out" at the top of the page. You will be asked again when you next sign in to ` + a.Name + ".",
	}
}
