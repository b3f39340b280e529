package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ping checks that the database answers: a round trip on a connection of its own (newProbe),
// not one of the pool's. Under a login storm every pooled connection can be busy, or waiting
// for a user's row lock, for more than a second; a ping queued behind them would call a
// working database unreachable and make a load balancer take the replica out, sending its
// load to the others, which share that database and that storm. While the database is down
// the connection fails and is closed; once it is back a new one is opened (as the pool opens
// new ones: pgxpool pings a connection idle for more than a second before handing it out), so
// nothing here has to be reset after an outage.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.probe.Ping(ctx); err != nil {
		return fmt.Errorf("ping database %s on %s: %w", db.database, db.host, err)
	}
	return nil
}

// newProbe makes Ping's pool, which the session cache's polls share (SessionRevocationsSince):
// the pool's settings, one connection at most, opened when first
// needed and kept while it works. Each server holds one connection more than pool_max_conns.
func newProbe(cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	c := cfg.Copy()
	c.MaxConns, c.MinConns = 1, 0
	return pgxpool.NewWithConfig(context.Background(), c)
}
