/**
 * The PgBouncer (transaction pooling mode) that tools/run-tests.ts starts in
 * front of the test server when pgbouncer is installed (or TCDB_TEST_PGBOUNCER=1
 * demands it), for tests that must prove
 * the library works behind a transaction-mode pooler.
 *
 * Without it, pgbouncerSkipReason() says why such tests skip; under CI
 * (CI=true) a missing PgBouncer is an error instead, so that CI can never pass
 * by silently skipping them.
 */
import pg from 'pg';

const ENV_URL = 'TCDB_TEST_PGBOUNCER_URL';

/** Undefined when PgBouncer is running for this test run; otherwise why the tests that need it skip. */
export function pgbouncerSkipReason(): string | undefined {
  if (process.env[ENV_URL]) return undefined;
  const reason = 'PgBouncer not started: npm test starts it when pgbouncer is installed (Debian: apt-get install -y pgbouncer; .ci/run does)';
  if (/^(1|true)$/i.test(process.env.CI ?? '')) {
    throw new Error(`${reason}. Under CI the PgBouncer tests must run, not skip (.ci/run sets TCDB_TEST_PGBOUNCER=1).`);
  }
  return reason;
}

function baseUrl(): URL {
  const value = process.env[ENV_URL];
  if (!value) throw new Error(`${ENV_URL} is not set: run the tests with TCDB_TEST_PGBOUNCER=1 npm test`);
  return new URL(value);
}

/** A connection string through PgBouncer to the given database (the test server's superuser login). */
export function pgbouncerUrl(database: string): string {
  const url = baseUrl();
  url.pathname = `/${database}`;
  return url.toString();
}

/** The login role that connections through PgBouncer use. */
export function pgbouncerLoginRole(): string {
  return decodeURIComponent(baseUrl().username);
}

/** Server connections PgBouncer keeps per (database, user) pool. */
export function pgbouncerPoolSize(): number {
  return Number(process.env.TCDB_TEST_PGBOUNCER_POOL_SIZE ?? 2);
}

/**
 * Runs one command on PgBouncer's admin console (SHOW POOLS, SHOW SERVERS,
 * RECONNECT <db>, ...) and returns its rows. The console speaks only the simple
 * query protocol, which node-postgres uses for a query without parameters.
 */
export async function pgbouncerAdmin<T extends pg.QueryResultRow = Record<string, unknown>>(command: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: pgbouncerUrl('pgbouncer') });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(command)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
