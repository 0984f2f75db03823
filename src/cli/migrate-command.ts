/**
 * The `migrate` command, shared by the shipped `todo-chat-db migrate` and this
 * repository's `npm run migrate`: it prints the database it targets first
 * (password hidden), then what it did. Any failure is an exit status of 1
 * with a message naming the migration file, or saying why the database could
 * not be reached within the connect timeout.
 */
import { TodoChatDbError } from '../errors.js';
import { connectForMigrations, migrateDown, migrateUp, readMigrationStatus, type MigrateOptions } from '../migrate/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../migrate/connect.js';
import { DEFAULT_LOCK_RETRIES } from '../migrate/lock-retry.js';
import { DEFAULT_LOCK_TIMEOUT } from '../migrate/session-settings.js';
import { redactUrl } from './redact-url.js';

export const MIGRATE_ACTIONS = `  up            apply pending migrations (the default)
  down [n]      revert the newest n applied migrations (default 1) with migrations/down/;
                one that would drop data it cannot carry back refuses, saying what, unless
                --allow-data-loss is given
  status        list applied and pending migrations`;

/** The options every migrate command takes, for usage texts. */
export const MIGRATE_FLAGS = `  --lock-timeout <interval>  how long a migration statement waits for a lock, and so the longest it
                             stalls queries on its table at a time (default: TCDB_MIGRATION_LOCK_TIMEOUT,
                             else ${DEFAULT_LOCK_TIMEOUT})
  --lock-retries <n>         how many times a file that gave up waiting for a lock is rolled back and tried
                             again (default: TCDB_MIGRATION_LOCK_RETRIES, else ${DEFAULT_LOCK_RETRIES})
  --connect-timeout <time>   how long to wait for the server to accept the connection and answer, e.g. 10s or
                             500ms (default: TCDB_MIGRATION_CONNECT_TIMEOUT, else ${DEFAULT_CONNECT_TIMEOUT_MS / 1000}s)
  --allow-data-loss          (down) let down files drop rows they cannot carry back`;

/** The same options for node:util's parseArgs. */
export const MIGRATE_PARSE_OPTIONS = {
  'lock-timeout': { type: 'string' },
  'lock-retries': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'allow-data-loss': { type: 'boolean' },
} as const;

export interface MigrateFlags {
  'lock-timeout'?: string | undefined;
  'lock-retries'?: string | undefined;
  'connect-timeout'?: string | undefined;
}

/** A mistake on the command line: its message is printed as is, without the "failed:" prefix. */
export class CommandLineError extends Error {}

export interface MigrateCommand {
  action: 'up' | 'down' | 'status';
  /** How many migrations `down` reverts. */
  count: number;
  /** `down --allow-data-loss`: let down files drop what they cannot carry back. */
  allowDataLoss: boolean;
}

/** Reads `[up | down [n] | status]` and, for down, `--allow-data-loss` anywhere among them. */
export function parseMigrateCommand(args: string[], usage: string): MigrateCommand {
  const allowDataLoss = args.includes('--allow-data-loss');
  const [action = 'up', ...rest] = args.filter((arg) => arg !== '--allow-data-loss');
  if (allowDataLoss && action !== 'down') throw new CommandLineError(`--allow-data-loss applies to down only\n${usage}`);
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new CommandLineError(`unknown command ${JSON.stringify(action)}\n${usage}`);
  }
  let count = 1;
  if (action === 'down' && rest[0] !== undefined) {
    count = Number(rest[0]);
    if (!Number.isInteger(count) || count < 1) throw new CommandLineError(`down needs a positive whole number, got ${JSON.stringify(rest[0])}`);
  }
  const extra = rest.slice(action === 'down' ? 1 : 0);
  if (extra.length > 0) throw new CommandLineError(`unexpected argument ${JSON.stringify(extra[0])}\n${usage}`);
  return { action, count, allowDataLoss };
}

/** What a run of a migrate command is given: its lock settings and its connect timeout. */
export interface MigrateSettings extends Pick<MigrateOptions, 'lockTimeout' | 'lockRetries' | 'lockWaitMs'> {
  /** How long to wait for the connection, in ms. */
  connectTimeoutMs?: number | undefined;
}

/** What a migration run takes from its environment: TCDB_MIGRATION_LOCK_TIMEOUT and TCDB_MIGRATION_LOCK_RETRIES. */
export function migrateOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<MigrateOptions, 'lockTimeout' | 'lockRetries'> {
  const lockTimeout = env.TCDB_MIGRATION_LOCK_TIMEOUT?.trim();
  const lockRetries = env.TCDB_MIGRATION_LOCK_RETRIES?.trim();
  return {
    ...(lockTimeout ? { lockTimeout } : {}),
    ...(lockRetries ? { lockRetries: parseRetries(lockRetries, 'TCDB_MIGRATION_LOCK_RETRIES') } : {}),
  };
}

/** The connect timeout in TCDB_MIGRATION_CONNECT_TIMEOUT, in ms, if set. */
export function connectTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.TCDB_MIGRATION_CONNECT_TIMEOUT?.trim();
  return value ? parseDuration(value, 'TCDB_MIGRATION_CONNECT_TIMEOUT') : undefined;
}

/** The settings of a run: each flag given, else its environment variable, else the runner's default. */
export function migrateSettings(flags: MigrateFlags, env: NodeJS.ProcessEnv = process.env): MigrateSettings {
  const settings: MigrateSettings = { ...migrateOptionsFromEnv(env) };
  const connectTimeoutMs = connectTimeoutFromEnv(env);
  if (connectTimeoutMs !== undefined) settings.connectTimeoutMs = connectTimeoutMs;
  const lockTimeout = flags['lock-timeout']?.trim();
  if (lockTimeout) settings.lockTimeout = lockTimeout;
  const lockRetries = flags['lock-retries']?.trim();
  if (lockRetries) settings.lockRetries = parseRetries(lockRetries, '--lock-retries');
  const connect = flags['connect-timeout']?.trim();
  if (connect) settings.connectTimeoutMs = parseDuration(connect, '--connect-timeout');
  return settings;
}

function parseRetries(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new CommandLineError(`${what} must be a whole number of retries (0 or more), got ${JSON.stringify(text)}`);
  return Number(text);
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|min)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, min: 60_000 };

/** A positive duration: `500ms`, `10s`, `1min`, or a bare number of milliseconds (as PostgreSQL reads its timeouts). */
export function parseDuration(text: string, what: string): number {
  const match = DURATION.exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms']! : NaN;
  if (!(ms > 0)) throw new CommandLineError(`${what} must be a positive duration such as 10s or 500ms, got ${JSON.stringify(text)}`);
  return ms;
}

export interface MigrateTarget {
  url: string;
  /** How the target was chosen, for the first line printed. */
  description: string;
}

export function targetFrom(url: string, source: string): MigrateTarget {
  return { url, description: `${redactUrl(url)} (from ${source})` };
}

export async function runMigrateCommand(
  command: MigrateCommand,
  target: MigrateTarget,
  settings: MigrateSettings = {},
  print: (line: string) => void = console.log,
): Promise<void> {
  print(`database: ${target.description}`);
  const { connectTimeoutMs, ...options } = settings;
  const client = await connectForMigrations(target.url, connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  try {
    if (command.action === 'up') {
      const applied = await migrateUp(client, { ...options, log: print });
      print(applied.length === 0 ? 'nothing to apply: the database is up to date' : `applied ${applied.length} migration(s)`);
    } else if (command.action === 'down') {
      const reverted = await migrateDown(client, command.count, { ...options, allowDataLoss: command.allowDataLoss, log: print });
      print(reverted.length === 0 ? 'nothing to revert: no migration is applied' : `reverted ${reverted.length} migration(s)`);
    } else {
      const report = await readMigrationStatus(client, { lockWaitMs: options.lockWaitMs });
      if (report.legacy) {
        print(`legacy   an install under the former names (schema app, public.migrations), ${report.legacy.applied} applied: up adopts it`);
      }
      for (const row of report.applied) {
        const note = row.fileName === undefined ? '  (FILE MISSING)' : row.changed ? '  (FILE CHANGED since applied)' : '';
        print(`applied  ${row.fileName ?? `${row.id}_${row.name}`}  ${row.executedAt.toISOString()}${note}`);
      }
      for (const file of report.pending) print(`pending  ${file.fileName}`);
      print(`${report.applied.length} applied, ${report.pending.length} pending`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Ends the process when a command's main function settles: 0 when it resolves, 1 with its message when it throws. */
export function exitWhenDone(main: Promise<void>, failurePrefix: string): void {
  main.then(
    () => process.exit(0),
    (error: unknown) => {
      if (error instanceof CommandLineError) console.error(error.message);
      else if (error instanceof TodoChatDbError) console.error(`${failurePrefix}: ${error.message}`);
      else console.error(`${failurePrefix}: ${(error as Error)?.message ?? String(error)}`);
      process.exit(1);
    },
  );
}
