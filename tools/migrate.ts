/**
 * npm run migrate [-- up | down [n] | status | create <name>] [options]: the
 * shipped `todo-chat-db migrate` command for this repository, on DATABASE_URL
 * or, without it, the local development database on the embedded PostgreSQL
 * (tools/target.ts); plus `create`, which scaffolds the next numbered up/down
 * pair and is a development command only.
 */
import path from 'node:path';
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
} from '../src/cli/migrate-command.js';
import { createMigration } from './create-migration.js';
import { resolveTarget } from './target.js';

const USAGE = `usage: npm run migrate -- [up | down [n] [--allow-data-loss] | status | create <name>] [options]
${MIGRATE_ACTIONS}
  create <name> write the next numbered up/down pair
${MIGRATE_FLAGS}`;

async function main(argv: string[]): Promise<void> {
  const [action] = argv;
  if (action === 'help' || action === '--help' || action === '-h') {
    console.log(USAGE);
    return;
  }
  if (action === 'create') {
    const created = createMigration(argv.slice(1).join(' '));
    console.log(`created ${path.relative(process.cwd(), created.up)}`);
    console.log(`created ${path.relative(process.cwd(), created.down)}`);
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: MIGRATE_PARSE_OPTIONS });
  } catch (error) {
    throw new CommandLineError(`${(error as Error).message}\n${USAGE}`);
  }
  const command = parseMigrateCommand(parsed.values['allow-data-loss'] ? [...parsed.positionals, '--allow-data-loss'] : parsed.positionals, USAGE);
  const settings = migrateSettings(parsed.values);
  const target = await resolveTarget();
  try {
    await runMigrateCommand(command, target, settings);
  } finally {
    await target.release();
  }
}

exitWhenDone(main(process.argv.slice(2)), 'migrate failed');
