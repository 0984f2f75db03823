/**
 * What the repositories of one withUser transaction run their named queries
 * through. Every query is timed, reported to onQuery and has its driver error
 * mapped here, the row count a caller expects is enforced here, and nothing
 * runs once the transaction has ended. It also knows the transaction's user,
 * so that a repository needs nothing else.
 */
import type pg from 'pg';
import type { IDatabaseConnection } from '@pgtyped/runtime';
import { InternalError, NotFoundError, TransactionAbortedError, UsageError, mapDatabaseError } from './errors.js';
import { runNamedQuery, type NamedQuery } from './named-query.js';
import type { StatementNames } from './statement-names.js';
import { ROW_TYPES } from './row-types.js';

export interface QueryEvent {
  /** The query's @name in sql/, e.g. "CreateTask". */
  query: string;
  durationMs: number;
  rowCount: number;
  /** SQLSTATE (or socket error code) when the query failed. */
  errorCode?: string;
}

/**
 * What a missing row means: NotFoundError(entity, id) for `one`, and for any
 * query the entity a foreign-key violation reports as not found (appending to
 * a conversation that is not the user's, say).
 */
export interface RowExpectation {
  notFound?: readonly [entity: string, id?: string];
}

export class QueryRunner {
  private ended = false;
  /** The driver error that aborted this transaction, if one did: later queries would only get 25P02. */
  private abortedBy: unknown;
  private readonly connection: IDatabaseConnection;
  /** The @name of the query being sent: pgtyped calls connection.query synchronously inside run(). */
  private sending = '';

  constructor(
    client: pg.ClientBase,
    /** The user the transaction runs as (already validated and set on the server). */
    readonly userId: string,
    private readonly onQuery?: (event: QueryEvent) => void,
    /** Names each statement by its text (src/statement-names.ts); undefined: unnamed statements. */
    statementNames?: StatementNames,
  ) {
    this.connection = {
      query: (text, values) => {
        if (this.ended) return Promise.reject(new UsageError('this transaction has ended; use tx only inside its withUser callback'));
        const sent = client.query(statementNames ? statementNames.statement(this.sending, text, values) : { text, values, types: ROW_TYPES });
        return sent.then((result) => ({ rows: result.rows, rowCount: result.rowCount ?? 0 }));
      },
    };
  }

  /** Called once, when the transaction's callback is done: every later query is refused. */
  end(): void {
    this.ended = true;
  }

  /** The error that aborted the transaction on the server, or undefined while it can still commit. */
  get abortCause(): unknown {
    return this.abortedBy;
  }

  /** Runs a named query and returns all its rows. */
  async many<P, R>(named: NamedQuery<P, R>, params: P, expect: RowExpectation = {}): Promise<R[]> {
    if (this.abortedBy !== undefined) throw new TransactionAbortedError(this.abortedBy);
    const started = performance.now();
    try {
      this.sending = named.name;
      const rows = await runNamedQuery(named, params, this.connection);
      this.report(named.name, started, rows.length);
      return rows;
    } catch (error) {
      this.report(named.name, started, 0, error);
      const mapped = mapDatabaseError(error, { query: named.name, ...(expect.notFound ? { entity: expect.notFound[0] } : {}) });
      // Any error the server raised aborts the transaction; our own (an ended transaction) does not.
      if (mapped.sqlState !== undefined) this.abortedBy = mapped;
      throw mapped;
    }
  }

  /** Exactly one row, or NotFoundError(entity, id). */
  async one<P, R>(named: NamedQuery<P, R>, params: P, expect: Required<RowExpectation>): Promise<R> {
    const rows = await this.many(named, params, expect);
    if (rows.length === 0) throw new NotFoundError(expect.notFound[0], expect.notFound[1]);
    if (rows.length > 1) throw new InternalError(`${named.name} returned ${rows.length} rows, expected one`);
    return rows[0]!;
  }

  /** Zero or one row. */
  async maybeOne<P, R>(named: NamedQuery<P, R>, params: P, expect: RowExpectation = {}): Promise<R | undefined> {
    const rows = await this.many(named, params, expect);
    if (rows.length > 1) throw new InternalError(`${named.name} returned ${rows.length} rows, expected at most one`);
    return rows[0];
  }

  private report(query: string, started: number, rowCount: number, error?: unknown): void {
    if (!this.onQuery) return;
    const code = (error as { code?: unknown } | undefined)?.code;
    const event: QueryEvent = { query, durationMs: performance.now() - started, rowCount };
    if (typeof code === 'string') event.errorCode = code;
    else if (error !== undefined) event.errorCode = 'UNKNOWN';
    try {
      // Plain frozen data, and no receiver: an observer's `this` is undefined, never this runner (which can run SQL).
      Reflect.apply(this.onQuery, undefined, [Object.freeze(event)]);
    } catch {
      // An observer must never break the transaction it observes.
    }
  }
}
