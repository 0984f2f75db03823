/**
 * Reverting the newest applied migrations with their `down/` files, which
 * postgres-migrations deliberately lacks (README: "No down migrations"). The
 * down files of one run, with the deletion of their bookkeeping rows, run in
 * one transaction: a failure (or a refusal) of any leaves every migration of
 * the run applied, and a reverted one is applied again by the next up. A down
 * file that cannot run in a transaction (e.g. `drop index concurrently`) opts
 * out with a line of its own reading `-- todo-chat-db: no-transaction`; our
 * marker, not the library's, since these files are ours. A run that holds
 * such a file reverts file by file, each in a transaction where it can.
 *
 * A down file that would drop data it cannot carry back refuses, naming what
 * would be lost, unless the session setting todo_chat.allow_data_loss is 'on':
 * `allowDataLoss` sets it for the reverting transactions alone.
 */
import fs from 'node:fs';
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import { migrationsDir } from '../paths.js';
import { BOOKKEEPING_SCHEMA, forgetApplied, readApplied } from './bookkeeping.js';
import { assertAppliedMatchFiles } from './check.js';
import { listMigrationFiles, type MigrationFile } from './files.js';
import { withMigrationLock } from './lock.js';
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
  const files = await listMigrationFiles(dir);
  return withMigrationLock(
    client,
    () =>
      withSessionSettings(client, { lockTimeout: options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT, searchPath: BOOKKEEPING_SCHEMA }, async () => {
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
        const results = reverts.every(({ sql }) => !NO_TRANSACTION_LINE.test(sql))
          ? await revertTogether(client, reverts, allowDataLoss)
          : await revertOneByOne(client, reverts, allowDataLoss);
        for (const { fileName, durationMs } of results) log(`reverted ${fileName} with down/${fileName} (${durationMs.toFixed(1)} ms)`);
        return results;
      }),
    { waitMs: options.lockWaitMs },
  );
}

interface Revert {
  file: MigrationFile;
  sql: string;
}

/** Lets this transaction's (or, outside one, this session's) down files drop what they cannot carry back. */
async function allowLoss(client: pg.ClientBase, local: boolean): Promise<void> {
  await client.query("select pg_catalog.set_config('todo_chat.allow_data_loss', 'on', $1)", [local]);
}

/** Every revert of the run in one transaction: all of them, or none. */
async function revertTogether(client: pg.ClientBase, reverts: Revert[], allowDataLoss: boolean): Promise<MigrationResult[]> {
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
    const others = reverts.length > 1 ? `; the ${reverts.length - 1} other revert(s) of this run were rolled back with it` : '';
    const fileName = current?.file.fileName ?? reverts[0]!.file.fileName;
    throw new MigrationError(`down migration down/${fileName} failed and was rolled back${others}: ${(error as Error).message}`, {
      cause: error,
      file: `down/${fileName}`,
    });
  }
  return results;
}

/** A run holding a file that cannot run in a transaction: each file on its own. */
async function revertOneByOne(client: pg.ClientBase, reverts: Revert[], allowDataLoss: boolean): Promise<MigrationResult[]> {
  const results: MigrationResult[] = [];
  for (const revert of reverts) {
    results.push({ fileName: revert.file.fileName, durationMs: await revertOne(client, revert, allowDataLoss) });
  }
  return results;
}

async function revertOne(client: pg.ClientBase, { file, sql }: Revert, allowDataLoss: boolean): Promise<number> {
  const inTransaction = !NO_TRANSACTION_LINE.test(sql);
  const started = performance.now();
  try {
    if (inTransaction) await client.query('begin');
    // Transaction-local inside a transaction; a non-transactional file gets it for this session, reset below.
    if (allowDataLoss) await allowLoss(client, inTransaction);
    await client.query(sql);
    await forgetApplied(client, file.id);
    if (inTransaction) await client.query('commit');
  } catch (error) {
    if (inTransaction) await client.query('rollback').catch(() => undefined);
    throw new MigrationError(`down migration down/${file.fileName} failed and was rolled back: ${(error as Error).message}`, {
      cause: error,
      file: `down/${file.fileName}`,
    });
  } finally {
    if (!inTransaction && allowDataLoss) await client.query("select pg_catalog.set_config('todo_chat.allow_data_loss', '', false)").catch(() => undefined);
  }
  return performance.now() - started;
}
