package storetest

import (
	"fmt"
	"gatehouse/backend/fakeclock"
	"reflect"
	"testing"
	"time"

	"gatehouse/backend"
)

// beginSMS begins an SMS enrollment of the user owned by owner, with the code hash and a
// stand-in for the sealed code.
func beginSMS(t *testing.T, db backend.Store, owner string, userID int64, codeHash string, ttl time.Duration) *backend.PendingSMSEnrollment {
	t.Helper()
	p, err := db.BeginSMSEnrollment(ctx, owner, userID, codeHash, []byte("sealed "+codeHash), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testSMSEnrollment(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)

	_, err := db.FindSMSEnrollment(ctx, "owner")
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.BeginSMSEnrollment(ctx, "owner", 999, "h0", []byte("x"), 10*time.Minute)
	wantCode(t, err, backend.ENOTFOUND)

	p := beginSMS(t, db, "owner", u.ID, "h1", 10*time.Minute)
	if want := t0.Add(10 * time.Minute); !p.ExpiresAt.Equal(want) || !p.CreatedAt.Equal(t0) {
		t.Errorf("BeginSMSEnrollment: created %v, expires %v; want %v, %v", p.CreatedAt, p.ExpiresAt, t0, want)
	}
	// A new setup of the same owner replaces the old one: the old code matches nothing.
	beginSMS(t, db, "owner", u.ID, "h2", 10*time.Minute)
	_, err = db.AttachSMSPhone(ctx, "h1", "+16502530000", 10*time.Minute)
	wantCode(t, err, backend.ENOTFOUND)
	// Another user cannot take a code hash in use.
	v := createUser(t, db, "vic", backend.RoleUser)
	_, err = db.BeginSMSEnrollment(ctx, "vic's owner", v.ID, "h2", []byte("x"), 10*time.Minute)
	wantCode(t, err, backend.ECONFLICT)

	c.Advance(9 * time.Minute)
	p, err = db.AttachSMSPhone(ctx, "h2", "+16502530000", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := backend.PendingSMSEnrollment{Owner: "owner", UserID: u.ID, SealedCode: []byte("sealed h2"), Phone: "+16502530000",
		CreatedAt: t0, ReceivedAt: t0.Add(9 * time.Minute), ExpiresAt: t0.Add(19 * time.Minute)}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("AttachSMSPhone: got %+v, want %+v", *p, want)
	}
	if got, err := db.FindSMSEnrollment(ctx, "owner"); err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("FindSMSEnrollment: got %+v, %v; want %+v", got, err, want)
	}
	// Single use: the same code again matches nothing and changes nothing.
	_, err = db.AttachSMSPhone(ctx, "h2", "+442079460018", 10*time.Minute)
	wantCode(t, err, backend.ENOTFOUND)
	if got, _ := db.FindSMSEnrollment(ctx, "owner"); !reflect.DeepEqual(*got, want) {
		t.Errorf("after a reused code: got %+v, want %+v", *got, want)
	}

	// Clearing the enrollment (an administrator's reset) drops the pending setup.
	if _, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{ClearEnrollment: true}); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindSMSEnrollment(ctx, "owner")
	wantCode(t, err, backend.ENOTFOUND)
}

// testSMSEnrollmentOwners: SMS setups are kept per owner. Two sessions of one user each have
// their own, which neither replaces; only the owner finds it; a confirmation is refused for
// any owner but the one whose setup received the phone, and once one succeeds, every setup of
// the user has ended.
func testSMSEnrollmentOwners(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	beginSMS(t, db, "session A", u.ID, "code A", 10*time.Minute)
	beginSMS(t, db, "session B", u.ID, "code B", 10*time.Minute)
	for owner, code := range map[string]string{"session A": "sealed code A", "session B": "sealed code B"} {
		if p, err := db.FindSMSEnrollment(ctx, owner); err != nil || string(p.SealedCode) != code || p.Owner != owner {
			t.Errorf("FindSMSEnrollment(%s): got %+v, %v; want its own, code %q", owner, p, err, code)
		}
	}
	_, err := db.FindSMSEnrollment(ctx, "session C")
	wantCode(t, err, backend.ENOTFOUND)

	if _, err := db.AttachSMSPhone(ctx, "code A", "+16502530000", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.FindSMSEnrollment(ctx, "session B"); p.Phone != "" {
		t.Errorf("session B's setup got the phone texted with A's code: %q", p.Phone)
	}
	e := backend.Enrollment{Method: backend.MethodSMS, SMSPhone: "+16502530000"}
	for _, owner := range []string{"", "session B", "session C"} {
		e.Owner = owner
		wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, nil), backend.ECONFLICT)
	}
	if got, _ := db.FindUserByID(ctx, u.ID); got.Method != backend.MethodNone {
		t.Fatalf("after refused confirmations: method %q, want none", got.Method)
	}
	if _, err := db.BeginAppEnrollment(ctx, "session B", u.ID, []byte("secret B"), time.Hour); err != nil {
		t.Fatal(err)
	}
	e.Owner = "session A"
	if err := db.EnableTwoFactor(ctx, u.ID, e, nil); err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"session A", "session B"} {
		_, err := db.FindSMSEnrollment(ctx, owner)
		wantCode(t, err, backend.ENOTFOUND)
	}
	_, err = db.FindAppEnrollment(ctx, "session B")
	wantCode(t, err, backend.ENOTFOUND)
}

// testAttachSMSPhoneExpiry: a code is refused from its expiry on, by the store's clock.
func testAttachSMSPhoneExpiry(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	beginSMS(t, db, "owner", u.ID, "h", 10*time.Minute)
	c.Advance(10 * time.Minute)
	_, err := db.AttachSMSPhone(ctx, "h", "+16502530000", 10*time.Minute)
	wantCode(t, err, backend.ENOTFOUND)
	if p, _ := db.FindSMSEnrollment(ctx, "owner"); p.Phone != "" {
		t.Errorf("after an expired code: phone %q, want none", p.Phone)
	}

	// A received enrollment can be enabled only until its confirmation expires.
	beginSMS(t, db, "owner", u.ID, "h2", 10*time.Minute)
	if _, err := db.AttachSMSPhone(ctx, "h2", "+16502530000", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Minute)
	e := backend.Enrollment{Method: backend.MethodSMS, SMSPhone: "+16502530000", Owner: "owner"}
	wantCode(t, db.EnableTwoFactor(ctx, u.ID, e, nil), backend.ECONFLICT)
}

func testAttachSMSPhoneConcurrent(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	beginSMS(t, db, "owner", u.ID, "h", 10*time.Minute)
	wins := race(t, 50, func(i int) (bool, error) {
		_, err := db.AttachSMSPhone(ctx, "h", fmt.Sprintf("+1650253%04d", i), 10*time.Minute)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Errorf("AttachSMSPhone with one code from 50 goroutines: %d won, want 1", wins)
	}
}

func testEnableSMSConcurrent(t *testing.T, o Opener) {
	db, _ := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	beginSMS(t, db, "owner", u.ID, "h", 10*time.Minute)
	if _, err := db.AttachSMSPhone(ctx, "h", "+16502530000", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	wins := race(t, 50, func(i int) (bool, error) {
		codes := []backend.RecoveryCode{{Salt: []byte{byte(i)}, Hash: []byte("h")}}
		err := db.EnableTwoFactor(ctx, u.ID, backend.Enrollment{Method: backend.MethodSMS, SMSPhone: "+16502530000", Owner: "owner"}, codes)
		if backend.ErrorCode(err) == backend.ECONFLICT {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Errorf("EnableTwoFactor(sms) from 50 goroutines: %d won, want 1", wins)
	}
	if codes, _ := db.RecoveryCodes(ctx, u.ID); len(codes) != 1 {
		t.Errorf("recovery codes: got %d, want the winner's 1", len(codes))
	}
}

func testRecordInboundSMS(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	for i, tc := range []struct {
		sid, sender string
		fresh       bool
		recent      int
	}{
		{"SM1", "+16502530000", true, 1},
		{"SM1", "+16502530000", false, 0}, // a retried delivery
		{"SM2", "+16502530000", true, 2},
		{"SM3", "+442079460018", true, 1},
		{"SM1", "+442079460018", false, 0},
	} {
		fresh, recent, err := db.RecordInboundSMS(ctx, tc.sid, tc.sender, time.Hour)
		if err != nil || fresh != tc.fresh || recent != tc.recent {
			t.Errorf("#%d RecordInboundSMS(%s, %s): got %v, %d, %v; want %v, %d", i, tc.sid, tc.sender, fresh, recent, err, tc.fresh, tc.recent)
		}
	}
	// The window slides.
	c.Advance(time.Hour)
	if _, recent, _ := db.RecordInboundSMS(ctx, "SM4", "+16502530000", time.Hour); recent != 1 {
		t.Errorf("an hour later: recent %d, want 1", recent)
	}

	// Of 50 concurrent deliveries of one message, exactly one is fresh.
	fresh := race(t, 50, func(int) (bool, error) {
		ok, _, err := db.RecordInboundSMS(ctx, "SM5", "+16502530000", time.Hour)
		return ok, err
	})
	if fresh != 1 {
		t.Errorf("50 concurrent deliveries of one MessageSid: %d fresh, want 1", fresh)
	}
}

func testReserveSMSCode(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	reserve := func(attempt string) (*backend.SMSCode, time.Time) {
		t.Helper()
		code := &backend.SMSCode{UserID: u.ID, AttemptHash: attempt, CodeHash: "c"}
		retry, err := db.ReserveSMSCode(ctx, code, 10*time.Minute, 30*time.Second, 5)
		if err != nil {
			t.Fatal(err)
		}
		return code, retry
	}

	first, retry := reserve("a1")
	if !retry.IsZero() || first.ID == 0 || !first.CreatedAt.Equal(t0) || !first.ExpiresAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("first reservation: %+v, retry %v", *first, retry)
	}
	// The cooldown is the attempt's (TestSMSCooldownPerAttempt: another attempt's is not).
	c.Advance(29 * time.Second)
	if _, retry := reserve("a1"); !retry.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("within the cooldown: retry %v, want %v", retry, t0.Add(30*time.Second))
	}
	// A reservation whose text was not sent is taken back: the cooldown goes with it.
	if err := db.DeleteSMSCode(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, retry := reserve("a1"); !retry.IsZero() {
		t.Errorf("after DeleteSMSCode: retry %v, want none", retry)
	}
	for range 4 {
		c.Advance(30 * time.Second)
		if _, retry := reserve("a2"); !retry.IsZero() {
			t.Fatalf("within the cap: retry %v", retry)
		}
	}
	// 5 in the hour: the 6th waits until the oldest of them is an hour old.
	c.Advance(30 * time.Second)
	if _, retry := reserve("a3"); !retry.Equal(t0.Add(29*time.Second + time.Hour)) {
		t.Errorf("over the cap: retry %v, want %v", retry, t0.Add(29*time.Second+time.Hour))
	}
	c.Advance(time.Hour)
	if _, retry := reserve("a3"); !retry.IsZero() {
		t.Errorf("an hour later: retry %v, want none", retry)
	}

	// 50 concurrent requests for a code: one is reserved.
	v := createUser(t, db, "vic", backend.RoleUser)
	n := race(t, 50, func(int) (bool, error) {
		retry, err := db.ReserveSMSCode(ctx, &backend.SMSCode{UserID: v.ID, AttemptHash: "a", CodeHash: "c"}, time.Minute, 30*time.Second, 5)
		return retry.IsZero(), err
	})
	if n != 1 {
		t.Errorf("50 concurrent reservations: %d stored, want 1", n)
	}
	_, err := db.ReserveSMSCode(ctx, &backend.SMSCode{UserID: 999}, time.Minute, time.Second, 5)
	wantCode(t, err, backend.ENOTFOUND)
}

func testConsumeSMSCode(t *testing.T, o Opener) {
	db, c := newStillDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	code := &backend.SMSCode{UserID: u.ID, AttemptHash: "attempt A", CodeHash: "code"}
	if _, err := db.ReserveSMSCode(ctx, code, 10*time.Minute, 0, 100); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ attempt, code string }{{"attempt B", "code"}, {"attempt A", "other"}} {
		if ok, err := db.ConsumeSMSCode(ctx, tc.attempt, tc.code); ok || err != nil {
			t.Errorf("ConsumeSMSCode(%s, %s): got %v, %v; want false", tc.attempt, tc.code, ok, err)
		}
	}
	// Single use under 50 concurrent goroutines.
	wins := race(t, 50, func(int) (bool, error) { return db.ConsumeSMSCode(ctx, "attempt A", "code") })
	if wins != 1 {
		t.Errorf("ConsumeSMSCode from 50 goroutines: %d won, want 1", wins)
	}

	// Expiry by the store's clock: valid until just before ExpiresAt.
	late := &backend.SMSCode{UserID: u.ID, AttemptHash: "attempt A", CodeHash: "late"}
	if _, err := db.ReserveSMSCode(ctx, late, 10*time.Minute, 0, 100); err != nil {
		t.Fatal(err)
	}
	c.Advance(10 * time.Minute)
	if ok, _ := db.ConsumeSMSCode(ctx, "attempt A", "late"); ok {
		t.Error("ConsumeSMSCode at ExpiresAt: got true, want false")
	}
	soon := &backend.SMSCode{UserID: u.ID, AttemptHash: "attempt A", CodeHash: "soon"}
	if _, err := db.ReserveSMSCode(ctx, soon, 10*time.Minute, 0, 100); err != nil {
		t.Fatal(err)
	}
	c.Advance(10*time.Minute - time.Nanosecond)
	if ok, _ := db.ConsumeSMSCode(ctx, "attempt A", "soon"); !ok {
		t.Error("ConsumeSMSCode just before ExpiresAt: got false, want true")
	}
}

func testDeleteExpiredSMS(t *testing.T, o Opener) {
	d := o(t)
	c := fakeclock.New(t0)
	db := d.Open(c.Now)
	u := createUser(t, db, "bob", backend.RoleUser)
	v := createUser(t, db, "vic", backend.RoleUser)
	beginSMS(t, db, "bob's owner", u.ID, "old", time.Minute)
	db.RecordInboundSMS(ctx, "SM-old", "+16502530000", time.Hour)
	db.ReserveSMSCode(ctx, &backend.SMSCode{UserID: u.ID, AttemptHash: "a", CodeHash: "old"}, time.Minute, 0, 5)
	c.Advance(2 * time.Minute)
	beginSMS(t, db, "vic's owner", v.ID, "new", time.Minute)
	db.RecordInboundSMS(ctx, "SM-new", "+16502530000", time.Hour)
	db.ReserveSMSCode(ctx, &backend.SMSCode{UserID: u.ID, AttemptHash: "a", CodeHash: "new"}, time.Minute, 0, 5)

	if err := db.DeleteExpiredSMS(ctx, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := db.FindSMSEnrollment(ctx, "bob's owner")
	wantCode(t, err, backend.ENOTFOUND)
	if _, err := db.FindSMSEnrollment(ctx, "vic's owner"); err != nil {
		t.Errorf("the unexpired enrollment: %v", err)
	}
	if fresh, _, _ := db.RecordInboundSMS(ctx, "SM-old", "x", time.Hour); !fresh {
		t.Error("the old MessageSid: still recorded")
	}
	if fresh, _, _ := db.RecordInboundSMS(ctx, "SM-new", "x", time.Hour); fresh {
		t.Error("the new MessageSid: forgotten")
	}
	if n := d.count(t, "sms_codes"); n != 1 {
		t.Errorf("sms codes left: %d, want 1", n)
	}
}
