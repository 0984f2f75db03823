/**
 * Reverting the newest applied migrations with their `down/` files, which
 * postgres-migrations deliberately lacks (README: "No down migrations"). Each
 * down file runs with the deletion of its bookkeeping row in one transaction,
 * so a failure leaves that migration applied, and a reverted one is applied
 * again by the next up. A down file that cannot run in a transaction (e.g.
 * `drop index concurrently`) opts out with a line of its own reading
 * `-- todo-chat-db: no-transaction`; our marker, not the library's, since
 * these files are ours.
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

const NO_TRANSACTION_LINE = /^-- todo-chat-db: no-transaction[ \t]*$/m;

/** Reverts the newest `count` applied migrations, newest first, logging each with its duration. */
export async function migrateDown(client: pg.ClientBase, count = 1, options: MigrateOptions = {}): Promise<MigrationResult[]> {
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
        const results: MigrationResult[] = [];
        for (const row of applied.slice(-count).reverse()) {
          const file = files.find((f) => f.id === row.id)!;
          const durationMs = await revertOne(client, file);
          results.push({ fileName: file.fileName, durationMs });
          log(`reverted ${file.fileName} with down/${file.fileName} (${durationMs.toFixed(1)} ms)`);
        }
        return results;
      }),
    { waitMs: options.lockWaitMs },
  );
}

async function revertOne(client: pg.ClientBase, file: MigrationFile): Promise<number> {
  const sql = fs.readFileSync(file.downPath, 'utf8');
  const inTransaction = !NO_TRANSACTION_LINE.test(sql);
  const started = performance.now();
  try {
    if (inTransaction) await client.query('begin');
    await client.query(sql);
    await forgetApplied(client, file.id);
    if (inTransaction) await client.query('commit');
  } catch (error) {
    if (inTransaction) await client.query('rollback').catch(() => undefined);
    throw new MigrationError(`down migration down/${file.fileName} failed and was rolled back: ${(error as Error).message}`, {
      cause: error,
      file: `down/${file.fileName}`,
    });
  }
  return performance.now() - started;
}
