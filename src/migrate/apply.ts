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
 * log lines or error text. The client we hand it records the first error of
 * each call, because the library rethrows errors as plain ones, SQLSTATE
 * lost: that is how a file that gave up waiting for a lock (55P03) is told
 * apart and tried again (src/migrate/lock-retry.ts). The library rolled it
 * back and did not record it, so each file is recorded once, however many
 * attempts it took.
 *
 * A file outside a transaction (a lone `create index concurrently`) cannot
 * be rolled back: it is refused while the schema holds an invalid index, the
 * invalid indexes a failed attempt leaves are dropped before it is tried
 * again, and it is not recorded as applied if an invalid index is left after
 * it (src/migrate/invalid-indexes.ts). The caller holds our lock and has set
 * the session (src/migrate/session-settings.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { migrate } from 'postgres-migrations';
import { MigrationError } from '../errors.js';
import { forgetApplied, type AppliedMigration } from './bookkeeping.js';
import type { MigrationFile } from './files.js';
import { dropIndexes, dropStatements, listInvalidIndexes } from './invalid-indexes.js';
import { retryOnLockTimeout, type LockRetryPolicy } from './lock-retry.js';

export type MigrationLog = (line: string) => void;

export interface MigrationResult {
  fileName: string;
  durationMs: number;
}

/** The line that makes postgres-migrations run a file outside a transaction; it looks for it anywhere in the file. */
export const DISABLE_TRANSACTION_MARKER = '-- postgres-migrations disable-transaction';

/** Applies the files of `files` that `applied` lacks, in id order, logging each with its duration. */
export async function applyPending(
  client: pg.ClientBase,
  files: MigrationFile[],
  applied: AppliedMigration[],
  policy: LockRetryPolicy,
): Promise<MigrationResult[]> {
  const pending = files.filter((file) => !applied.some((row) => row.id === file.id));
  if (pending.length === 0) return [];
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-migrate-'));
  try {
    const results: MigrationResult[] = [];
    for (const file of files) {
      fs.copyFileSync(file.path, path.join(staging, file.fileName));
      if (!pending.includes(file)) continue;
      const durationMs = await applyOne(client, staging, file, policy);
      results.push({ fileName: file.fileName, durationMs });
      policy.log(`applied ${file.fileName} (${durationMs.toFixed(1)} ms)`);
    }
    return results;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Applies `file`, the one pending file in `staging`, trying again while it gives up waiting for locks; returns how long it took. */
async function applyOne(client: pg.ClientBase, staging: string, file: MigrationFile, policy: LockRetryPolicy): Promise<number> {
  const transactional = !fs.readFileSync(file.path, 'utf8').includes(DISABLE_TRANSACTION_MARKER);
  if (!transactional) await refuseOverInvalidIndexes(client, file);
  /** Invalid indexes that failed attempts left and could not drop yet. */
  let leftBehind: string[] = [];
  const started = performance.now();
  await retryOnLockTimeout(
    client,
    policy,
    {
      label: `migration ${file.fileName}`,
      file: file.fileName,
      leftBehind: () => (leftBehind.length > 0 ? leftStatement(leftBehind) : undefined),
    },
    async () => {
      if (leftBehind.length > 0) {
        const dropped = await dropIndexes(client, leftBehind);
        leftBehind = dropped.left;
        if (dropped.left.length > 0) {
          // A drop that gave up waiting for a lock (55P03) counts as an attempt, and is tried again.
          throw new MigrationError(
            `migration ${file.fileName} cannot run again yet: ${leftStatement(dropped.left)} ` +
              `(${(dropped.error as Error)?.message ?? String(dropped.error)})`,
            { cause: dropped.error, file: file.fileName },
          );
        }
      }
      const recorder = recordingClient(client);
      let ran: { id: number }[];
      try {
        ran = await migrate({ client: recorder.client }, staging);
      } catch (error) {
        const cause = recorder.firstError() ?? error;
        const reason = (cause as Error)?.message ?? String(cause);
        if (transactional) {
          throw new MigrationError(`migration ${file.fileName} failed and was rolled back: ${reason}`, { cause, file: file.fileName });
        }
        const invalid = (await listInvalidIndexes(client)).map((row) => row.index);
        const dropped = await dropIndexes(client, invalid);
        leftBehind = dropped.left;
        const cleaned = invalid.length === 0 ? '' : dropped.left.length === 0 ? `; the invalid index it left (${invalid.join(', ')}) was dropped` : `; ${leftStatement(dropped.left)}`;
        throw new MigrationError(`migration ${file.fileName} (run outside a transaction) failed: ${reason}${cleaned}`, { cause, file: file.fileName });
      }
      // Id 0 is the library creating its table on the first call.
      const ids = ran.map((m) => m.id).filter((id) => id > 0);
      if (ids.length !== 1 || ids[0] !== file.id) {
        throw new MigrationError(
          `postgres-migrations applied migration(s) [${ids.join(', ')}] when only ${file.fileName} was pending; ` +
            'is another tool migrating this database without our lock?',
          { file: file.fileName },
        );
      }
      if (!transactional) await unrecordOverInvalidIndexes(client, file);
    },
  );
  return performance.now() - started;
}

function leftStatement(indexes: string[]): string {
  return (
    `it left the invalid index(es) ${indexes.join(', ')}, which could not be dropped while a transaction was in the way: ` +
    `drop them with ${dropStatements(indexes)} before migrating again`
  );
}

/** A file outside a transaction is not run over an invalid index: it would fail on it, or (`if not exists`) keep it. */
async function refuseOverInvalidIndexes(client: pg.ClientBase, file: MigrationFile): Promise<void> {
  const invalid = await listInvalidIndexes(client);
  if (invalid.length === 0) return;
  throw new MigrationError(
    `migration ${file.fileName} runs outside a transaction, and the schema holds invalid index(es) ` +
      `${invalid.map((row) => `${row.index} (on ${row.table})`).join(', ')}: left by a create index concurrently that ` +
      `failed part way, or being built right now by another session. Nothing was run. When no build is in progress, ` +
      `drop them with ${dropStatements(invalid.map((row) => row.index))} and migrate again`,
    { file: file.fileName },
  );
}

/** postgres-migrations records a file outside a transaction as soon as its statement ends: undo that if an invalid index is left. */
async function unrecordOverInvalidIndexes(client: pg.ClientBase, file: MigrationFile): Promise<void> {
  const invalid = await listInvalidIndexes(client);
  if (invalid.length === 0) return;
  await forgetApplied(client, file.id);
  throw new MigrationError(
    `migration ${file.fileName} ran, but the schema now holds invalid index(es) ${invalid.map((row) => row.index).join(', ')}, ` +
      `so it is not recorded as applied: drop them with ${dropStatements(invalid.map((row) => row.index))} and migrate again`,
    { file: file.fileName },
  );
}

/**
 * The client handed to postgres-migrations, which calls only `query`: the
 * same session, plus the first error of the call, with its SQLSTATE.
 */
function recordingClient(client: pg.ClientBase): { client: pg.Client; firstError: () => unknown } {
  let first: unknown;
  const recording = {
    query: async (config: string | pg.QueryConfig, values?: unknown[]) => {
      try {
        return await client.query(config, values);
      } catch (error) {
        first ??= error;
        throw error;
      }
    },
  };
  return { client: recording as unknown as pg.Client, firstError: () => first };
}
