package postgres

import (
	"context"
	"fmt"
)

// Ping checks that the database answers: a round trip on a pooled connection. While the
// database is down the pool's connections fail and are closed; once it is back the pool opens
// new ones (pgxpool pings a connection idle for more than a second before handing it out), so
// nothing here has to be reset after an outage.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database %s on %s: %w", db.database, db.host, err)
	}
	return nil
}
