package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"gatehouse/backend"
)

// testKeyCheck: the first check value stored is the database's for good, whoever asks later
// with another, on any store of the database; an empty one is refused, storing nothing.
func testKeyCheck(t *testing.T, o Opener) {
	d := o(t)
	stores := replicas(d, 2, nil)
	_, err := stores[0].KeyCheck(ctx, nil)
	wantCode(t, err, backend.EINVALID)
	if n := d.count(t, "settings"); n != 0 {
		t.Fatalf("after an empty check value: %d settings, want none", n)
	}
	first := []byte("check value one")
	if got, err := stores[0].KeyCheck(ctx, first); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("KeyCheck of a new database: %q, %v; want the value given", got, err)
	}
	for i, s := range stores {
		if got, err := s.KeyCheck(ctx, []byte("check value two")); err != nil || !bytes.Equal(got, first) {
			t.Errorf("store %d: KeyCheck with another value: %q, %v; want the first, %q", i, got, err, first)
		}
	}
	if got, err := stores[1].KeyCheck(ctx, first); err != nil || !bytes.Equal(got, first) {
		t.Errorf("KeyCheck with the first value again: %q, %v", got, err)
	}
}

// testRaceKeyCheck: servers opening a new database at once, each with its own key, all get
// the one value stored.
func testRaceKeyCheck(t *testing.T, o Opener) {
	stores := replicas(o(t), servers, nil)
	got := make([][]byte, 20)
	race(t, len(got), func(i int) (bool, error) {
		v, err := stores[i%servers].KeyCheck(ctx, fmt.Appendf(nil, "key %d", i))
		got[i] = v
		return true, err
	})
	for i, v := range got {
		if !bytes.Equal(v, got[0]) || len(v) == 0 {
			t.Fatalf("racing first KeyChecks: %d got %q, 0 got %q; want one value for all", i, v, got[0])
		}
	}
}
