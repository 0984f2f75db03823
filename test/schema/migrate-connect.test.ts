/**
 * "A black-hole server (a local socket that accepts and never answers):
 * `migrate` returns within its bound with the right error."
 *
 * The black hole is a TCP server on a loopback port that accepts every
 * connection and never writes a byte. migrate() and migrationStatus() (the
 * exported API), `npm run migrate` and the shipped `todo-chat-db migrate`
 * (flag and environment variable) each fail within their connect timeout plus
 * slack, with a DatabaseUnavailableError / exit status 1 saying the server
 * did not answer. For the commands the time is measured from the line they
 * print before connecting, so that the start-up of a child process on a busy
 * machine does not count.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { urlFor } from '../helpers/db.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { ConfigurationError, DatabaseUnavailableError } from '../../src/errors.js';
import { migrate, migrationStatus } from '../../src/index.js';
import { packageRoot } from '../../src/paths.js';
import { CommandLineError, migrateSettings } from '../../src/cli/migrate-command.js';

const TIMEOUT_MS = 1000;
/** Slack for a shared, busy machine: far below the 10 s default, which a timeout ignored would take. */
const SLACK_MS = 2000;

/** A server that accepts connections and never answers; counts them. */
async function blackHole(): Promise<{ url: string; accepted: () => number }> {
  const hole = await startTcpProxy(null);
  return { url: hole.urlThrough('postgres://someone:secret@127.0.0.1:1/nowhere'), accepted: () => hole.accepted };
}

/** Runs a command to its end; `waitedMs` is the time from its `database:` line (printed just before it connects) to its exit. */
function runCommand(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; waitedMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: packageRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let connectingAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (connectingAt === undefined && /^database: /m.test(stdout)) connectingAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, waitedMs: performance.now() - (connectingAt ?? Number.NaN) }));
  });
}

describe('migrate against a server that accepts connections and never answers', () => {
  test('migrate() and migrationStatus() reject within their connect timeout with a DatabaseUnavailableError', async () => {
    const hole = await blackHole();
    for (const call of [() => migrate({ connectionString: hole.url, connectionTimeoutMillis: TIMEOUT_MS }), () => migrationStatus({ connectionString: hole.url, connectionTimeoutMillis: TIMEOUT_MS })]) {
      const started = performance.now();
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof DatabaseUnavailableError, String(error));
        assert.equal(error.code, 'DATABASE_UNAVAILABLE');
        assert.match(error.message, /^could not connect to the database within the connect timeout of 1000 ms: the server did not answer/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      });
      const took = performance.now() - started;
      assert.ok(took >= TIMEOUT_MS - 50 && took < TIMEOUT_MS + SLACK_MS, `returned after ${took.toFixed(0)} ms`);
    }
    assert.equal(hole.accepted(), 2, 'each call reached the server, which never answered');
  });

  test('`npm run migrate -- --connect-timeout 1s` exits 1 within its bound, saying the server did not answer', async () => {
    const hole = await blackHole();
    const result = await runCommand([path.join(packageRoot, 'tools/migrate.ts'), 'status', '--connect-timeout', '1s'], { DATABASE_URL: hole.url });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /^migrate failed: could not connect to the database within the connect timeout of 1000 ms: the server did not answer/m);
    assert.doesNotMatch(result.stdout + result.stderr, /secret/);
    assert.ok(result.waitedMs < TIMEOUT_MS + SLACK_MS, `exited ${result.waitedMs.toFixed(0)} ms after connecting began`);
    assert.equal(hole.accepted(), 1);
  });

  test('`todo-chat-db migrate` with TCDB_MIGRATION_CONNECT_TIMEOUT exits 1 within its bound, saying the server did not answer', async () => {
    const hole = await blackHole();
    const result = await runCommand([path.join(packageRoot, 'src/cli/todo-chat-db.ts'), 'migrate'], {
      DATABASE_URL: hole.url,
      TCDB_MIGRATION_CONNECT_TIMEOUT: '1000ms',
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /^migrate failed: could not connect to the database within the connect timeout of 1000 ms/m);
    assert.ok(result.waitedMs < TIMEOUT_MS + SLACK_MS, `exited ${result.waitedMs.toFixed(0)} ms after connecting began`);
    assert.equal(hole.accepted(), 1);
  });

  test('a database that does not exist is a ConfigurationError that no retry can fix, not an unavailable server', async () => {
    await assert.rejects(migrationStatus({ connectionString: urlFor('tcdb_no_such_database'), connectionTimeoutMillis: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof ConfigurationError, String(error));
      assert.ok(!(error instanceof DatabaseUnavailableError));
      assert.equal(error.retryable, false);
      assert.equal(error.sqlState, '3D000');
      assert.match(error.message, /^could not connect to the database: database "tcdb_no_such_database" does not exist/);
      return true;
    });
  });

  test('the settings of a run: flags over environment variables over defaults; bad values are refused before connecting', () => {
    assert.deepEqual(migrateSettings({}, {}), {});
    assert.deepEqual(
      migrateSettings({}, { TCDB_MIGRATION_CONNECT_TIMEOUT: '2s', TCDB_MIGRATION_LOCK_TIMEOUT: '500ms', TCDB_MIGRATION_LOCK_RETRIES: '3' }),
      { connectTimeoutMs: 2000, lockTimeout: '500ms', lockRetries: 3 },
    );
    assert.deepEqual(
      migrateSettings({ 'connect-timeout': '1.5s', 'lock-timeout': '2s', 'lock-retries': '0' }, { TCDB_MIGRATION_CONNECT_TIMEOUT: '2s', TCDB_MIGRATION_LOCK_RETRIES: '3' }),
      { connectTimeoutMs: 1500, lockTimeout: '2s', lockRetries: 0 },
    );
    assert.deepEqual(migrateSettings({ 'connect-timeout': '250' }, {}), { connectTimeoutMs: 250 }, 'a bare number is milliseconds');
    assert.throws(() => migrateSettings({ 'connect-timeout': '0s' }, {}), CommandLineError);
    assert.throws(() => migrateSettings({ 'connect-timeout': 'soon' }, {}), /--connect-timeout must be a positive duration such as 10s or 500ms, got "soon"/);
    assert.throws(() => migrateSettings({}, { TCDB_MIGRATION_CONNECT_TIMEOUT: '-1s' }), /TCDB_MIGRATION_CONNECT_TIMEOUT must be a positive duration/);
    assert.throws(() => migrateSettings({ 'lock-retries': 'many' }, {}), /--lock-retries must be a whole number of retries/);
  });
});
