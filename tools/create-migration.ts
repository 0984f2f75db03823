/**
 * `npm run migrate -- create <name>`: the next numbered up/down pair, each
 * with the header the migration tests require, so that a new migration starts
 * out satisfying our rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MigrationError } from '../src/errors.js';
import { migrationsDir } from '../src/paths.js';
import { scanMigrationFiles } from '../src/migrate/files.js';

/** Writes the next numbered up/down pair and returns their paths. */
export function createMigration(rawName: string, dir = migrationsDir): { up: string; down: string } {
  const name = rawName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name) throw new MigrationError('create needs a name, e.g. `npm run migrate -- create add_task_due_date`');
  const files = fs.existsSync(dir) ? scanMigrationFiles(dir) : [];
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
