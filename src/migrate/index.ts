/** The migration runner: list, create, apply, revert, report. */
export { listMigrationFiles, scanMigrationFiles, type MigrationFile } from './files.js';
export { createMigration } from './create.js';
export { migrateUp, type MigrateOptions, type MigrationLog, type MigrationResult } from './up.js';
export { migrateDown } from './down.js';
export { migrationStatus, pendingMigrations, type MigrationStatus } from './status.js';
export type { AppliedMigration } from './bookkeeping.js';
