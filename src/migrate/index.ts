/** The migration runner: list, apply, revert, report; and the API for deploy scripts. */
export { listMigrationFiles, scanMigrationFiles, type MigrationFile } from './files.js';
export { migrateUp, type MigrateOptions, type MigrationLog, type MigrationResult } from './up.js';
export { migrateDown, type MigrateDownOptions } from './down.js';
export { readMigrationStatus, pendingMigrations, type MigrationStatus } from './status.js';
export { connectForMigrations, migrate, migrationStatus, type MigrateApiOptions, type MigrationTarget } from './connect.js';
export type { AppliedMigration } from './bookkeeping.js';
