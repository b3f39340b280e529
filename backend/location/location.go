// Package location is where a command's data is, and opens the store there: SQLite in the data
// directory (the default, for one machine), or a PostgreSQL database that several servers
// share (--database postgres://…, or GATEHOUSE_DATABASE_URL). Every command (serve, the desktop
// console, user …) takes the same flags, and opens its store and finds its server key
// (backend/serverkey) here.
package location

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"gatehouse/backend"
	"gatehouse/backend/datadir"
	"gatehouse/backend/postgres"
	"gatehouse/backend/serverkey"
	"gatehouse/backend/sqlite"
)

// DatabaseEnv is the environment variable that may name the PostgreSQL database.
const DatabaseEnv = "GATEHOUSE_DATABASE_URL"

// DatabaseFile is the SQLite database in the data directory.
const DatabaseFile = "gatehouse.db"

// Where is where a command's data is.
type Where struct {
	DataDir  string // --data: SQLite's data directory, with its key file
	Database string // --database: a PostgreSQL URL, postgres://…; "" for SQLite in DataDir
	KeyFile  string // --secret-key-file: the server key's file
}

// AddFlags adds the flags beside --data that say where the data is to fs, filling w:
// --database (default GATEHOUSE_DATABASE_URL) and --secret-key-file.
func (w *Where) AddFlags(fs *flag.FlagSet) {
	w.Database = os.Getenv(DatabaseEnv)
	fs.Var(databaseFlag{&w.Database}, "database", "a PostgreSQL database `URL`, postgres://USER:PASSWORD@HOST:PORT/DATABASE, instead of SQLite in the data directory (env "+DatabaseEnv+"; prefer the variable: other users can read command lines); the server key must then be given")
	fs.StringVar(&w.KeyFile, "secret-key-file", "", "read the server key from this `file` (base64 of 32 bytes, private to the user) instead of "+serverkey.EnvVar+" or the data directory's "+serverkey.FileName)
}

// databaseFlag is --database. Its String, which --help prints as the default (the environment
// variable's value), hides the URL's password.
type databaseFlag struct{ url *string }

func (f databaseFlag) Set(s string) error { *f.url = s; return nil }

func (f databaseFlag) String() string {
	if f.url == nil {
		return ""
	}
	u, err := url.Parse(*f.url)
	if err != nil {
		return "(not a URL)" // its error would quote it, password and all
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Store is a store opened where a Where says, with the server key that goes with it.
type Store struct {
	backend.Store
	Key   []byte       // the server key (serverkey.Load)
	Close func() error // closes the store
	// Log says where the store is, as slog attributes: the data directory, or the database's
	// host and name; never a password.
	Log []any
}

// Open opens the store where w says. With PostgreSQL it connects (ctx bounds the connection
// and the migrations) and the data directory is not used. With SQLite it creates the data
// directory (0700) on first use and makes an existing one private (datadir.Prepare), warning
// logger of what it tightened. The server key is found by serverkey.Load first: without one,
// nothing is opened.
func Open(ctx context.Context, w Where, logger *slog.Logger) (*Store, error) {
	if w.Database != "" {
		return openPostgres(ctx, w)
	}
	tightened, err := datadir.Prepare(w.DataDir)
	if err != nil {
		return nil, err
	}
	for _, p := range tightened {
		logger.Warn("other users could read this part of the data directory: made it private to this user", "path", p)
	}
	path := filepath.Join(w.DataDir, DatabaseFile)
	key, err := serverkey.Load(serverkey.Source{Env: os.Getenv(serverkey.EnvVar), File: w.KeyFile, DataDir: w.DataDir, Database: path})
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	return &Store{Store: db, Key: key, Close: db.Close, Log: []any{"store", "sqlite", "data_directory", w.DataDir}}, nil
}

// ErrNotPostgres is Open's answer to a --database that is not a PostgreSQL URL.
var ErrNotPostgres = fmt.Errorf("--database (%s) must be a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE", DatabaseEnv)

func openPostgres(ctx context.Context, w Where) (*Store, error) {
	if !postgres.IsURL(w.Database) {
		return nil, ErrNotPostgres
	}
	key, err := serverkey.Load(serverkey.Source{Env: os.Getenv(serverkey.EnvVar), File: w.KeyFile})
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, w.Database)
	if err != nil {
		return nil, err
	}
	return &Store{Store: db, Key: key, Close: db.Close, Log: []any{"store", "postgres", "host", db.Host(), "database", db.Database()}}, nil
}
