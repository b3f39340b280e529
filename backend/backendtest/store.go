package backendtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/sqlite"
)

// A StoreKind is one implementation of backend.Store, as the tests open it.
type StoreKind struct {
	Name string
	// Open opens the store of the data directory dir, making it if it is new, with the
	// clock now (nil: the real time), and returns it with the function that closes it. Each
	// call is another connection to the same data, as another process would open it.
	Open func(dir string, now func() time.Time) (store backend.Store, close func() error, err error)
}

// SQLite is the embedded store, backend/sqlite: the file gatehouse.db in the data directory,
// as main keeps it.
var SQLite = StoreKind{Name: "sqlite", Open: func(dir string, now func() time.Time) (backend.Store, func() error, error) {
	db, err := sqlite.Open(SQLitePath(dir))
	if err != nil {
		return nil, nil, err
	}
	if now != nil {
		db.Now = now
	}
	return db, db.Close, nil
}}

// SQLitePath is the SQLite database file of the data directory dir.
func SQLitePath(dir string) string { return filepath.Join(dir, "gatehouse.db") }

// Stores lists every store the tests run on; the first is the default. A new store is a new
// entry here.
var Stores = []StoreKind{SQLite}

// StoreEnv names the store New opens by default (one of Stores' names), so that a whole test
// run can use another: GATEHOUSE_TEST_STORE=sqlite.
const StoreEnv = "GATEHOUSE_TEST_STORE"

// defaultStore is the store StoreEnv names, or the first of Stores.
func defaultStore(tb testing.TB) StoreKind {
	tb.Helper()
	name := os.Getenv(StoreEnv)
	if name == "" {
		return Stores[0]
	}
	for _, k := range Stores {
		if k.Name == name {
			return k
		}
	}
	tb.Fatalf("%s=%s: no such store (the stores are %v)", StoreEnv, name, storeNames())
	return StoreKind{}
}

func storeNames() []string {
	var names []string
	for _, k := range Stores {
		names = append(names, k.Name)
	}
	return names
}

// EachStore runs test once on every store of Stores, as a subtest named for it; give kind to
// New with WithStore.
func EachStore(t *testing.T, test func(t *testing.T, kind StoreKind)) {
	t.Helper()
	for _, k := range Stores {
		t.Run(k.Name, func(t *testing.T) { test(t, k) })
	}
}
