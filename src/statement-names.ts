/**
 * Named (prepared) statements, one name per SQL text. node-postgres parses a
 * named statement once per connection and afterwards only binds and executes
 * it, so the server neither parses nor plans the text again (after five
 * executions PostgreSQL may keep a generic plan: test/schema/plans-prepared
 * checks that every hot path's generic plan is the right one too). pgtyped
 * sends unnamed statements: every call would be parsed and planned again.
 *
 * A name is a hash of the text, never of anything else, so two texts can
 * never share a name on a connection (node-postgres refuses that) and every
 * store of every process names a statement alike. Off (the store option
 * `namedStatements: false`) for poolers that cannot carry prepared statements
 * across transactions: PgBouncer before 1.21 in transaction mode.
 */
import { createHash } from 'node:crypto';
import { ROW_TYPES } from './row-types.js';

/** What the server calls a statement of ours: `tcdb_` and 22 characters of the text's SHA-256 (within NAMEDATALEN). */
export const STATEMENT_NAME_PREFIX = 'tcdb_';

/** The name of the statement with this text. */
export function statementNameOf(text: string): string {
  return STATEMENT_NAME_PREFIX + createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** A statement as node-postgres takes it: named, so that each connection prepares it once. */
export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
  /** How its rows are decoded (src/row-types.ts). */
  types: typeof ROW_TYPES;
}

/**
 * The name of each query's text, remembered per query name: a call compares
 * its text with the one remembered (a string comparison) instead of hashing
 * it again, or looking up the whole text in a map (which hashes it too).
 * pgtyped builds a new text string per call, and the same text per query
 * unless a parameter is a list (`:ids(...)`), which no query of sql/ uses.
 */
export class StatementNames {
  private readonly byQuery = new Map<string, { text: string; name: string }>();

  statement(queryName: string, text: string, values: unknown[]): NamedStatement {
    let known = this.byQuery.get(queryName);
    if (known === undefined || known.text !== text) {
      known = { text, name: statementNameOf(text) };
      this.byQuery.set(queryName, known);
    }
    return { name: known.name, text, values, types: ROW_TYPES };
  }
}

/**
 * SQLSTATEs of a named statement the connection can no longer use: 26000 (the
 * server does not know it: something ran DEALLOCATE or DISCARD ALL, or a
 * pooler moved the session) and 0A000 "cached plan must not change result
 * type" (a migration changed a table under it). node-postgres remembers what
 * it prepared per connection, so such a connection is discarded, not reused.
 */
export function isStaleStatementError(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current !== null && typeof current === 'object' && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === '26000') return true;
    if (code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type')) return true;
  }
  return false;
}
