package backend

import "context"

// A flash is the light-blue status bar's sentence after a change, shown once: on the next page
// the browser that asked for the change views. The web server keeps one per change it just made
// for a browser, never one a URL names (anyone can send a link, and "?notice=…" once made any page
// claim any change). It lives in the store, so another server on the same data, or one restarted
// in between, shows it all the same.
//
// The browser holds the flash's random token (a cookie, set only in the answer to the change);
// the store keeps its hash and the session it is bound to. A signed-in person's flash is bound to
// their session: another session, even of the same user and with the token, finds nothing, and
// it ends with the session. A signed-out browser's (logged out, first administrator created) is
// bound to no session: its token, 256 random bits the server handed out in the answer to a
// same-origin POST, is what no stranger's link can carry or guess.

// FlashTTL is how long a flash waits for its page view: past the recovery-code sheet that a
// change may show first (recoverySheetTTL), never longer.
const FlashTTL = recoverySheetTTL

// maxFlash bounds a notice's length: they are backend's sentences, with a name or two in them.
const maxFlash = 1000

// SetFlash keeps notice for the next page view of the browser that will hold the returned token:
// bound to id's session when id is signed in, to no session when id is nil (a browser nobody is
// signed in to). An empty notice keeps nothing and returns "".
func (s *Service) SetFlash(ctx context.Context, id *Identity, notice string) (token string, err error) {
	if notice == "" {
		return "", nil
	}
	token, hash := newToken()
	if err := s.store.PutFlash(ctx, hash, flashSession(id), clip(notice, maxFlash), FlashTTL); err != nil {
		return "", internal("put flash", err)
	}
	return token, nil
}

// TakeFlash returns the notice kept for the flash token, and forgets it, if it was kept for id's
// session (id signed in) or for no session (id nil) and has not expired; "" otherwise.
func (s *Service) TakeFlash(ctx context.Context, id *Identity, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	notice, _, err := s.store.TakeFlash(ctx, hashToken(token), flashSession(id))
	return notice, internal("take flash", err)
}

// flashSession is the session a flash of id is bound to: its token hash, "" for no session.
func flashSession(id *Identity) string {
	if id.SignedIn() {
		return id.session.TokenHash
	}
	return ""
}
