/**
 * Which database a command works on: DATABASE_URL when set, otherwise the
 * local development database on the embedded PostgreSQL (refused when
 * NODE_ENV=production, where a missing DATABASE_URL is a mistake).
 */
import { connectForMigrations, migrateUp } from '../src/migrate/index.js';
import { connectTimeoutFromEnv, migrateOptionsFromEnv, targetFrom } from '../src/cli/migrate-command.js';
import { redactUrl } from '../src/cli/redact-url.js';
import { DEV_DATABASE, ensureDatabase, startDevServer } from './embedded-postgres.js';

export interface DatabaseTarget {
  url: string;
  /** How the target was chosen, for the first line every command prints. */
  description: string;
  release(): Promise<void>;
}

export async function resolveTarget(env: NodeJS.ProcessEnv = process.env): Promise<DatabaseTarget> {
  const fromEnv = env.DATABASE_URL?.trim();
  if (fromEnv) {
    return { ...targetFrom(fromEnv, 'DATABASE_URL'), release: async () => undefined };
  }
  if (env.NODE_ENV === 'production') {
    throw new Error('DATABASE_URL is not set and NODE_ENV=production: refusing to fall back to the local development database');
  }
  const server = await startDevServer();
  try {
    const url = await ensureDatabase(server.url, DEV_DATABASE);
    const how = server.startedHere ? 'started for this command' : 'already running';
    return {
      url,
      description: `${redactUrl(url)} (local development database, embedded PostgreSQL ${how}, data in ${server.dataDir}; set DATABASE_URL to use another server)`,
      release: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * The prologue of the commands that use the database (demo, seed): resolve
 * the target and print it, apply pending migrations, run fn with the
 * connection string, and release the target (stopping a server started for
 * the command) however fn ends.
 */
export async function withMigratedTarget<T>(fn: (url: string) => Promise<T>, log: (line: string) => void = console.log): Promise<T> {
  const target = await resolveTarget();
  log(`database: ${target.description}`);
  try {
    // Bounded like `migrate`: a server that never answers fails after the connect timeout.
    const client = await connectForMigrations(target.url, connectTimeoutFromEnv());
    try {
      const applied = await migrateUp(client, { log, ...migrateOptionsFromEnv() });
      log(applied.length === 0 ? 'migrations: up to date' : `migrations: applied ${applied.length}`);
    } finally {
      await client.end();
    }
    return await fn(target.url);
  } finally {
    await target.release();
  }
}
