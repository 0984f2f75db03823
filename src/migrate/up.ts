/**
 * `up`: under our lock, adopt an install made under the former names if the
 * database holds one (src/migrate/legacy.ts), make sure our bookkeeping table
 * exists, refuse an applied migration whose file is missing or changed (which
 * the library does not notice or does not name), then apply what is pending
 * (src/migrate/apply.ts), each file tried again while it gives up waiting for
 * a lock (src/migrate/lock-retry.ts).
 */
import type pg from 'pg';
import { migrationsDir } from '../paths.js';
import { BOOKKEEPING_SCHEMA, prepareBookkeeping, readApplied } from './bookkeeping.js';
import { assertAppliedMatchFiles } from './check.js';
import { listMigrationFiles } from './files.js';
import { adoptLegacyInstall } from './legacy.js';
import { withMigrationLock } from './lock.js';
import { DEFAULT_LOCK_TIMEOUT, withSessionSettings } from './session-settings.js';
import { applyPending, type MigrationLog, type MigrationResult } from './apply.js';
import { lockRetryPolicy } from './lock-retry.js';

export type { MigrationLog, MigrationResult } from './apply.js';

export interface MigrateOptions {
  /** The migrations folder (its down files in `down/`); the shipped one by default. */
  dir?: string | undefined;
  /** Receives one line per file applied or reverted. */
  log?: MigrationLog | undefined;
  /**
   * lock_timeout for the statements of the migration files (PostgreSQL interval
   * text): the longest a migration waits for a lock, and so the longest it makes
   * queries queued behind it wait, at a time; default '1s'.
   */
  lockTimeout?: string | undefined;
  /** How many times a file that gave up waiting for a lock is tried again (rolled back each time); default 10. */
  lockRetries?: number | undefined;
  /** The pause before the first retry in ms, doubling for each next one up to 5 s, with jitter; default 500. */
  lockRetryDelayMs?: number | undefined;
  /** How long to wait for another migration run to finish; default 5 minutes. */
  lockWaitMs?: number | undefined;
}

/** Applies every pending migration, in id order, logging each with its duration. */
export async function migrateUp(client: pg.ClientBase, options: MigrateOptions = {}): Promise<MigrationResult[]> {
  const dir = options.dir ?? migrationsDir;
  const log = options.log ?? (() => undefined);
  const lockTimeout = options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  const policy = lockRetryPolicy({ ...options, lockTimeout, log });
  const files = await listMigrationFiles(dir);
  return withMigrationLock(
    client,
    async () => {
      await adoptLegacyInstall(client, { dir, policy });
      await prepareBookkeeping(client);
      return withSessionSettings(client, { lockTimeout, searchPath: BOOKKEEPING_SCHEMA }, async () => {
        const applied = await readApplied(client);
        assertAppliedMatchFiles(applied, files, dir);
        return applyPending(client, files, applied, policy);
      });
    },
    { waitMs: options.lockWaitMs },
  );
}
