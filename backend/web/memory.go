package web

import (
	"sync"
	"time"
)

// codeSheets keeps a set of recovery codes, just handed out by backend, until its owner says
// "I have saved these codes" (or codeSheetTTL passes): long enough to show, print and download
// them, never longer. The key is the hash of the browser's session (or login) token, so only
// that browser can see them; they are never in a cookie or a URL, and never on disk.
type codeSheets struct {
	mu sync.Mutex
	m  map[string]codeSheet
}

// codeSheet is what the recovery codes page shows.
type codeSheet struct {
	Username string
	Codes    []string
	Issued   time.Time
	expires  time.Time
}

const codeSheetTTL = 15 * time.Minute

func newCodeSheets() *codeSheets { return &codeSheets{m: make(map[string]codeSheet)} }

func (c *codeSheets) put(key string, sh codeSheet, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	sh.Issued, sh.expires = now, now.Add(codeSheetTTL)
	c.m[key] = sh
}

func (c *codeSheets) get(key string, now time.Time) (codeSheet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sh, ok := c.m[key]
	if !ok || now.After(sh.expires) {
		delete(c.m, key)
		return codeSheet{}, false
	}
	return sh, true
}

func (c *codeSheets) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// memo is a small in-memory map whose entries end at a time of their own: the SMS pages keep
// what backend does not keep at all (when a login code was sent), so that a reload shows the
// same page again.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]memoEntry[V]
}

type memoEntry[V any] struct {
	v       V
	expires time.Time
}

// maxMemo bounds a memo: entries are per login attempt, and each ends within
// minutes, so a full memo means a flood, which drops the oldest half rather than grow.
const maxMemo = 10000

func newMemo[K comparable, V any]() *memo[K, V] { return &memo[K, V]{m: make(map[K]memoEntry[V])} }

func (c *memo[K, V]) put(k K, v V, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxMemo {
		for key, e := range c.m {
			if !now.Before(e.expires) || len(c.m) >= maxMemo/2 {
				delete(c.m, key)
			}
		}
	}
	c.m[k] = memoEntry[V]{v: v, expires: expires}
}

func (c *memo[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		delete(c.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *memo[K, V]) drop(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
