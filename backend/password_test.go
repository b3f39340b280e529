package backend

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var cheapArgon2 = Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestCheckNewPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		username string
		ok       bool
	}{
		{"too short", "abc1234", "alice", false},
		{"too short in runes, long in bytes", "ééééééé", "alice", false}, // 7 runes, 14 bytes
		{"minimum", "kq7w-x2pd", "alice", true},
		{"maximum", strings.Repeat("x7", MaxPasswordLength/2), "alice", true},
		{"too long", strings.Repeat("x", MaxPasswordLength+1), "alice", false},
		{"common", "password123", "alice", false},
		{"common, other case", "PassWord123", "alice", false},
		{"common keyboard walk", "qwertyuiop", "alice", false},
		{"the username", "alice.smith", "alice.smith", false},
		{"the username, other case", "Alice.Smith", "alice.smith", false},
		{"spaces", "correct horse battery staple", "alice", true},
		{"unicode", "Grüße aus Köln ☃", "alice", true},
		{"unicode, 8 runes", "日本語のパスワ", "alice", false}, // 7 runes
		{"unicode, 8 runes", "日本語のパスワード", "alice", true},
		{"no composition rules", "zvbqmfhtkwpd", "alice", true},
		{"invalid UTF-8", "abcdefgh\xff", "alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNewPassword(tt.password, tt.username)
			if tt.ok && err != nil {
				t.Errorf("CheckNewPassword(%q): got %v, want nil", tt.password, err)
			}
			if !tt.ok && ErrorCode(err) != EINVALID {
				t.Errorf("CheckNewPassword(%q): got %v, want code %s", tt.password, err, EINVALID)
			}
		})
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	ctx := context.Background()
	pw := newPasswords(PasswordPolicy{Argon2: cheapArgon2})
	h1, err := pw.hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := pw.hash(ctx, "correct horse battery staple")
	if h1 == h2 {
		t.Errorf("two hashes of one password: got equal %q, want different salts", h1)
	}
	p, salt, key, err := DecodeArgon2Hash(h1)
	if err != nil {
		t.Fatal(err)
	}
	if p != cheapArgon2 {
		t.Errorf("parameters: got %+v, want %+v", p, cheapArgon2)
	}
	if len(salt) < 16 || len(key) < 32 {
		t.Errorf("salt and key: got %d and %d bytes, want at least 16 and 32", len(salt), len(key))
	}
	for _, tt := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery staplE", false},
		{"correct horse battery stapl", false},
		{"correct horse battery staple ", false},
		{"", false},
	} {
		ok, err := pw.verify(ctx, h1, tt.password)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tt.want {
			t.Errorf("verify(%q): got %v, want %v", tt.password, ok, tt.want)
		}
	}
	// No stored hash: the dummy is verified for the timing, and the answer is always no,
	// even for the dummy's own password (which nobody knows anyway).
	if ok, err := pw.verify(ctx, "", "anything at all"); ok || err != nil {
		t.Errorf("verify against no hash: got %v, %v, want false, nil", ok, err)
	}
}

// TestPasswordNoTruncation: bcrypt ignores everything after 72 bytes; we must not.
func TestPasswordNoTruncation(t *testing.T) {
	ctx := context.Background()
	pw := newPasswords(PasswordPolicy{Argon2: cheapArgon2})
	for _, n := range []int{72, 128, 200} {
		prefix := strings.Repeat("q", n)
		h, err := pw.hash(ctx, prefix+"-one")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := pw.verify(ctx, h, prefix+"-two"); ok {
			t.Errorf("passwords sharing the first %d bytes: got accepted, want refused", n)
		}
		if ok, _ := pw.verify(ctx, h, prefix); ok {
			t.Errorf("the first %d bytes alone: got accepted, want refused", n)
		}
		if ok, _ := pw.verify(ctx, h, prefix+"-one"); !ok {
			t.Errorf("the password of %d bytes: got refused, want accepted", n+4)
		}
	}
}

func TestDefaultArgon2Params(t *testing.T) {
	pw := newPasswords(PasswordPolicy{})
	h, err := pw.hash(context.Background(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	p, _, _, err := DecodeArgon2Hash(h)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}); p != want {
		t.Errorf("default parameters: got %+v, want %+v", p, want)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash: got %q, want the PHC prefix $argon2id$v=19$m=19456,t=2,p=1$", h)
	}
}

func TestDecodeArgon2HashRejects(t *testing.T) {
	for _, h := range []string{
		"",
		"$2b$12$abcdefghijklmnopqrstuu5rX6Wq1QmZ0a7rQb5nQy0d9f5sG0p2W",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"$argon2id$v=19$m=x,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$!!!",
	} {
		if _, _, _, err := DecodeArgon2Hash(h); err == nil {
			t.Errorf("DecodeArgon2Hash(%q): got nil error, want one", h)
		}
	}
}

// TestPasswordConcurrencyBounded: a login storm queues for the hashing slots instead of
// allocating Argon2.MemoryKiB per request.
func TestPasswordConcurrencyBounded(t *testing.T) {
	var running, peak atomic.Int32
	pw := newPasswords(PasswordPolicy{Argon2: cheapArgon2, MaxConcurrent: 2, OnVerify: func() {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond) // still holding the slot
		running.Add(-1)
	}})
	ctx := context.Background()
	h, _ := pw.hash(ctx, "correct horse battery staple")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { pw.verify(ctx, h, "wrong password") })
	}
	wg.Wait()
	if got := peak.Load(); got > 2 || got < 1 {
		t.Errorf("concurrent verifications: got a peak of %d, want 1..2", got)
	}

	// A request that gives up while queued does not wait forever.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	pw.sem <- struct{}{}
	pw.sem <- struct{}{}
	defer func() { <-pw.sem; <-pw.sem }()
	if _, err := pw.verify(cctx, h, "x"); err == nil {
		t.Errorf("verify with all slots taken and a cancelled context: got nil error, want one")
	}
}
