package backend

import (
	"context"
	"errors"
	"time"
)

// Store is the persistence the Service needs. Its implementations are backend/sqlite (one
// file, one writer) and backend/postgres (a database several servers share).
//
// Every method runs in its own transaction and stamps writes with one timestamp taken from the
// store's clock at the start of that transaction. Methods that decide something under
// concurrency (ConsumeTOTPStep, UseRecoveryCode, CompleteLogin, UpdateFailures) must decide
// atomically: of many concurrent callers with the same arguments, exactly the right number win.
type Store interface {
	// Atomically runs fn in one write transaction: the store methods fn calls with the context
	// it is given join it, see its writes, and commit together (one sync to disk) or, if fn
	// returns an error, not at all. fn must not block on anything but the store. A store may
	// roll the transaction back and run fn again from the start (PostgreSQL, after breaking a
	// deadlock), so fn must keep nothing from an earlier run but what it reads from the store.
	Atomically(ctx context.Context, fn func(ctx context.Context) error) error

	// Ping checks that the store answers a query, within ctx's deadline, without taking any
	// lock a write holds (SQLite: on a reader connection; PostgreSQL: a round trip on a pooled
	// connection, which the pool opens anew if the database was restarted). It returns the
	// driver's error, unchanged, when it does not.
	Ping(ctx context.Context) error

	// CreateUser inserts u with the given password hash and sets u.ID, u.CreatedAt and
	// u.UpdatedAt. ECONFLICT when the username is taken (compared case-insensitively).
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// SeedUsers inserts users, all with the same password hash, in one transaction (or the
	// Atomically one ctx carries), setting each one's ID, CreatedAt and UpdatedAt: test data in
	// bulk for Service.SeedUsers, where CreateUser would commit once per user. It writes no
	// audit event. ECONFLICT, inserting none, if a username is taken; EINVALID for an unknown
	// role or method.
	SeedUsers(ctx context.Context, users []*User, passwordHash string) error
	// FindUserByID returns the user; ENOTFOUND if there is none.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserForUpdate returns the user like FindUserByID, but only inside an Atomically
	// transaction, and so that no other writer can change the row until that transaction ends
	// (SQLite: its write lock, held from BEGIN; a row-locking store: SELECT … FOR UPDATE). A
	// step decides on the row it returns and writes in the same transaction. ENOTFOUND if there
	// is none.
	FindUserForUpdate(ctx context.Context, id int64) (*User, error)
	// FindUserByUsername returns the user, matching case-insensitively; ENOTFOUND if there is none.
	FindUserByUsername(ctx context.Context, username string) (*User, error)
	// FindUsers returns one page of the users matching f, ordered by username, and the number
	// of all users matching f. Inside an Atomically transaction, an answer for f.Role RoleAdmin
	// holds until that transaction ends (SQLite: its write lock; PostgreSQL: the lock every
	// change of who is an administrator takes): the first administrator is created on "none".
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	// CountUsersByStatus counts all users by Two-Factor status; every status is present.
	CountUsersByStatus(ctx context.Context) (StatusCounts, error)
	// CountEnabledAdmins counts the administrators who are not disabled. Inside an Atomically
	// transaction no other writer can change the count before that transaction ends (SQLite:
	// its write lock, held from BEGIN; a row-locking store locks the rows it counts, SELECT …
	// FOR UPDATE): the Service decides the last-administrator rule on it.
	CountEnabledAdmins(ctx context.Context) (int, error)
	// UpdateUser applies upd and returns the updated user. A change of the role, disabled,
	// TwoFactorRequired or MustChangePassword, and ClearEnrollment, is a new CredentialsVersion.
	// It stores what it is given: the rules (the last enabled administrator stays one) are the
	// Service's. ENOTFOUND if there is no such user; EINVALID for an unknown role.
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)

	// PasswordHash returns the user's encoded password hash; ENOTFOUND if there is no such user.
	PasswordHash(ctx context.Context, userID int64) (string, error)
	// SetPassword stores a new password hash and the must-change flag, a new
	// CredentialsVersion. When endSessionsExcept
	// is non-nil, every session and login attempt of the user ends except the session whose
	// token hash it points to ("" ends them all).
	SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error

	// UpdateFailures reads the user's failure state, calls fn with it and the transaction's
	// time, and stores what fn leaves in the state, all in one write transaction, so that
	// concurrent callers see each other's changes. fn's error is returned as is and nothing is
	// stored. ENOTFOUND if there is no such user.
	UpdateFailures(ctx context.Context, userID int64, fn func(f *Failures, now time.Time) error) error

	// UpdateUnknownFailures is UpdateFailures for a username that names no account: attempts
	// for unknown names are counted like real ones. nameHash is the Service's keyed hash of the
	// case-folded name (hex SHA-256), never the name, which may be anything typed (a password
	// in the wrong field, megabytes); EINVALID for any other key.
	UpdateUnknownFailures(ctx context.Context, nameHash string, fn func(f *Failures, now time.Time) error) error

	// BeginAppEnrollment stores the sealed secret of an app enrollment that owner (the token
	// hash of the session, or login attempt, that began it) began for the user, expiring ttl
	// after the transaction's time. It replaces owner's earlier app enrollment, and no one
	// else's. ENOTFOUND if there is no such user.
	BeginAppEnrollment(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*PendingAppEnrollment, error)
	// FindAppEnrollment returns owner's pending app enrollment, expired or not; ENOTFOUND if
	// there is none.
	FindAppEnrollment(ctx context.Context, owner string) (*PendingAppEnrollment, error)
	// TOTPSecret returns the sealed active secret; ENOTFOUND if the user has none.
	TOTPSecret(ctx context.Context, userID int64) ([]byte, error)
	// EnableTwoFactor records a completed enrollment in one transaction: it sets the method
	// (and e.SealedTOTP and e.TOTPStep as the last used step for the app, or e.SMSPhone for SMS),
	// ends every pending app and SMS enrollment of the user, whoever began it, and replaces the
	// recovery codes with codes; it is a new CredentialsVersion. ENOTFOUND if there is no such user. It changes nothing and
	// returns ECONFLICT unless the enrollment is still pending for e.Owner and unexpired: for
	// MethodApp owner's pending secret must still be e.SealedTOTP, for MethodSMS owner's pending
	// SMS enrollment must have received e.SMSPhone (compared and deleted in one statement). So
	// of two confirmations racing, only one enables and hands out recovery codes that work, and
	// no one confirms a setup another session or login began.
	EnableTwoFactor(ctx context.Context, userID int64, e Enrollment, codes []RecoveryCode) error
	// ConsumeTOTPStep marks the TOTP time step as used, only if it is later than the last used
	// step, with one conditional UPDATE (RFC 6238 §5.2: a code must not be accepted twice). It
	// reports whether this call consumed it.
	ConsumeTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)

	// ReplaceRecoveryCodes voids the user's recovery codes and stores codes instead.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []RecoveryCode) error
	// RecoveryCodes returns the user's unused recovery codes (hashes only).
	RecoveryCodes(ctx context.Context, userID int64) ([]RecoveryCode, error)
	// UseRecoveryCode marks the code used, only if it is still unused, with one conditional
	// UPDATE. It reports whether this call used it.
	UseRecoveryCode(ctx context.Context, codeID int64) (bool, error)

	// PutRecoverySheet stores the sealed recovery codes that owner (the token hash of the
	// session, or login attempt, that received them) received for the user, issued at the
	// transaction's time and expiring ttl later. It replaces every earlier sheet of the user,
	// whoever received it (their codes are void now). ENOTFOUND if there is no such user.
	PutRecoverySheet(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*RecoverySheet, error)
	// FindRecoverySheet returns the sheet owner received, expired or not; ENOTFOUND if there
	// is none.
	FindRecoverySheet(ctx context.Context, owner string) (*RecoverySheet, error)
	// MoveRecoverySheet gives owner's sheet to newOwner (a login that went on under a new
	// token), sealed anew as sealed, keeping its times, with one conditional UPDATE. It
	// reports false, changing nothing, if owner has no sheet.
	MoveRecoverySheet(ctx context.Context, owner, newOwner string, sealed []byte) (bool, error)
	// DeleteRecoverySheet removes owner's sheet ("I have saved these codes"), and reports
	// whether there was one, with one conditional DELETE.
	DeleteRecoverySheet(ctx context.Context, owner string) (bool, error)
	// DeleteOwned removes what owner (the token hash of a session or login attempt) began:
	// its pending app and SMS setups, its recovery code sheet and its WebAuthn ceremonies.
	// Logout and a cancelled login call it; DeleteUserSessions and DeleteExpired do the same
	// for the owners they end.
	DeleteOwned(ctx context.Context, owner string) error

	// CreateLoginAttempt stores a. a.TokenHash is its key.
	CreateLoginAttempt(ctx context.Context, a *LoginAttempt) error
	// FindLoginAttempt returns the attempt with the token hash, expired or not; ENOTFOUND if
	// there is none.
	FindLoginAttempt(ctx context.Context, tokenHash string) (*LoginAttempt, error)
	// FindLoginAttemptForUpdate returns the attempt with the token hash, expired or not, and its
	// user, read inside the Atomically transaction ctx carries with both rows locked until it
	// ends, as FindUserForUpdate locks the user: no other transaction can use, replace or delete
	// the attempt meanwhile, nor change the user (one read for a login step: the attempt, the
	// user, the lock). ENOTFOUND if there is no such attempt; an error outside an Atomically
	// transaction.
	FindLoginAttemptForUpdate(ctx context.Context, tokenHash string) (*LoginAttempt, *User, error)
	// ReplaceLoginAttempt deletes the attempt with oldTokenHash and stores a (its next step,
	// under a new token) in one transaction. It reports false, and stores nothing, if the old
	// attempt was already gone: each step of a login is passed only once.
	ReplaceLoginAttempt(ctx context.Context, oldTokenHash string, a *LoginAttempt) (bool, error)
	// DeleteLoginAttempt removes the attempt, if it is there.
	DeleteLoginAttempt(ctx context.Context, tokenHash string) error
	// CompleteLogin deletes the attempt and creates s in one transaction. It reports false,
	// and creates nothing, if the attempt was already gone: an attempt signs in only once.
	CompleteLogin(ctx context.Context, attemptTokenHash string, s *Session) (bool, error)

	// CreateSession stores s. s.TokenHash is its key.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the session with the token hash, expired or not, and its user (one
	// read: every signed-in request needs both); ENOTFOUND if there is none.
	FindSession(ctx context.Context, tokenHash string) (*Session, *User, error)
	// TouchSession sets the session's LastSeenAt to the transaction's time.
	TouchSession(ctx context.Context, tokenHash string) error
	// SetSessionReauth sets the session's ReauthAt to the transaction's time.
	SetSessionReauth(ctx context.Context, tokenHash string) error
	// DeleteSession ends one session, if it is there.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions ends every session and login attempt of the user except the session
	// with the token hash except ("" ends all), and what they owned (as DeleteOwned).
	DeleteUserSessions(ctx context.Context, userID int64, except string) error
	// DeleteExpired removes sessions last seen before idleBefore or created before
	// createdBefore, login attempts, pending app enrollments, recovery code sheets, flashes and
	// the setup link that expired before attemptsBefore, and unknown-username failure counters
	// last changed before createdBefore; and the flashes bound to a session that is gone. A zero
	// time deletes nothing by that rule. With a non-zero attemptsBefore it also removes the
	// setups and sheets whose owner is neither a session nor a login attempt any more.
	DeleteExpired(ctx context.Context, idleBefore, createdBefore, attemptsBefore time.Time) error

	// PutFlash stores notice, the status bar's sentence after a change, for the browser whose
	// flash token has the hash tokenHash, bound to the session with the token hash sessionHash
	// ("" for a browser nobody is signed in to), expiring ttl after the transaction's time: one
	// INSERT. ECONFLICT if the token hash is in use.
	PutFlash(ctx context.Context, tokenHash, sessionHash, notice string, ttl time.Duration) error
	// TakeFlash deletes the flash with the token hash, only if it is bound to sessionHash and
	// has not expired by the transaction's time, and returns its notice: one conditional DELETE
	// … RETURNING, so of concurrent callers exactly one gets it. ok is false, and nothing
	// changes, when there is no such flash.
	TakeFlash(ctx context.Context, tokenHash, sessionHash string) (notice string, ok bool, err error)

	// BeginSMSEnrollment stores a pending SMS enrollment that owner (as for BeginAppEnrollment)
	// began for the user: the keyed hash of its Authorization Code, by which AttachSMSPhone
	// finds it, and the code sealed, to show it again; expiring ttl after the transaction's
	// time. It replaces owner's earlier SMS enrollment, and no one else's. ENOTFOUND if there
	// is no such user; ECONFLICT if the code hash is in use (the caller draws a new code).
	BeginSMSEnrollment(ctx context.Context, owner string, userID int64, codeHash string, sealedCode []byte, ttl time.Duration) (*PendingSMSEnrollment, error)
	// AttachSMSPhone records phone on the pending SMS enrollment with the code hash, only if no
	// text has arrived for it yet (RefuseSMSSender) and it has not expired by the transaction's
	// time, with one conditional
	// UPDATE, and gives the enrollment ttl more for its confirmation. ENOTFOUND, changing
	// nothing, if there is no such enrollment: a wrong, expired or used code.
	AttachSMSPhone(ctx context.Context, codeHash, phone string, ttl time.Duration) (*PendingSMSEnrollment, error)
	// RefuseSMSSender marks the pending SMS enrollment with the code hash as answered from a
	// number that cannot receive codes, only if no text has arrived for it yet and it has not
	// expired by the transaction's time, with one conditional UPDATE: its ReceivedAt is set,
	// its Phone stays "", and AttachSMSPhone no longer matches it (the code is used up).
	// ENOTFOUND, changing nothing, if there is no such enrollment.
	RefuseSMSSender(ctx context.Context, codeHash string) (*PendingSMSEnrollment, error)
	// FindSMSEnrollment returns owner's pending SMS enrollment, expired or not; ENOTFOUND if
	// there is none.
	FindSMSEnrollment(ctx context.Context, owner string) (*PendingSMSEnrollment, error)
	// RecordInboundSMS remembers an inbound text's MessageSid and sender (the Service passes
	// a keyed hash of the number, never the number). fresh is false, and
	// nothing is stored, if the MessageSid was recorded before. recent is how many texts from
	// the sender were recorded within window of the transaction's time, this one included.
	RecordInboundSMS(ctx context.Context, messageSID, sender string, window time.Duration) (fresh bool, recent int, err error)
	// ReserveSMSCode stores c, a login code about to be sent, setting c.ID, c.CreatedAt (the
	// transaction's time) and c.ExpiresAt (ttl later) — unless c's login attempt was sent a
	// code less than cooldown ago, or the user perHour codes within the last hour, whatever the
	// attempt: then it stores nothing and returns when a code may be sent again. Check and insert are one write transaction, so
	// concurrent callers cannot pass the limits together.
	ReserveSMSCode(ctx context.Context, c *SMSCode, ttl, cooldown time.Duration, perHour int) (retryAt time.Time, err error)
	// DeleteSMSCode removes a reserved code whose text was not sent: it no longer counts
	// towards the cooldown or the hourly cap.
	DeleteSMSCode(ctx context.Context, id int64) error
	// SMSCodeWaiting reports whether the login attempt has a code sent that is unused and
	// unexpired.
	SMSCodeWaiting(ctx context.Context, attemptHash string) (bool, error)
	// LatestSMSCode returns the last login code sent for the login attempt with the hash, used,
	// expired or not; ENOTFOUND if none was.
	LatestSMSCode(ctx context.Context, attemptHash string) (*SMSCode, error)
	// ConsumeSMSCode marks a code of the login attempt with the hash used, only if it is unused
	// and has not expired by the transaction's time, with one conditional UPDATE. It reports
	// whether this call used it: of concurrent callers, exactly one wins.
	ConsumeSMSCode(ctx context.Context, attemptHash, codeHash string) (bool, error)
	// DeleteExpiredSMS removes login codes sent, inbound texts recorded, and pending SMS
	// enrollments expired before before.
	DeleteExpiredSMS(ctx context.Context, before time.Time) error

	// AddSetupLink stores the hash of a new one-time first-administrator link, expiring ttl
	// after the transaction's time, beside the live links of other servers (each prints its
	// own); it deletes the expired ones and, beyond keep (at least 1), the oldest, so there are
	// at most keep. It returns when the link expires.
	AddSetupLink(ctx context.Context, tokenHash string, ttl time.Duration, keep int) (time.Time, error)
	// SetupLinkValid reports whether the link with the token hash is stored and unexpired.
	SetupLinkValid(ctx context.Context, tokenHash string) (bool, error)
	// UseSetupLink deletes the link with the token hash, only if it has not expired by the
	// transaction's time, with one conditional DELETE. It reports whether this call used it.
	UseSetupLink(ctx context.Context, tokenHash string) (bool, error)
	// DeleteSetupLinks deletes every first-administrator link: the first administrator exists.
	DeleteSetupLinks(ctx context.Context) error

	// KeyCheck stores check, the check value of the server key (KeyCheckValue), as the
	// database's if it has none yet, and returns the database's: check itself the first time,
	// after that what the first caller stored. One statement, insert if absent and return what
	// is there, so of servers opening a new database at once with different keys, every one
	// gets the one value stored. EINVALID for an empty check.
	KeyCheck(ctx context.Context, check []byte) ([]byte, error)

	// AddAuditEvent stores e and sets e.ID and e.At. Inside Atomically a store may send the
	// insert with the transaction's next statement or its commit: e.ID is then set by the time
	// Atomically returns.
	AddAuditEvent(ctx context.Context, e *AuditEvent) error
	// FindAuditEvents returns one page of the events matching f, newest first, and the number
	// of all events matching f.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)
	// DeleteAuditEvents removes the events recorded before before and reports how many went.
	DeleteAuditEvents(ctx context.Context, before time.Time) (int64, error)

	// CreateApp inserts a with its redirect URIs and sets a.ID, a.CreatedAt and a.UpdatedAt.
	// ECONFLICT, inserting nothing, when the name (compared ignoring ASCII case) or the client
	// ID is taken; EINVALID for an unknown audience.
	CreateApp(ctx context.Context, a *App) error
	// FindAppByID returns the application; ENOTFOUND if there is none.
	FindAppByID(ctx context.Context, id int64) (*App, error)
	// FindAppForUpdate returns the application like FindAppByID, but only inside an
	// Atomically transaction, and so that no other writer can change or delete it until that
	// transaction ends. ENOTFOUND if there is none.
	FindAppForUpdate(ctx context.Context, id int64) (*App, error)
	// FindAppByClientID returns the application with the client ID (exact); ENOTFOUND if
	// there is none.
	FindAppByClientID(ctx context.Context, clientID string) (*App, error)
	// FindAppByName returns the application with the name, ignoring ASCII case; ENOTFOUND if
	// there is none.
	FindAppByName(ctx context.Context, name string) (*App, error)
	// FindApps returns one page of the applications, ordered by name, and the number of all.
	FindApps(ctx context.Context, f AppFilter) ([]*App, int, error)
	// UpdateApp applies upd (RedirectURIs replaces the whole list) and returns the updated
	// application, UpdatedAt the transaction's time. ENOTFOUND if there is none; ECONFLICT,
	// changing nothing, if the new name is taken; EINVALID for an unknown audience.
	UpdateApp(ctx context.Context, id int64, upd AppUpdate) (*App, error)
	// DeleteApp removes the application and its redirect URIs. ENOTFOUND if there is none.
	DeleteApp(ctx context.Context, id int64) error

	// --- The OpenID Connect provider (issue 13, part 2; backend/oidc.go) ---

	// CreateAuthRequest stores r (r.ID is its key) and sets r.CreatedAt to the transaction's
	// time. In the same transaction it drops the requests that have expired, and refuses
	// (ETOOMANY, storing nothing) when r's application already has maxPending unexpired
	// requests bound to no login attempt or session; the count and the insert are serialised
	// per application, so concurrent callers cannot pass the bound together. ENOTFOUND if its
	// application is gone.
	CreateAuthRequest(ctx context.Context, r *AuthRequest, maxPending int) error
	// FindAuthRequest returns the authorization request, expired or not; ENOTFOUND if there
	// is none.
	FindAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// FindAuthRequestByCode returns the request whose authorization code has the hash, used,
	// expired or not; ENOTFOUND if there is none.
	FindAuthRequestByCode(ctx context.Context, codeHash string) (*AuthRequest, error)
	// CompleteAuthRequest records who signed in for the request (r.SessionHash, UserID, SID,
	// AMR, AuthTime) and marks it done, only if it is not done yet and has not expired by the
	// transaction's time: one conditional UPDATE. It reports whether this call completed it.
	CompleteAuthRequest(ctx context.Context, r *AuthRequest) (bool, error)
	// SetAuthCode stores the hash of the code issued for the complete request, only if none was
	// issued yet (one conditional UPDATE). It reports whether it did.
	SetAuthCode(ctx context.Context, id, codeHash string) (bool, error)
	// ExchangeCode uses the request's authorization code and inserts tokens, in one
	// transaction, only if the code was issued, is unused and has not expired by the
	// transaction's time: one conditional UPDATE decides (RFC 6749 §4.1.2, a code is used
	// once), so of concurrent callers exactly one gets ok and inserts its tokens (their
	// FamilyID is kept on the request); the others insert nothing. One that finds the code
	// used already is a replay: every token of the family kept on the request is revoked,
	// committed, and replayed is true (RFC 6749 §4.1.2).
	ExchangeCode(ctx context.Context, id string, tokens []*OIDCToken) (ok, replayed bool, err error)
	// RotateRefreshToken uses the refresh token with the hash and inserts tokens in one
	// transaction, only if it is unused and unexpired (one conditional UPDATE): ok. A token
	// that exists but was used already is a replay (RFC 9700 §4.14.2): every token of its
	// family is revoked, committed, and replayed is true. Neither: the token is unknown or
	// expired.
	RotateRefreshToken(ctx context.Context, oldHash string, tokens []*OIDCToken) (ok, replayed bool, err error)
	// FindOIDCToken returns the token with the hash, used, expired or not; ENOTFOUND if none.
	FindOIDCToken(ctx context.Context, hash string) (*OIDCToken, error)
	// RevokeOIDCFamily deletes every token of the family, and reports how many went.
	RevokeOIDCFamily(ctx context.Context, familyID string) (int64, error)
	// PutSigningKey stores k as the current signing key. With first, only if there is no
	// current key yet (reported as false, storing nothing, otherwise): the first key is made
	// once however many servers start at once. Without, every other current key is retired
	// at the transaction's time (a rotation). Both in one transaction.
	PutSigningKey(ctx context.Context, k *SigningKey, first bool) (bool, error)
	// SigningKeys returns every stored signing key, the current one (RetiredAt zero) first,
	// then the retired ones, newest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteExpiredOIDC removes authorization requests and tokens that expired before before,
	// tokens whose session is gone, and signing keys retired before keysBefore.
	DeleteExpiredOIDC(ctx context.Context, before, keysBefore time.Time) error

	// --- Session cache (backend/sessioncache.go) ---
	// What lets every server answer session checks from memory and still end a session
	// everywhere within a second: a log of revocations every server polls, and last-seen
	// times written in batches.

	// RevokeSessions records that every server must forget what it holds in memory of the
	// user's sessions: they ended, or the user's rights changed. Inside an Atomically
	// transaction it commits with that transaction, or not at all; else in one of its own.
	// Revocations become visible in the order of their IDs: a reader never sees an ID before
	// every smaller one is committed, so "after the last ID seen" misses none.
	RevokeSessions(ctx context.Context, userID int64) error
	// SessionRevocationsSince returns up to limit revocations with an ID above afterID, in ID
	// order: one indexed read.
	SessionRevocationsSince(ctx context.Context, afterID int64, limit int) ([]SessionRevocation, error)
	// DeleteSessionRevocations removes the revocations recorded before before.
	DeleteSessionRevocations(ctx context.Context, before time.Time) error
	// TouchSessions sets the LastSeenAt of each session in seen (by token hash) to the time
	// given for it, unless it is later already, in one transaction; sessions that are gone are
	// no error. The servers batch their sessions' last-seen times through it.
	TouchSessions(ctx context.Context, seen map[string]time.Time) error

	// --- Forward-auth (backend/forwardauth.go) ---
	// The domains applications protect (App.Domains, stored by CreateApp and UpdateApp, which
	// answer ECONFLICT, changing nothing, for a domain another application protects).

	// FindAppByDomain returns the application protecting the first of keys that is a
	// protected domain (the Service gives the host, then its wildcard). ENOTFOUND if none is.
	FindAppByDomain(ctx context.Context, keys ...string) (*App, error)

	// --- What a login resumes (backend/resume.go) ---
	// One row per login: what it goes back to once it is complete (an OpenID Connect sign-in
	// or a protected page), bound to the token hash of its attempt, then of its session.

	// PutLoginResume binds r to the login attempt or session with the token hash owner, until
	// r.ExpiresAt, replacing what it had; it drops the rows expired by the store's clock.
	PutLoginResume(ctx context.Context, owner string, r *LoginResume) error
	// MoveLoginResume moves what from has to to (replacing what to had): the next step of a
	// login has a new token.
	MoveLoginResume(ctx context.Context, from, to string) error
	// FindLoginResume returns what owner resumes, unexpired by the store's clock, without
	// taking it; ENOTFOUND if nothing.
	FindLoginResume(ctx context.Context, owner string) (*LoginResume, error)
	// TakeLoginResume removes and returns what owner resumes, nil if nothing or it expired: one
	// conditional DELETE, so it is given back once.
	TakeLoginResume(ctx context.Context, owner string) (*LoginResume, error)

	// --- Back-channel logout (backend/logout_delivery.go) ---
	// Which sessions signed in to which applications, and the logout tokens owed to the
	// applications when those sessions end: one row per (session, application), waiting while
	// the session is live, due once it has ended, deleted once delivered or given up.

	// RecordSessionApp notes that the session signed in to the application (it exchanged a
	// code for the session's tokens). A second call for the same session and application
	// changes nothing. ENOTFOUND if the application or the user is gone.
	RecordSessionApp(ctx context.Context, sa SessionApp) error
	// QueueLogoutDeliveries makes due, at the transaction's time, the rows of the user (0: of
	// every user) whose session is gone, and deletes those of them whose application has no
	// back-channel logout URI; it reports how many became due. The Service calls it in the
	// transaction that ends sessions, after their rows are deleted.
	QueueLogoutDeliveries(ctx context.Context, userID int64) (int, error)
	// ClaimLogoutDeliveries leases up to limit due rows (next try reached, not leased, or their
	// lease over) to lease until d after the transaction's time, and returns them with their
	// application's client ID, name and back-channel URI: one conditional UPDATE (SQLite) or
	// FOR UPDATE SKIP LOCKED (PostgreSQL), so that of servers claiming at once each row goes
	// to one.
	ClaimLogoutDeliveries(ctx context.Context, lease string, d time.Duration, limit int) ([]*LogoutDelivery, error)
	// FinishLogoutDelivery records o for the row, only while it is still leased to lease: a
	// delivery or a give-up deletes it, a failure counts a try and sets the next one; the
	// application's LogoutStatus follows. It reports whether the lease still held (false:
	// another server claimed the row since, and nothing changed).
	FinishLogoutDelivery(ctx context.Context, id int64, lease string, o LogoutOutcome) (bool, error)
	// LogoutDeliveryStatus returns the application's deliveries: how many are due, the last
	// delivered, the last failure. An application with none has the zero status.
	LogoutDeliveryStatus(ctx context.Context, appID int64) (*LogoutStatus, error)

	// --- Passkeys and security keys (WebAuthn; backend/webauthn.go) ---
	// The credentials a user registered, and the state of a ceremony begun and not finished
	// (the library's SessionData: its challenge), bound to the session or login attempt that
	// began it and used once.

	// PutWebAuthnCeremony stores c (c.Owner, the token hash of the session or login attempt
	// that began it, and c.Kind are its key), expiring ttl after the transaction's time,
	// replacing owner's earlier ceremony of that kind. ENOTFOUND if there is no such user.
	PutWebAuthnCeremony(ctx context.Context, c *WebAuthnCeremony, ttl time.Duration) error
	// TakeWebAuthnCeremony deletes owner's ceremony of the kind and returns it, only if it has
	// not expired by the transaction's time: one conditional DELETE … RETURNING, so of
	// concurrent callers exactly one gets it and a challenge is answered once. ENOTFOUND, changing
	// nothing, if there is none (never begun, expired, or taken).
	TakeWebAuthnCeremony(ctx context.Context, owner, kind string) (*WebAuthnCeremony, error)
	// AddWebAuthnCredential stores c for c.UserID and sets c.ID and c.CreatedAt. ECONFLICT,
	// storing nothing, if a credential with the same CredentialID is stored (for anyone);
	// ENOTFOUND if there is no such user.
	AddWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// EnableWebAuthn records an enrollment with a security key as EnableTwoFactor does one
	// with an app, in one transaction: the method becomes MethodWebAuthn (a new
	// CredentialsVersion), every pending app and SMS enrollment of the user ends, codes replace
	// the recovery codes, and c is stored as AddWebAuthnCredential stores it. ECONFLICT,
	// changing nothing, if the user is enrolled already or the credential ID is taken;
	// ENOTFOUND if there is no such user.
	EnableWebAuthn(ctx context.Context, c *WebAuthnCredential, codes []RecoveryCode) error
	// WebAuthnCredentials returns the user's credentials, oldest first (none is no error).
	WebAuthnCredentials(ctx context.Context, userID int64) ([]*WebAuthnCredential, error)
	// UseWebAuthnCredential records a successful assertion of the credential: its new
	// signature counter, backup state and record (the library's updated Credential), and
	// LastUsedAt the transaction's time, only if its counter is still prevCount (one
	// conditional UPDATE: of two assertions racing with the same counter, one wins). It
	// reports whether it did.
	UseWebAuthnCredential(ctx context.Context, id int64, prevCount uint32, c *WebAuthnCredential) (bool, error)
	// MarkWebAuthnCloned sets the credential's CloneWarningAt to the transaction's time (its
	// counter went backwards: it may have been copied), keeping the first such time.
	// ENOTFOUND if there is none.
	MarkWebAuthnCloned(ctx context.Context, id int64) error
	// RenameWebAuthnCredential sets the name of the user's credential. ENOTFOUND if the user
	// has no such credential.
	RenameWebAuthnCredential(ctx context.Context, userID, id int64, name string) error
	// DeleteWebAuthnCredential removes the user's credential, a new CredentialsVersion of
	// the user (what a login is checked against changed). ENOTFOUND, changing nothing, if the
	// user has no such credential. (UpdateUser's ClearEnrollment removes them all.)
	DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error
	// DeleteExpiredWebAuthn removes the ceremonies that expired before before.
	DeleteExpiredWebAuthn(ctx context.Context, before time.Time) error
}

// SessionRevocation is one RevokeSessions: the user whose cached sessions every server must
// forget.
type SessionRevocation struct {
	ID     int64
	UserID int64
	At     time.Time
}

// Failures is an account's failure counter, shared by the password and every second factor.
type Failures struct {
	Count       int       // consecutive failures (attempts charged and not yet reset)
	NextTryAt   time.Time // no attempt before this (zero: none)
	LockedUntil time.Time // locked until this (zero: not locked)
	// SecondFactor: a failure of this count was a second factor's (so the password was right).
	SecondFactor bool
	// Streak is how many locks in a row, with no success between, counts with a second-factor
	// failure reached: each doubles the next (LockoutPolicy.lockFor). Kept when a lock runs
	// out; reset by a success.
	Streak int
}

// Enrollment is a completed two-factor enrollment.
type Enrollment struct {
	Method     Method
	SealedTOTP []byte // MethodApp: the sealed secret
	TOTPStep   int64  // MethodApp: the step of the code that confirmed it, now used
	SMSPhone   string // MethodSMS: the phone, E.164
	Owner      string // the token hash of the session or login attempt that began the setup
	// MethodWebAuthn: the key registered (its ceremony, used up, was the pending setup); the
	// store's EnableWebAuthn records it.
	Key *WebAuthnCredential
}

// PendingAppEnrollment is an enrollment of an authenticator app that is not confirmed yet.
type PendingAppEnrollment struct {
	Owner     string // the token hash of the session or login attempt that began it
	UserID    int64
	Sealed    []byte // the new secret, sealed as the active one is
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PendingSMSEnrollment is an enrollment by text that is not confirmed yet.
type PendingSMSEnrollment struct {
	Owner      string // the token hash of the session or login attempt that began it
	UserID     int64
	SealedCode []byte    // the Authorization Code as shown, sealed
	Phone      string    // E.164, once the text with the code has arrived; "" before, or if its sender was refused
	CreatedAt  time.Time //
	ReceivedAt time.Time // zero until the text arrived; set with no Phone: its sender was refused (RefuseSMSSender)
	ExpiresAt  time.Time // the code's end, or once received, the confirmation's
}

// RecoverySheet is a set of recovery codes just handed out, kept until whoever received it
// says "I have saved these codes" or it expires.
type RecoverySheet struct {
	Owner     string // the token hash of the session or login attempt that received it
	UserID    int64
	Sealed    []byte    // the codes as shown, sealed
	CreatedAt time.Time // when the codes were issued
	ExpiresAt time.Time
}

// SMSCode is a login code sent by text message: only a keyed hash of it, bound to one login
// attempt.
type SMSCode struct {
	ID          int64
	UserID      int64
	AttemptHash string // the login attempt's token hash
	CodeHash    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// RecoveryCode is a stored recovery code: only a salted hash of it.
type RecoveryCode struct {
	ID   int64
	Salt []byte
	Hash []byte
}

// LoginStep is what a login attempt waits for.
type LoginStep string

// Login steps.
const (
	StepVerify         LoginStep = "verify"          // the second factor
	StepEnroll         LoginStep = "enroll"          // forced enrollment: required, not enrolled
	StepChangePassword LoginStep = "change_password" // an administrator set a temporary password
	StepDone           LoginStep = "done"            // signed in
)

// LoginAttempt is a password that was accepted, waiting for the next step. It is short-lived and
// known to the client only by its token; the store keeps only the token's hash.
type LoginAttempt struct {
	TokenHash string
	UserID    int64
	Step      LoginStep
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	// CredentialsVersion is the user's when the attempt was created: every later step refuses
	// the attempt once the user's is another (the password, Two-Factor, role or disabled
	// changed since).
	CredentialsVersion int64
}

// Session is a signed-in user. The store keeps only the token's hash.
type Session struct {
	TokenHash  string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ReauthAt   time.Time // when the password was last confirmed in this session: at the login, or since (ConfirmPassword)
	IP         string
	UserAgent  string
	// SID is the session's public ID, OpenID Connect's "sid" (random, not a credential); AMR
	// how its login was proven ("pwd", then "otp", "sms" or "recovery" and "mfa").
	SID string
	AMR []string
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID         int64
	At         time.Time
	Action     string // e.g. "login.success"; see the Audit* constants
	ActorID    int64  // 0: nobody signed in, or the command line
	ActorName  string // username at the time, or "cli"
	TargetID   int64  // 0: none
	TargetName string // the user the event is about ("" for none)
	TargetApp  string // the application the event is about, by name ("" for none)
	Detail     string // never a password, secret, code or token
	IP         string
}

// AuditFilter selects audit events. Zero fields do not filter.
type AuditFilter struct {
	Action string // exact action, or a prefix ending in "." (e.g. "login.")
	// Actions, if any, are the actions of which an event must match one: each exact, or a
	// prefix ending in "." (AuditKind.Actions).
	Actions  []string
	Username string // events whose actor or target has this username (case-insensitive)
	Since    time.Time
	Until    time.Time
	Offset   int
	Limit    int // 0 means the default page size
}

// DefaultPageSize is the page size when a filter's Limit is 0.
const DefaultPageSize = 50

// PingTimeout bounds Service.Ready: a store that takes longer to answer a trivial query is as
// good as unreachable to the person waiting for a page, and a load balancer's health check
// must hear back before its own timeout.
const PingTimeout = time.Second

// StoreUnavailableMessage is what a person sees while the store cannot be reached.
const StoreUnavailableMessage = "Gatehouse cannot reach its database just now, so nobody can log in or change anything. " +
	"What you just sent may not have been saved: try again in a minute. If this lasts, tell your administrator."

// errStoreUnavailable is the domain error of an unreachable store.
var errStoreUnavailable = Errorf(EUNAVAILABLE, StoreUnavailableMessage)

// unavailable is an EUNAVAILABLE error that keeps its cause for the log: the domain error for
// people (errors.As finds it), the driver's error in Error().
type unavailable struct{ cause error }

func (u *unavailable) Error() string   { return "store unreachable: " + u.cause.Error() }
func (u *unavailable) Unwrap() []error { return []error{errStoreUnavailable, u.cause} }

// StoreUnreachable is the error a store returns when cause says it could not reach its
// database (a connection refused or broken, no answer in time): EUNAVAILABLE with
// StoreUnavailableMessage for people, cause in Error() for the log. An error that already is
// one is returned as it is.
func StoreUnreachable(cause error) error {
	if IsStoreUnreachable(cause) {
		return cause
	}
	return &unavailable{cause: cause}
}

// IsStoreUnreachable reports whether err is a store's StoreUnreachable, not another outside
// service's EUNAVAILABLE (SMS).
func IsStoreUnreachable(err error) bool { return errors.Is(err, errStoreUnavailable) }

// Ready reports whether the store answers (Store.Ping, at most PingTimeout): nil, or an
// EUNAVAILABLE error whose message is StoreUnavailableMessage and whose Error() names the
// cause, for the log. It is what /readyz answers, and it keeps nothing: every call asks the
// store again, so a store that is back is seen as back at once.
func (s *Service) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return StoreUnreachable(err)
	}
	return nil
}
