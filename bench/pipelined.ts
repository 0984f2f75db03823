/**
 * An exploration, not part of the library: a single-statement transaction
 * sent as ONE extended-protocol pipeline before one Sync, so that it costs one
 * round trip instead of the library's three:
 *
 *   Parse/Bind/Execute  begin                                    (named, parsed once per connection)
 *   Parse/Bind/Execute  select set_config('todo_chat.user_id', $1, true), set_config('role', $2, true), <the three timeouts>
 *   Parse/Bind/Describe/Execute  the statement                   (named)
 *   Parse/Bind/Execute  commit
 *   Sync
 *
 * Or, with `commit: false`, the first three before one Sync and COMMIT as its
 * own query: two round trips, and what withUser itself could do (send the
 * prologue with the callback's first statement) without knowing the
 * callback's statements in advance (contender `raw-pipelined-prologue`).
 *
 * node-postgres sends one Sync per query and waits for its ReadyForQuery, so
 * this is a custom "submittable" (the interface pg-cursor uses): it writes all
 * the messages at once and reads the answers in order, keeping the rows of the
 * third statement only. On an error the server skips to the Sync: the
 * transaction is left in the failed state (or was never opened, when BEGIN
 * failed) and the caller sends ROLLBACK, as withUser does. The contender
 * `raw-pipelined` of the benchmark runs it (bench/README.md, FINDINGS.md).
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { TIMEOUTS } from './prologue.js';

const require = createRequire(import.meta.url);
// node-postgres' row parser (its own Result class), so that rows are decoded exactly as pg.Client decodes them.
const Result = require('pg/lib/result') as new (rowMode?: string) => {
  rows: unknown[];
  addFields(fields: unknown[]): void;
  parseRow(values: unknown[]): unknown;
};

// node-postgres' conversion of JavaScript values to parameters (Dates, objects as JSON, ...), as its Query uses.
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

const BEGIN = { name: 'tcdb_pipeline_begin', text: 'begin' };
const CONTEXT = {
  name: 'tcdb_pipeline_context',
  text: `select pg_catalog.set_config('todo_chat.user_id', $1, true), pg_catalog.set_config('role', $2, true)${TIMEOUTS}`,
};
const COMMIT = { name: 'tcdb_pipeline_commit', text: 'commit' };

interface Connection {
  parsedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(config: { name: string; text: string; types: unknown[] }): void;
  bind(config: { statement: string; values: unknown[]; valueMapper: (value: unknown) => unknown }): void;
  describe(config: { type: 'P'; name: string }): void;
  execute(config: { portal: string; rows: number }): void;
  sync(): void;
}

class Pipeline {
  // Fields node-postgres reads from a submittable.
  readonly text = undefined;
  readonly name = undefined;
  private completed = 0;
  private readonly result = new Result();
  private parsed: { name: string; text: string }[] = [];
  readonly done: Promise<unknown[]>;
  private resolve!: (rows: unknown[]) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly userId: string,
    private readonly appRole: string,
    private readonly statement: { name: string; text: string; values: unknown[] },
    private readonly withCommit: boolean,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): null {
    connection.stream.cork?.();
    try {
      const steps: [{ name: string; text: string }, unknown[], boolean][] = [
        [BEGIN, [], false],
        [CONTEXT, [this.userId, this.appRole], false],
        [this.statement, this.statement.values, true],
        ...(this.withCommit ? [[COMMIT, [], false] as [{ name: string; text: string }, unknown[], boolean]] : []),
      ];
      for (const [statement, values, describe] of steps) {
        if (connection.parsedStatements[statement.name] === undefined) {
          connection.parse({ name: statement.name, text: statement.text, types: [] });
          this.parsed.push(statement);
        }
        connection.bind({ statement: statement.name, values, valueMapper: prepareValue });
        if (describe) connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
      // Remember what this pipeline parses once it succeeded (below); a failed one parses again next time.
      this.connection = connection;
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  private connection: Connection | undefined;

  handleRowDescription(message: { fields: unknown[] }): void {
    this.result.addFields(message.fields);
  }

  handleDataRow(message: { fields: unknown[] }): void {
    // Only the third statement was described: the data rows of set_config come before its description.
    if (this.completed === 2) this.result.rows.push(this.result.parseRow(message.fields));
  }

  handleCommandComplete(): void {
    this.completed++;
  }

  handleEmptyQuery(): void {}

  handlePortalSuspended(): void {}

  handleCopyInResponse(): void {}

  handleCopyData(): void {}

  /** node-postgres forgets the active query on an error, before the ReadyForQuery that follows: reject now (the caller's ROLLBACK waits for it). */
  handleError(error: unknown): void {
    this.reject(error);
  }

  handleReadyForQuery(): void {
    const expected = this.withCommit ? 4 : 3;
    if (this.completed !== expected) {
      this.reject(new Error(`pipeline ended after ${this.completed} of ${expected} statements`));
      return;
    }
    for (const statement of this.parsed) this.connection!.parsedStatements[statement.name] = statement.text;
    this.resolve(this.result.rows);
  }
}

/**
 * Runs one statement in its own transaction as the user, in one round trip
 * (with `commit: false` the transaction stays open, for the caller's COMMIT);
 * rejects (the caller rolls back) on any error.
 */
export function pipelinedTransaction(
  client: pg.PoolClient,
  userId: string,
  appRole: string,
  statement: { name: string; text: string; values: unknown[] },
  options: { commit: boolean } = { commit: true },
): Promise<unknown[]> {
  const pipeline = new Pipeline(userId, appRole, statement, options.commit);
  void client.query(pipeline as unknown as pg.QueryConfig);
  return pipeline.done;
}
