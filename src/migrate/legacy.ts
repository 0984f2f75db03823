/**
 * Installs made before todo-chat-db named its objects `todo_chat...` kept
 * everything in a schema called `app`, postgres-migrations' bookkeeping in
 * `public.migrations` and the user in the setting `app.user_id`: names an
 * application may well use itself. Their seven migrations stay, as released,
 * in migrations/legacy/. `up` adopts such an install once, before anything
 * else: it finishes the legacy chain if the install is behind, then, in one
 * transaction, runs migrations/legacy/adopt/adopt_legacy_install.sql (which
 * renames the schema and the setting) and moves the bookkeeping: the first
 * seven migrations of the current chain, which create exactly what the
 * adopted install now has, are recorded as applied, and the legacy table is
 * dropped. A `public.migrations` that is not ours (another tool's, or
 * another application's postgres-migrations) is never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import { migrationsDir } from '../paths.js';
import {
  bookkeepingExists,
  dropBookkeeping,
  looksLikeBookkeeping,
  prepareBookkeeping,
  readApplied,
  recordAdopted,
  type AppliedMigration,
} from './bookkeeping.js';
import { assertAppliedMatchFiles } from './check.js';
import { listMigrationFiles, loadBookkeepingRows } from './files.js';
import { withSessionSettings } from './session-settings.js';
import { applyPending } from './apply.js';
import type { LockRetryPolicy } from './lock-retry.js';

export const LEGACY_DIR = path.join(migrationsDir, 'legacy');
const ADOPT_FILE = path.join(LEGACY_DIR, 'adopt', 'adopt_legacy_install.sql');
/** Where the legacy install's bookkeeping table is: public.migrations. */
const LEGACY_BOOKKEEPING_SCHEMA = 'public';

/**
 * The migrations a legacy install has applied, or undefined when the database
 * holds none: no `public.migrations`, another tool's table of that name, or an
 * install that already keeps its bookkeeping under our own name.
 */
export async function findLegacyInstall(client: pg.ClientBase): Promise<AppliedMigration[] | undefined> {
  if (await bookkeepingExists(client)) return undefined;
  if (!(await bookkeepingExists(client, LEGACY_BOOKKEEPING_SCHEMA))) return undefined;
  if (!(await looksLikeBookkeeping(client, LEGACY_BOOKKEEPING_SCHEMA))) return undefined;
  const applied = await readApplied(client, LEGACY_BOOKKEEPING_SCHEMA);
  const legacyFiles = await listMigrationFiles(LEGACY_DIR);
  const first = applied[0];
  const ours = first !== undefined && legacyFiles.some((file) => file.id === first.id && file.hash === first.hash);
  return ours ? applied : undefined;
}

export interface AdoptOptions {
  /** The current chain, whose first files the adopted install is recorded as having applied. */
  dir: string;
  /** The run's lock timeout, retries and log. */
  policy: LockRetryPolicy;
}

/** Adopts a legacy install, if the database holds one; called under the migration lock. */
export async function adoptLegacyInstall(client: pg.ClientBase, options: AdoptOptions): Promise<boolean> {
  const legacyApplied = await findLegacyInstall(client);
  if (!legacyApplied) return false;
  const legacyFiles = await listMigrationFiles(LEGACY_DIR);
  assertAppliedMatchFiles(legacyApplied, legacyFiles, LEGACY_DIR);
  const schema = await client.query<{ exists: boolean }>("select pg_catalog.to_regnamespace('app') is not null as exists");
  if (!schema.rows[0]?.exists) {
    throw new MigrationError(
      'public.migrations records todo-chat-db migrations, but the schema app they created is gone; ' +
        'restore it, or drop public.migrations if this database no longer holds a todo-chat-db install',
    );
  }
  const { policy } = options;
  policy.log(`found an install of todo-chat-db under its former names (schema app, public.migrations): adopting it`);
  await withSessionSettings(client, { lockTimeout: policy.lockTimeout, searchPath: LEGACY_BOOKKEEPING_SCHEMA }, () =>
    applyPending(client, legacyFiles, legacyApplied, { ...policy, log: (line) => policy.log(`legacy ${line}`) }),
  );
  const adopted = (await loadBookkeepingRows(options.dir)).filter((row) => row.id <= legacyFiles.length);
  const sql = fs.readFileSync(ADOPT_FILE, 'utf8');
  const started = performance.now();
  await withSessionSettings(client, { lockTimeout: policy.lockTimeout, searchPath: LEGACY_BOOKKEEPING_SCHEMA }, async () => {
    try {
      await client.query('begin');
      await client.query(sql);
      await prepareBookkeeping(client);
      await recordAdopted(client, adopted, LEGACY_BOOKKEEPING_SCHEMA);
      await dropBookkeeping(client, LEGACY_BOOKKEEPING_SCHEMA);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw new MigrationError(`adopting the legacy install failed and was rolled back: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
        file: path.relative(migrationsDir, ADOPT_FILE),
      });
    }
  });
  const last = adopted[adopted.length - 1];
  policy.log(
    `adopted: schema app is now todo_chat, bookkeeping in todo_chat_migrations.migrations, ` +
      `${last?.fileName ?? 'nothing'} and before recorded as applied (${(performance.now() - started).toFixed(1)} ms)`,
  );
  return true;
}
