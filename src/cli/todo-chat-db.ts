#!/usr/bin/env node
/**
 * The command installed with the package: `npx todo-chat-db migrate ...`
 * applies, reverts and reports the migrations shipped in this package on the
 * database given by --database-url or DATABASE_URL. It needs Node.js alone.
 */
import { parseArgs } from 'node:util';
import {
  CommandLineError,
  MIGRATE_ACTIONS,
  MIGRATE_FLAGS,
  MIGRATE_PARSE_OPTIONS,
  exitWhenDone,
  migrateSettings,
  parseMigrateCommand,
  runMigrateCommand,
  targetFrom,
} from './migrate-command.js';

const USAGE = `usage: todo-chat-db migrate [up | down [n] [--allow-data-loss] | status] [--database-url <url>] [options]
${MIGRATE_ACTIONS}
  --database-url <url>       the database (default: DATABASE_URL); a direct connection, not a transaction-mode pooler
${MIGRATE_FLAGS}`;

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...MIGRATE_PARSE_OPTIONS,
        'database-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CommandLineError(`${(error as Error).message}\n${USAGE}`);
  }
  const [verb, ...rest] = parsed.positionals;
  if (parsed.values.help || verb === 'help') {
    console.log(USAGE);
    return;
  }
  if (verb !== 'migrate') throw new CommandLineError(`${verb === undefined ? 'no command given' : `unknown command ${JSON.stringify(verb)}`}\n${USAGE}`);
  const command = parseMigrateCommand(parsed.values['allow-data-loss'] ? [...rest, '--allow-data-loss'] : rest, USAGE);
  const fromFlag = parsed.values['database-url']?.trim();
  const fromEnv = process.env.DATABASE_URL?.trim();
  const url = fromFlag || fromEnv;
  if (!url) {
    throw new CommandLineError(
      'todo-chat-db migrate: no database given: set DATABASE_URL or pass --database-url <url> ' +
        '(a direct connection string, e.g. postgres://user:password@host:5432/dbname)',
    );
  }
  const settings = migrateSettings(parsed.values);
  await runMigrateCommand(command, targetFrom(url, fromFlag ? '--database-url' : 'DATABASE_URL'), settings);
}

exitWhenDone(main(process.argv.slice(2)), 'migrate failed');
