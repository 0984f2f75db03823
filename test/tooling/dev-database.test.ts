/**
 * The local development database: started on demand when DATABASE_URL is not
 * set, keeping its data between runs, and failing fast and clearly when its
 * port is taken.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { freePort } from '../../tools/embedded-postgres.js';
import { packageRoot } from '../../src/paths.js';

const run = promisify(execFile);

/** A temporary folder the `postgres` OS user can enter (mkdtemp makes it 0700; as root, the server runs as postgres). */
function tempDataDir(): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-dev-'));
  fs.chmodSync(parent, 0o755);
  return path.join(parent, 'pgdata');
}

async function migrateCli(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(packageRoot, 'tools/migrate.ts'), ...args], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: '', NODE_ENV: 'development', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('without DATABASE_URL the development database starts, and a second start reuses its data', async () => {
  const dataDir = tempDataDir();
  const env = { TCDB_DEV_PORT: String(await freePort()), TCDB_DEV_DATA_DIR: dataDir };
  try {
    const first = await migrateCli([], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /database: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/todo_chat_db \(local development database/);
    assert.match(first.stdout, /applied 0001_/);
    assert.ok(fs.existsSync(path.join(dataDir, 'PG_VERSION')), 'data directory initialised');

    const second = await migrateCli([], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /nothing to apply/, 'the migrations applied by the first run are still there');
  } finally {
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
});

test('a port already in use gives a clear message, not a hang', async () => {
  const squatter = net.createServer((socket) => socket.end());
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as net.AddressInfo).port;
  const dataDir = tempDataDir();
  try {
    const result = await migrateCli(['status'], { TCDB_DEV_PORT: String(port), TCDB_DEV_DATA_DIR: dataDir });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`port ${port} is already in use by another program`));
    assert.match(result.stderr, /TCDB_DEV_PORT/);
  } finally {
    squatter.close();
    fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
});
