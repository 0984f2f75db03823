/**
 * Applying and reverting the shipped migrations. `up` is postgres-migrations
 * (hash-checked, consecutive ids, each file in its own transaction, under its
 * advisory lock); `down`, `status` and the checks it lacks (a deleted applied
 * file, a missing down file) are ours, under the same lock.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { migrate } from 'postgres-migrations';
import { MigrationError } from './errors.js';
import { downMigrationsDir, migrationsDir } from './paths.js';

/** postgres-migrations' advisory lock key, shared so that up and down never overlap. */
const MIGRATION_LOCK_KEY = '-8525285245963000605';
const FILE_PATTERN = /^(\d+)_([a-z0-9_]+)\.sql$/;
const NO_TRANSACTION_MARKER = '-- postgres-migrations disable-transaction';

export interface MigrationFile {
  id: number;
  name: string;
  fileName: string;
  path: string;
  downPath: string;
  /** The hash postgres-migrations records: sha1 of file name + contents. */
  hash: string;
}

export interface AppliedMigration {
  id: number;
  name: string;
  hash: string;
  executedAt: Date;
}

export interface MigrationStatus {
  applied: (AppliedMigration & { fileName: string | undefined; changed: boolean })[];
  pending: MigrationFile[];
}

export interface MigrationLog {
  (line: string): void;
}

export function listMigrationFiles(dir = migrationsDir, downDir = downMigrationsDir): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const fileName of fs.readdirSync(dir).sort()) {
    if (!fileName.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(fileName);
    if (!match) throw new MigrationError(`migration file name ${fileName} is not <number>_<snake_case_name>.sql`, { file: fileName });
    const full = path.join(dir, fileName);
    const contents = fs.readFileSync(full, 'utf8');
    files.push({
      id: Number(match[1]),
      name: match[2]!,
      fileName,
      path: full,
      downPath: path.join(downDir, fileName),
      hash: crypto.createHash('sha1').update(fileName + contents, 'utf8').digest('hex'),
    });
  }
  files.sort((a, b) => a.id - b.id);
  files.forEach((file, index) => {
    if (file.id !== index + 1) {
      throw new MigrationError(`migration ids must be consecutive from 1: ${file.fileName} has id ${file.id}, expected ${index + 1}`, {
        file: file.fileName,
      });
    }
    if (!fs.existsSync(file.downPath)) {
      throw new MigrationError(`migration ${file.fileName} has no down file (expected ${path.relative(process.cwd(), file.downPath)})`, {
        file: file.fileName,
      });
    }
  });
  return files;
}

async function readApplied(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ exists: boolean }>(
    "select to_regclass('public.migrations') is not null as exists",
  );
  if (!exists.rows[0]?.exists) return [];
  const result = await client.query<{ id: number; name: string; hash: string; executed_at: Date }>(
    'select id, name, hash, executed_at from public.migrations where id > 0 order by id',
  );
  return result.rows.map((row) => ({ id: row.id, name: row.name, hash: row.hash, executedAt: row.executed_at }));
}

/** Fails when an applied migration's file is missing or was edited after it ran. */
function checkAppliedAgainstFiles(applied: AppliedMigration[], files: MigrationFile[]): void {
  for (const row of applied) {
    const file = files.find((f) => f.id === row.id);
    if (!file) {
      throw new MigrationError(
        `migration ${row.id} (${row.name}) is applied in the database but its file is missing from ${migrationsDir}`,
      );
    }
    if (file.hash !== row.hash) {
      throw new MigrationError(
        `migration file ${file.fileName} was changed after it was applied (its hash no longer matches the database); ` +
          'released migrations are immutable: revert the edit and add a new migration instead',
        { file: file.fileName },
      );
    }
  }
}

/** Where the migrations are; the shipped ones unless a test or tool says otherwise. */
export interface MigrationSource {
  dir?: string;
}

function filesOf(source: MigrationSource): MigrationFile[] {
  return source.dir ? listMigrationFiles(source.dir, path.join(source.dir, 'down')) : listMigrationFiles();
}

export async function status(client: pg.ClientBase, source: MigrationSource = {}): Promise<MigrationStatus> {
  const files = filesOf(source);
  const applied = await readApplied(client);
  return {
    applied: applied.map((row) => {
      const file = files.find((f) => f.id === row.id);
      return { ...row, fileName: file?.fileName, changed: file !== undefined && file.hash !== row.hash };
    }),
    pending: files.filter((file) => !applied.some((row) => row.id === file.id)),
  };
}

/** Pending migrations, for health checks. */
export async function pendingMigrations(client: pg.ClientBase): Promise<string[]> {
  const { pending } = await status(client);
  return pending.map((file) => file.fileName);
}

export interface AppliedResult {
  fileName: string;
  durationMs: number;
}

/**
 * Every migration waits at most this long for a lock (TODO_CHAT_DB_MIGRATION_LOCK_TIMEOUT,
 * default 10s), so that a migration queued behind a long transaction fails
 * fast instead of blocking every query that queues behind it in turn.
 */
async function setLockTimeout(client: pg.ClientBase): Promise<void> {
  const timeout = process.env.TODO_CHAT_DB_MIGRATION_LOCK_TIMEOUT ?? '10s';
  await client.query("select pg_catalog.set_config('lock_timeout', $1, false)", [timeout]);
}

/** Applies every pending migration, logging each with its duration. */
export async function migrateUp(
  client: pg.ClientBase,
  log: MigrationLog = () => undefined,
  source: MigrationSource = {},
): Promise<AppliedResult[]> {
  const files = filesOf(source);
  checkAppliedAgainstFiles(await readApplied(client), files);
  await setLockTimeout(client);
  const results: AppliedResult[] = [];
  let current: { file: MigrationFile; started: number } | undefined;
  try {
    await migrate({ client: client as pg.Client }, source.dir ?? migrationsDir, {
      logger: (message: string) => {
        const starting = /^Starting migration: (\d+) /.exec(message);
        if (starting) {
          const file = files.find((f) => f.id === Number(starting[1]));
          if (file) current = { file, started: performance.now() };
          return;
        }
        if (message.startsWith('Finished migration: ') && current) {
          const durationMs = performance.now() - current.started;
          results.push({ fileName: current.file.fileName, durationMs });
          log(`applied ${current.file.fileName} (${durationMs.toFixed(1)} ms)`);
          current = undefined;
        }
      },
    });
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).replace(/^Migration failed\. Reason: /, '');
    const hashMismatch = /Hashes don't match for migrations '([^']+)'/.exec(reason);
    if (hashMismatch) {
      throw new MigrationError(`migration file ${hashMismatch[1]} was changed after it was applied (its hash no longer matches the database)`, {
        cause: error,
        file: hashMismatch[1],
      });
    }
    const failed = current?.file.fileName;
    const dbError = (error as { cause?: Error }).cause;
    const detail = /Reason: (.*)$/s.exec(dbError?.message ?? '')?.[1] ?? reason;
    throw new MigrationError(
      failed ? `migration ${failed} failed and was rolled back: ${detail}` : `migrations failed: ${reason}`,
      { cause: error, ...(failed ? { file: failed } : {}) },
    );
  }
  return results;
}

async function withMigrationLock<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  const got = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) as locked`);
  if (!got.rows[0]?.locked) {
    throw new MigrationError('another migration is running on this database (its advisory lock is held); try again when it ends');
  }
  try {
    return await fn();
  } finally {
    await client.query(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => undefined);
  }
}

/** Reverts the newest `count` applied migrations with their down files, each in its own transaction. */
export async function migrateDown(
  client: pg.ClientBase,
  count = 1,
  log: MigrationLog = () => undefined,
  source: MigrationSource = {},
): Promise<AppliedResult[]> {
  if (!Number.isInteger(count) || count < 1) throw new MigrationError(`down needs a positive whole number of migrations, got ${count}`);
  const files = filesOf(source);
  return withMigrationLock(client, async () => {
    await setLockTimeout(client);
    const applied = await readApplied(client);
    checkAppliedAgainstFiles(applied, files);
    const toRevert = applied.slice(-count).reverse();
    const results: AppliedResult[] = [];
    for (const row of toRevert) {
      const file = files.find((f) => f.id === row.id)!;
      const sql = fs.readFileSync(file.downPath, 'utf8');
      const inTransaction = !sql.includes(NO_TRANSACTION_MARKER);
      const started = performance.now();
      try {
        if (inTransaction) await client.query('begin');
        await client.query(sql);
        await client.query('delete from public.migrations where id = $1', [row.id]);
        if (inTransaction) await client.query('commit');
      } catch (error) {
        if (inTransaction) await client.query('rollback').catch(() => undefined);
        throw new MigrationError(`down migration down/${file.fileName} failed and was rolled back: ${(error as Error).message}`, {
          cause: error,
          file: `down/${file.fileName}`,
        });
      }
      const durationMs = performance.now() - started;
      results.push({ fileName: file.fileName, durationMs });
      log(`reverted ${file.fileName} with down/${file.fileName} (${durationMs.toFixed(1)} ms)`);
    }
    return results;
  });
}

/** Writes the next numbered up/down pair and returns their paths. */
export function createMigration(rawName: string, dir = migrationsDir): { up: string; down: string } {
  const name = rawName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name) throw new MigrationError('create needs a name, e.g. `npm run migrate -- create add_task_due_date`');
  const files = fs.existsSync(dir) ? listMigrationFiles(dir, path.join(dir, 'down')) : [];
  const id = String(files.length + 1).padStart(4, '0');
  const fileName = `${id}_${name}.sql`;
  const up = path.join(dir, fileName);
  const down = path.join(dir, 'down', fileName);
  fs.mkdirSync(path.dirname(down), { recursive: true });
  fs.writeFileSync(
    up,
    `-- ${id}_${name}\n-- purpose: <what this migration changes and why>\n-- touches: <tables, functions, roles>\n\n`,
    { flag: 'wx' },
  );
  fs.writeFileSync(down, `-- down ${id}_${name}\n-- reverts: <exactly what the up file created or changed>\n\n`, { flag: 'wx' });
  return { up, down };
}
