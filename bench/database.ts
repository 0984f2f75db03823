/**
 * The benchmark's database: TCDB_BENCH_DATABASE_URL (or BENCH_DATABASE_URL, a
 * superuser connection string: the fill writes every user's rows and the
 * workloads run as the app role) when set, otherwise a persistent embedded
 * PostgreSQL of its own (data in .data/bench-postgres, port 54339), so that a
 * fill is made once and reused. Migrated up before use.
 */
import path from 'node:path';
import pg from 'pg';
import { migrateUp } from '../src/migrate/index.js';
import { packageRoot } from '../src/paths.js';
import { redactUrl } from '../src/cli/redact-url.js';
import { ensureDatabase, startPersistentServer } from '../tools/embedded-postgres.js';

export interface BenchDatabase {
  url: string;
  description: string;
  serverVersion: string;
  release(): Promise<void>;
}

const BENCH_DATABASE = 'todo_chat_bench';

/**
 * Server settings of the embedded server: durable commits as in production
 * (fsync and synchronous_commit stay on, so a write's commit waits for its
 * WAL flush); shared buffers that hold the whole fill, so that every client
 * reads the same cached pages; room for the --users run's pool.
 */
const SERVER_FLAGS = ['-c', 'shared_buffers=1GB', '-c', 'max_connections=200', '-c', 'max_prepared_transactions=0', '-c', 'jit=off'];

export async function openBenchDatabase(log: (line: string) => void): Promise<BenchDatabase> {
  const fromEnv = (process.env.TCDB_BENCH_DATABASE_URL ?? process.env.BENCH_DATABASE_URL)?.trim();
  let url: string;
  let description: string;
  let release = async () => undefined as void;
  if (fromEnv) {
    url = fromEnv;
    description = `${redactUrl(url)} (TCDB_BENCH_DATABASE_URL)`;
  } else {
    const port = Number(process.env.TCDB_BENCH_PORT ?? 54339);
    const dataDir = process.env.TCDB_BENCH_DATA_DIR ?? path.join(packageRoot, '.data', 'bench-postgres');
    log(`starting the embedded PostgreSQL of the benchmark (data in ${dataDir}, port ${port})...`);
    const server = await startPersistentServer({ dataDir, port, flags: SERVER_FLAGS });
    url = await ensureDatabase(server.url, BENCH_DATABASE);
    description = `${redactUrl(url)} (embedded PostgreSQL, ${server.startedHere ? 'started for this run' : 'already running'}, data in ${dataDir})`;
    release = () => server.stop();
  }
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  let serverVersion: string;
  try {
    serverVersion = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
    const applied = await migrateUp(client, { log: () => undefined });
    if (applied.length > 0) log(`migrations: applied ${applied.length}`);
  } finally {
    await client.end();
  }
  return { url, description, serverVersion, release };
}
