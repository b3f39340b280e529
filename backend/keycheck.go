package backend

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// ErrWrongServerKey is New's refusal of a server key other than the one the database was
// first used with.
var ErrWrongServerKey = errors.New("the server key is not the one this database was first used with: " +
	"every server of a database needs that key (GATEHOUSE_SECRET_KEY or the key file), " +
	"or it cannot open the secrets sealed with it")

// KeyCheckValue is the server key's check value: HMAC-SHA256 of the key over a fixed label.
// The database keeps it (Store.KeyCheck) to tell a server started with another key; it
// reveals nothing of the key.
func KeyCheckValue(secretKey []byte) []byte {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte("gatehouse server key check"))
	return m.Sum(nil)
}

// keyCheckTimeout bounds New's one round trip to the store.
const keyCheckTimeout = time.Minute

// checkKey stores the check value of secretKey in a database that has none (a new one, or
// one from before the check), and refuses the key with ErrWrongServerKey if the database has
// another.
func checkKey(store Store, secretKey []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyCheckTimeout)
	defer cancel()
	want := KeyCheckValue(secretKey)
	got, err := store.KeyCheck(ctx, want)
	if err != nil {
		return fmt.Errorf("check the server key against the database: %w", err)
	}
	if !hmac.Equal(got, want) {
		return ErrWrongServerKey
	}
	return nil
}
