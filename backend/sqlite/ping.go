package sqlite

import (
	"context"
	"fmt"
)

// Ping checks that the database file answers a query: one row read on a reader connection,
// which WAL lets read while the writer writes, so a busy writer does not make the server look
// down to a load balancer. It sees a file that has gone, or become unreadable.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM schema_migrations LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}
