package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gatehouse/backend"
)

// unreachable returns err as an EUNAVAILABLE error when it says that the database could not be
// reached (connectionLost), and err unchanged otherwise. Every error of the store passes here
// (Atomically, the transactions of inTx, readTx and inSnapshot, and the one-statement calls of
// conn), so that a request that met an outage answers "unavailable" (503) whatever the state
// of the database a moment later: asking it again after the error is no test, since a
// PostgreSQL restarting answers again a few milliseconds after refusing a connection, and a
// pooled connection ended by the restart fails on its first use while the database is up.
func unreachable(err error) error {
	if err == nil || !connectionLost(err) {
		return err
	}
	return backend.StoreUnreachable(err)
}

// connectionLost reports whether err says that the database could not be reached, or that the
// connection to it broke, rather than that a statement was refused:
//
//   - no connection could be opened (pgconn.ConnectError: refused, timed out, and PostgreSQL's
//     own refusals at connect: 57P03 "the database system is starting up", "… is shutting
//     down", "cannot connect now", 53300 too many connections);
//   - SQLSTATE class 08 (connection exception), 57P01 "terminating connection due to
//     administrator command" (a fast shutdown or pg_terminate_backend), 57P02 (crash
//     shutdown), 57P03 (cannot connect now);
//   - the connection closed under the call: pgconn.ErrConnClosed, EOF, a reset or broken pipe,
//     any other network error;
//   - a call cut by a deadline (the database did not answer in time). A call cancelled
//     because its caller went away is not the database's fault and stays internal.
func connectionLost(err error) bool {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return strings.HasPrefix(e.Code, "08") || e.Code == "57P01" || e.Code == "57P02" || e.Code == "57P03"
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded)
}

// pooled is the pool as a querier whose errors pass through unreachable (conn).
type pooled struct{ q querier }

func (p pooled) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.q.Exec(ctx, sql, args...)
	return tag, unreachable(err)
}

func (p pooled) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := p.q.Query(ctx, sql, args...)
	if err != nil {
		return rows, unreachable(err)
	}
	return pooledRows{rows}, nil
}

func (p pooled) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return pooledRow{p.q.QueryRow(ctx, sql, args...)}
}

type pooledRow struct{ pgx.Row }

func (r pooledRow) Scan(dest ...any) error { return unreachable(r.Row.Scan(dest...)) }

type pooledRows struct{ pgx.Rows }

func (r pooledRows) Err() error             { return unreachable(r.Rows.Err()) }
func (r pooledRows) Scan(dest ...any) error { return unreachable(r.Rows.Scan(dest...)) }
