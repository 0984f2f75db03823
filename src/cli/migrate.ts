#!/usr/bin/env node
/**
 * npm run migrate [-- up | down [n] | status | create <name>]
 *
 * Prints the database it targets first (password hidden), then what it did.
 * Every failure exits with status 1 and a message naming the migration file.
 */
import path from 'node:path';
import pg from 'pg';
import { migrationOptionsFromEnv, resolveTarget } from '../db/target.js';
import { createMigration, migrateDown, migrateUp, migrationStatus } from '../migrate/index.js';
import { TodoChatDbError } from '../errors.js';

const USAGE = `usage: npm run migrate -- [up | down [n] | status | create <name>]
  up            apply pending migrations (the default)
  down [n]      revert the newest n applied migrations (default 1) with migrations/down/
  status        list applied and pending migrations
  create <name> write the next numbered up/down pair`;

async function main(argv: string[]): Promise<void> {
  const [command = 'up', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  if (command === 'create') {
    const created = createMigration(rest.join(' '));
    console.log(`created ${path.relative(process.cwd(), created.up)}`);
    console.log(`created ${path.relative(process.cwd(), created.down)}`);
    return;
  }
  if (!['up', 'down', 'status'].includes(command)) {
    throw new UsageError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
  let count = 1;
  if (command === 'down' && rest[0] !== undefined) {
    count = Number(rest[0]);
    if (!Number.isInteger(count) || count < 1) throw new UsageError(`down needs a positive whole number, got ${JSON.stringify(rest[0])}`);
  }

  const options = migrationOptionsFromEnv();
  const target = await resolveTarget();
  console.log(`database: ${target.description}`);
  const client = new pg.Client({ connectionString: target.url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    if (command === 'up') {
      const applied = await migrateUp(client, { ...options, log: (line) => console.log(line) });
      console.log(applied.length === 0 ? 'nothing to apply: the database is up to date' : `applied ${applied.length} migration(s)`);
    } else if (command === 'down') {
      const reverted = await migrateDown(client, count, { ...options, log: (line) => console.log(line) });
      console.log(reverted.length === 0 ? 'nothing to revert: no migration is applied' : `reverted ${reverted.length} migration(s)`);
    } else {
      const report = await migrationStatus(client);
      for (const row of report.applied) {
        const note = row.fileName === undefined ? '  (FILE MISSING)' : row.changed ? '  (FILE CHANGED since applied)' : '';
        console.log(`applied  ${row.fileName ?? `${row.id}_${row.name}`}  ${row.executedAt.toISOString()}${note}`);
      }
      for (const file of report.pending) console.log(`pending  ${file.fileName}`);
      console.log(`${report.applied.length} applied, ${report.pending.length} pending`);
    }
  } finally {
    await client.end().catch(() => undefined);
    await target.release();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
    } else if (error instanceof TodoChatDbError) {
      console.error(`migrate failed: ${error.message}`);
    } else {
      console.error(`migrate failed: ${(error as Error)?.message ?? String(error)}`);
    }
    process.exit(1);
  },
);
