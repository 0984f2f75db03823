/**
 * The one checked-out client of a withUser transaction, as the repositories
 * see it: named queries run through here, so that every query is timed,
 * reported to onQuery and has its driver error mapped, and nothing runs once
 * the transaction has ended.
 */
import type pg from 'pg';
import type { PreparedQuery } from '@pgtyped/runtime';
import { ContextError, NotFoundError, TransactionAbortedError, mapDatabaseError } from './errors.js';

export interface QueryEvent {
  /** The query's @name in sql/, e.g. "CreateTask". */
  query: string;
  durationMs: number;
  rowCount: number;
  /** SQLSTATE (or socket error code) when the query failed. */
  errorCode?: string;
}

export class Session {
  private ended = false;
  /** The driver error that aborted this transaction, if one did: later queries would only get 25P02. */
  abortedBy: unknown;
  private readonly connection: { query: (text: string, values: unknown[]) => Promise<{ rows: unknown[]; rowCount: number }> };

  constructor(
    private readonly client: pg.PoolClient,
    private readonly onQuery?: (event: QueryEvent) => void,
  ) {
    this.connection = {
      query: (text, values) => {
        if (this.ended) return Promise.reject(new ContextError('this transaction has ended; use tx only inside its withUser callback'));
        return this.client.query(text, values).then((result) => ({ rows: result.rows, rowCount: result.rowCount ?? 0 }));
      },
    };
  }

  end(): void {
    this.ended = true;
  }

  /** False once the transaction has ended (committed, rolled back or failed). */
  get open(): boolean {
    return !this.ended;
  }

  /** Runs a named pgtyped query and returns all rows. */
  async many<P, R>(name: string, query: PreparedQuery<P, R>, params: P, entity?: string): Promise<R[]> {
    if (this.abortedBy !== undefined) throw new TransactionAbortedError(this.abortedBy);
    const started = performance.now();
    try {
      const rows = await query.run(params, this.connection);
      this.report(name, started, rows.length);
      return rows;
    } catch (error) {
      this.report(name, started, 0, error);
      const mapped = mapDatabaseError(error, { query: name, ...(entity ? { entity } : {}) });
      // Any error the server raised aborts the transaction; our own (a closed session) does not.
      if (mapped.sqlState !== undefined) this.abortedBy = mapped;
      throw mapped;
    }
  }

  /** Exactly one row, or NotFoundError. */
  async one<P, R>(name: string, query: PreparedQuery<P, R>, params: P, entity: string, id?: string): Promise<R> {
    const rows = await this.many(name, query, params, entity);
    if (rows.length === 0) throw new NotFoundError(entity, id);
    if (rows.length > 1) throw new ContextError(`internal: ${name} returned ${rows.length} rows, expected one`);
    return rows[0]!;
  }

  /** Zero or one row. */
  async maybeOne<P, R>(name: string, query: PreparedQuery<P, R>, params: P, entity?: string): Promise<R | undefined> {
    const rows = await this.many(name, query, params, entity);
    if (rows.length > 1) throw new ContextError(`internal: ${name} returned ${rows.length} rows, expected at most one`);
    return rows[0];
  }

  private report(query: string, started: number, rowCount: number, error?: unknown): void {
    if (!this.onQuery) return;
    const code = (error as { code?: unknown } | undefined)?.code;
    const event: QueryEvent = { query, durationMs: performance.now() - started, rowCount };
    if (typeof code === 'string') event.errorCode = code;
    else if (error !== undefined) event.errorCode = 'UNKNOWN';
    try {
      this.onQuery(event);
    } catch {
      // An observer must never break the transaction it observes.
    }
  }
}
