package postgres

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// A foldPart is a queued write (Tx.laterPart) written as data-modifying CTEs, which the
// transaction's commit may fold, with the foldable writes queued next to it, into one
// statement: [consume, sign-in, moves, audit, COMMIT] as [one statement, COMMIT]. PostgreSQL
// runs every data-modifying CTE of a statement exactly once and to completion, whether or not
// anything reads it, so each write still runs, under the same locks, in the same transaction;
// and a part that must fail unless it changed a row (division_by_zero in its answer) fails the
// folded statement, so that nothing commits, as it failed its own statement before.
//
// What folding changes is that the CTEs of one statement all see the snapshot it began with,
// not each other's writes. So a part is foldable only when no earlier write of the same run can
// change what it reads or writes: fold never puts two parts that update or delete rows of the
// same table (tables) into one statement, and a write that is not a part (a failure counter, a
// revocation) ends the run.
type foldPart struct {
	// ctes are the part's CTEs, "{p}name AS (…)" separated by commas, with $1… its own
	// arguments; {p} is replaced by a prefix of the part's own in a folded statement.
	ctes string
	// answer is an expression over the part's CTEs (its check, or a RETURNING value), or "".
	answer string
	// scan, with an answer, is where the answer is scanned (nil: read and dropped).
	scan any
	// tables are the tables whose rows the part updates or deletes.
	tables []string
}

// sql is the part as a statement of its own.
func (p *foldPart) sql() string {
	answer := p.answer
	if answer == "" {
		answer = "1"
	}
	return "WITH " + strings.ReplaceAll(p.ctes, "{p}", "") + " SELECT " + strings.ReplaceAll(answer, "{p}", "")
}

// laterPart queues the write p as later does (its statement of its own, read by read), and
// lets commit fold it with the parts queued next to it.
func (tx *Tx) laterPart(read func(pgx.BatchResults) error, p *foldPart, args ...any) {
	tx.pending = append(tx.pending, pendingWrite{sql: p.sql(), args: args, read: read, part: p})
}

// fold returns pending with each run of two or more foldable writes next to each other made
// one statement (see foldPart).
func fold(pending []pendingWrite) []pendingWrite {
	var out, run []pendingWrite
	written := map[string]bool{}
	flush := func() {
		if len(run) == 1 {
			out = append(out, run[0])
		} else if len(run) > 1 {
			out = append(out, folded(run))
		}
		run = nil
		clear(written)
	}
	for _, w := range pending {
		if w.part == nil {
			flush()
			out = append(out, w)
			continue
		}
		for _, t := range w.part.tables {
			if written[t] {
				flush()
				break
			}
		}
		for _, t := range w.part.tables {
			written[t] = true
		}
		run = append(run, w)
	}
	flush()
	return out
}

// param is a statement argument's placeholder.
var param = regexp.MustCompile(`\$([0-9]+)`)

// foldedSQL caches folded statements by their parts' text (foldKey): a login step folds the
// same parts every time, and renumbering them is most of the Go work of its commit. The parts'
// text is the program's own (their arguments are apart), so there are only ever as many
// entries as the program has ways of queuing parts.
var foldedSQL sync.Map // foldKey → string

// foldKey is what a folded statement's text depends on: each part's CTEs and answer, and how
// many arguments it has.
func foldKey(run []pendingWrite) string {
	var k strings.Builder
	for _, w := range run {
		k.WriteString(w.part.ctes)
		k.WriteByte(0)
		k.WriteString(w.part.answer)
		k.WriteByte(0)
		k.WriteString(strconv.Itoa(len(w.args)))
		k.WriteByte(1)
	}
	return k.String()
}

// folded is the writes of run (all parts) as one statement: their CTEs, each part's names and
// arguments renumbered apart, and a SELECT of their answers.
func folded(run []pendingWrite) pendingWrite {
	var args, dests []any
	for _, w := range run {
		args = append(args, w.args...)
		if w.part.answer != "" {
			dest := w.part.scan
			if dest == nil {
				dest = new(any)
			}
			dests = append(dests, dest)
		}
	}
	if len(dests) == 0 {
		dests = []any{new(any)}
	}
	key := foldKey(run)
	sql, ok := foldedSQL.Load(key)
	if !ok {
		sql, _ = foldedSQL.LoadOrStore(key, foldSQL(run))
	}
	return pendingWrite{
		sql:  sql.(string),
		args: args,
		read: func(br pgx.BatchResults) error {
			if err := br.QueryRow().Scan(dests...); err != nil {
				return fmt.Errorf("queued writes: %w", err)
			}
			return nil
		},
	}
}

// foldSQL is the text of folded's statement.
func foldSQL(run []pendingWrite) string {
	var ctes, answers []string
	offset := 0
	for i, w := range run {
		prefix := "w" + strconv.Itoa(i) + "_"
		renumber := func(s string) string {
			s = strings.ReplaceAll(s, "{p}", prefix)
			return param.ReplaceAllStringFunc(s, func(m string) string {
				n, _ := strconv.Atoi(m[1:])
				return "$" + strconv.Itoa(n+offset)
			})
		}
		ctes = append(ctes, renumber(w.part.ctes))
		if w.part.answer != "" {
			answers = append(answers, renumber(w.part.answer))
		}
		offset += len(w.args)
	}
	if len(answers) == 0 {
		answers = []string{"1"}
	}
	return "WITH " + strings.Join(ctes, ",\n") + "\nSELECT " + strings.Join(answers, ", ")
}
