/**
 * The `migrate` command, shared by the shipped `todo-chat-db migrate` and this
 * repository's `npm run migrate`: it prints the database it targets first
 * (password hidden), then what it did. Any failure is an exit status of 1
 * with a message naming the migration file.
 */
import pg from 'pg';
import { TodoChatDbError } from '../errors.js';
import { migrateDown, migrateUp, readMigrationStatus, type MigrateOptions } from '../migrate/index.js';
import { redactUrl } from './redact-url.js';

export const MIGRATE_ACTIONS = `  up            apply pending migrations (the default)
  down [n]      revert the newest n applied migrations (default 1) with migrations/down/;
                one that would drop data it cannot carry back refuses, saying what, unless
                --allow-data-loss is given
  status        list applied and pending migrations`;

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

/** What a migrate command takes from its environment: TCDB_MIGRATION_LOCK_TIMEOUT. */
export function migrateOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<MigrateOptions, 'lockTimeout'> {
  const lockTimeout = env.TCDB_MIGRATION_LOCK_TIMEOUT?.trim();
  return lockTimeout ? { lockTimeout } : {};
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
  options: Pick<MigrateOptions, 'lockTimeout' | 'lockWaitMs'> = {},
  print: (line: string) => void = console.log,
): Promise<void> {
  print(`database: ${target.description}`);
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 10_000 });
  // A connection that breaks mid-run emits 'error'; unheard, Node would crash instead of reporting it.
  client.on('error', () => undefined);
  try {
    await client.connect();
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
