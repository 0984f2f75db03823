/**
 * npm run migrate [-- up | down [n] | status | create <name>]: the shipped
 * `todo-chat-db migrate` command for this repository, on DATABASE_URL or,
 * without it, the local development database on the embedded PostgreSQL
 * (tools/target.ts); plus `create`, which scaffolds the next numbered up/down
 * pair and is a development command only.
 */
import path from 'node:path';
import { MIGRATE_ACTIONS, exitWhenDone, migrateOptionsFromEnv, parseMigrateCommand, runMigrateCommand } from '../src/cli/migrate-command.js';
import { createMigration } from './create-migration.js';
import { resolveTarget } from './target.js';

const USAGE = `usage: npm run migrate -- [up | down [n] [--allow-data-loss] | status | create <name>]
${MIGRATE_ACTIONS}
  create <name> write the next numbered up/down pair`;

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
  const command = parseMigrateCommand(argv, USAGE);
  const target = await resolveTarget();
  try {
    await runMigrateCommand(command, target, migrateOptionsFromEnv());
  } finally {
    await target.release();
  }
}

exitWhenDone(main(process.argv.slice(2)), 'migrate failed');
