package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sesame-share/sesame"
)

// query accumulates a WHERE clause and its arguments.
type query struct {
	d     *dialect
	where []string
	args  []any
}

// newQuery starts a WHERE clause in the store's dialect.
func (st *Store) newQuery() *query { return &query{d: st.dialect} }

func (q *query) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *query) sql() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

var ops = map[sesame.Op]string{sesame.OpEq: "=", sesame.OpGt: ">", sesame.OpGte: ">=", sesame.OpLt: "<", sesame.OpLte: "<="}

// addCond translates one parsed condition on column col of type ft.
func (q *query) addCond(col string, ft sesame.FieldType, c sesame.Cond) error {
	arg := func(v string) (any, error) {
		if ft == sesame.FieldNumber {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("store: filter %s: %w", c.Field, err)
			}
			return n, nil
		}
		return v, nil
	}
	switch c.Op {
	case sesame.OpContains:
		for _, v := range c.Values {
			q.add(col+" "+q.d.like+` ? ESCAPE '\'`, "%"+likeEscaper.Replace(v)+"%")
		}
	case sesame.OpIn:
		if len(c.Values) == 0 {
			q.add("1 = 0")
			return nil
		}
		marks := make([]string, len(c.Values))
		args := make([]any, len(c.Values))
		for i, v := range c.Values {
			a, err := arg(v)
			if err != nil {
				return err
			}
			marks[i], args[i] = "?", a
		}
		q.add(col+" IN ("+strings.Join(marks, ", ")+")", args...)
	default:
		op, ok := ops[c.Op]
		if !ok || len(c.Values) != 1 {
			return fmt.Errorf("store: filter %s: unsupported operator %q", c.Field, c.Op)
		}
		a, err := arg(c.Values[0])
		if err != nil {
			return err
		}
		q.add(col+" "+op+" ?", a)
	}
	return nil
}

// addKeyset adds the "after the cursor" condition for ORDER BY col, id.
// page is the one pager of every listing: it adds the keyset condition of
// the cursor (which must come from a listing in the same order) to q, and
// returns the ORDER BY clause and the page size (50 by default). Callers
// fetch one row more than the size, to tell whether another page follows.
func (q *query) page(orderBy, col string, numeric, desc bool, after *sesame.Cursor, size int) (string, int, error) {
	if after != nil {
		if err := checkCursor(after, orderBy, desc); err != nil {
			return "", 0, err
		}
		if err := q.addKeyset(col, numeric, after); err != nil {
			return "", 0, err
		}
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	if size <= 0 {
		size = 50
	}
	order := " ORDER BY " + col + " " + dir
	if col != "id" {
		order += ", id " + dir
	}
	return order, size, nil
}

// checkCursor refuses a cursor from a listing in another order.
func checkCursor(after *sesame.Cursor, orderBy string, desc bool) error {
	if after.OrderBy != orderBy || after.Desc != desc {
		return sesame.FieldErr("BadState", "/last", "last belongs to a listing with another order; repeat the first request's order and order_by")
	}
	return nil
}

func (q *query) addKeyset(col string, numeric bool, c *sesame.Cursor) error {
	var v any = c.Value
	if numeric {
		n, err := strconv.ParseInt(c.Value, 10, 64)
		if err != nil {
			return sesame.FieldErr("BadFormat", "/last", "last is not a cursor returned by an earlier page")
		}
		v = n
	}
	op := ">"
	if c.Desc {
		op = "<"
	}
	if col == "id" {
		q.add("id "+op+" ?", c.ID)
		return nil
	}
	q.add("("+col+" "+op+" ? OR ("+col+" = ? AND id "+op+" ?))", v, v, c.ID)
	return nil
}
