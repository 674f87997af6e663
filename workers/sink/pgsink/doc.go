// Package pgsink writes clean article records to a PostgreSQL table, one row
// per (id, rev), so that redelivered records never produce a second row.
//
// It only stores what it is given: it does not decide which records are clean
// and it never rewrites a row once written; a corrected article carries a new
// rev, and other content arriving under a stored (id, rev) is inserted under
// the next free rev (the rule every sink writer shares), decided by the
// stored hash column.
package pgsink
