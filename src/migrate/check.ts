/**
 * The check before up and down: every applied migration still has its file,
 * unchanged. postgres-migrations checks hashes too, but only of files it is
 * given, and never notices a deleted one; doing both here also names the file
 * in our own words.
 */
import { MigrationError } from '../errors.js';
import type { AppliedMigration } from './bookkeeping.js';
import type { MigrationFile } from './files.js';

export function assertAppliedMatchFiles(applied: AppliedMigration[], files: MigrationFile[], dir: string): void {
  for (const row of applied) {
    const file = files.find((f) => f.id === row.id);
    if (!file) {
      throw new MigrationError(`migration ${row.id} (${row.name}) is applied in the database but its file is missing from ${dir}`);
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
