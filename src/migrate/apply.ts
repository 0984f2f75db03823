/**
 * Applying pending migration files with postgres-migrations, through its
 * documented `migrate({ client }, dir)`: it records each in its bookkeeping
 * table, checks the hashes of the applied ones, runs each file in its own
 * transaction (or none, for `-- postgres-migrations disable-transaction`) and
 * takes its own lock.
 *
 * We call it once per pending file, on a staging directory holding copies of
 * files 1..k when file k is pending, so each call applies exactly file k: its
 * duration and, on failure, its name are known without reading the library's
 * log lines or error text. The caller holds our lock and has set the session
 * (src/migrate/session-settings.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { migrate } from 'postgres-migrations';
import { MigrationError } from '../errors.js';
import type { AppliedMigration } from './bookkeeping.js';
import type { MigrationFile } from './files.js';

export type MigrationLog = (line: string) => void;

export interface MigrationResult {
  fileName: string;
  durationMs: number;
}

/** Applies the files of `files` that `applied` lacks, in id order, logging each with its duration. */
export async function applyPending(
  client: pg.ClientBase,
  files: MigrationFile[],
  applied: AppliedMigration[],
  log: MigrationLog,
): Promise<MigrationResult[]> {
  const pending = files.filter((file) => !applied.some((row) => row.id === file.id));
  if (pending.length === 0) return [];
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-migrate-'));
  try {
    const results: MigrationResult[] = [];
    for (const file of files) {
      fs.copyFileSync(file.path, path.join(staging, file.fileName));
      if (!pending.includes(file)) continue;
      const durationMs = await applyOne(client, staging, file);
      results.push({ fileName: file.fileName, durationMs });
      log(`applied ${file.fileName} (${durationMs.toFixed(1)} ms)`);
    }
    return results;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Applies `file`, the one pending file in `staging`, and returns how long it took. */
async function applyOne(client: pg.ClientBase, staging: string, file: MigrationFile): Promise<number> {
  const started = performance.now();
  let ran: { id: number }[];
  try {
    ran = await migrate({ client: client as pg.Client }, staging);
  } catch (error) {
    throw new MigrationError(`migration ${file.fileName} failed and was rolled back: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
      file: file.fileName,
    });
  }
  const durationMs = performance.now() - started;
  // Id 0 is the library creating its table on the first call.
  const ids = ran.map((m) => m.id).filter((id) => id > 0);
  if (ids.length !== 1 || ids[0] !== file.id) {
    throw new MigrationError(
      `postgres-migrations applied migration(s) [${ids.join(', ')}] when only ${file.fileName} was pending; ` +
        'is another tool migrating this database without our lock?',
      { file: file.fileName },
    );
  }
  return durationMs;
}
