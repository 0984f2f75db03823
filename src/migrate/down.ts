/**
 * Reverting the newest applied migrations with their `down/` files, which
 * postgres-migrations deliberately lacks (README: "No down migrations"). The
 * down files of one run, with the deletion of their bookkeeping rows, run in
 * one transaction: a failure (or a refusal) of any leaves every migration of
 * the run applied, and a reverted one is applied again by the next up. A down
 * file that cannot run in a transaction (e.g. `drop index concurrently`) opts
 * out with a line of its own reading `-- todo-chat-db: no-transaction`; our
 * marker, not the library's, since these files are ours. Such a file runs
 * alone, and the files before and after it in the run each form a
 * transaction of their own: the run is then all-or-nothing between those
 * files only.
 *
 * A down file that would drop data it cannot carry back refuses, naming what
 * would be lost, unless the session setting todo_chat.allow_data_loss is 'on':
 * `allowDataLoss` sets it for the reverting transactions alone.
 *
 * Like up, every statement waits at most the lock timeout for a lock, and a
 * transaction (or a file outside one) that gives up waiting is rolled back and
 * tried again (src/migrate/lock-retry.ts).
 */
import fs from 'node:fs';
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import { migrationsDir } from '../paths.js';
import { BOOKKEEPING_SCHEMA, forgetApplied, readApplied } from './bookkeeping.js';
import { assertAppliedMatchFiles } from './check.js';
import { listMigrationFiles, type MigrationFile } from './files.js';
import { withMigrationLock } from './lock.js';
import { lockRetryPolicy, retryOnLockTimeout } from './lock-retry.js';
import { DEFAULT_LOCK_TIMEOUT, withSessionSettings } from './session-settings.js';
import type { MigrateOptions } from './up.js';
import type { MigrationResult } from './apply.js';

export interface MigrateDownOptions extends MigrateOptions {
  /** Let down files drop data they cannot carry back (they refuse otherwise, saying what would be lost). */
  allowDataLoss?: boolean | undefined;
}

const NO_TRANSACTION_LINE = /^-- todo-chat-db: no-transaction[ \t]*$/m;

/** Reverts the newest `count` applied migrations, newest first, logging each with its duration. */
export async function migrateDown(client: pg.ClientBase, count = 1, options: MigrateDownOptions = {}): Promise<MigrationResult[]> {
  if (!Number.isInteger(count) || count < 1) throw new MigrationError(`down needs a positive whole number of migrations, got ${count}`);
  const dir = options.dir ?? migrationsDir;
  const log = options.log ?? (() => undefined);
  const lockTimeout = options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  const policy = lockRetryPolicy({ ...options, lockTimeout, log });
  const files = await listMigrationFiles(dir);
  return withMigrationLock(
    client,
    () =>
      withSessionSettings(client, { lockTimeout, searchPath: BOOKKEEPING_SCHEMA }, async () => {
        const applied = await readApplied(client);
        assertAppliedMatchFiles(applied, files, dir);
        const reverts = applied
          .slice(-count)
          .reverse()
          .map((row) => {
            const file = files.find((f) => f.id === row.id)!;
            return { file, sql: fs.readFileSync(file.downPath, 'utf8') };
          });
        const allowDataLoss = options.allowDataLoss === true;
        const results: MigrationResult[] = [];
        for (const group of groups(reverts)) {
          const label = group.length === 1 ? `down migration down/${group[0]!.file.fileName}` : `the down migrations ${group.map((r) => `down/${r.file.fileName}`).join(', ')}`;
          const done = await retryOnLockTimeout(client, policy, { label, file: `down/${group[0]!.file.fileName}` }, () =>
            isTransactional(group[0]!) ? revertTogether(client, group, allowDataLoss, results.length) : revertAlone(client, group[0]!, allowDataLoss, results.length),
          );
          for (const { fileName, durationMs } of done) log(`reverted ${fileName} with down/${fileName} (${durationMs.toFixed(1)} ms)`);
          results.push(...done);
        }
        return results;
      }),
    { waitMs: options.lockWaitMs },
  );
}

interface Revert {
  file: MigrationFile;
  sql: string;
}

function isTransactional(revert: Revert): boolean {
  return !NO_TRANSACTION_LINE.test(revert.sql);
}

/** The reverts of a run in the transactions they run in: consecutive transactional files together, each other file alone. */
function groups(reverts: Revert[]): Revert[][] {
  const out: Revert[][] = [];
  for (const revert of reverts) {
    const last = out[out.length - 1];
    if (isTransactional(revert) && last && isTransactional(last[0]!)) last.push(revert);
    else out.push([revert]);
  }
  return out;
}

/** Lets this transaction's (or, outside one, this session's) down files drop what they cannot carry back. */
async function allowLoss(client: pg.ClientBase, local: boolean): Promise<void> {
  await client.query("select pg_catalog.set_config('todo_chat.allow_data_loss', 'on', $1)", [local]);
}

/** The database's message, with its hint when it gave one (a refusing down file says there what to do). */
function reasonOf(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const hint = (error as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' && hint ? `${message} (${hint})` : message;
}

function alreadyReverted(done: number): string {
  return done > 0 ? `; the ${done} revert(s) before it in this run stay done (a file outside a transaction ran between them)` : '';
}

/** Reverts in one transaction: all of them, or none. */
async function revertTogether(client: pg.ClientBase, reverts: Revert[], allowDataLoss: boolean, done: number): Promise<MigrationResult[]> {
  const results: MigrationResult[] = [];
  let current: Revert | undefined;
  try {
    await client.query('begin');
    if (allowDataLoss) await allowLoss(client, true);
    for (const revert of reverts) {
      current = revert;
      const started = performance.now();
      await client.query(revert.sql);
      await forgetApplied(client, revert.file.id);
      results.push({ fileName: revert.file.fileName, durationMs: performance.now() - started });
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    const others = reverts.length > 1 ? `; the ${reverts.length - 1} other revert(s) of its transaction were rolled back with it` : '';
    const fileName = current?.file.fileName ?? reverts[0]!.file.fileName;
    throw new MigrationError(
      `down migration down/${fileName} failed and was rolled back${others}${alreadyReverted(done)}: ${reasonOf(error)}`,
      { cause: error, file: `down/${fileName}` },
    );
  }
  return results;
}

/** A down file that cannot run in a transaction: on its own, its bookkeeping row deleted once it succeeded. */
async function revertAlone(client: pg.ClientBase, { file, sql }: Revert, allowDataLoss: boolean, done: number): Promise<MigrationResult[]> {
  const started = performance.now();
  try {
    // For this session, reset below: there is no transaction to hold it.
    if (allowDataLoss) await allowLoss(client, false);
    await client.query(sql);
    await forgetApplied(client, file.id);
  } catch (error) {
    throw new MigrationError(
      `down migration down/${file.fileName} (run outside a transaction) failed${alreadyReverted(done)}: ${reasonOf(error)}`,
      { cause: error, file: `down/${file.fileName}` },
    );
  } finally {
    if (allowDataLoss) await client.query("select pg_catalog.set_config('todo_chat.allow_data_loss', '', false)").catch(() => undefined);
  }
  return [{ fileName: file.fileName, durationMs: performance.now() - started }];
}
