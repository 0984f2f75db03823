/**
 * npm test [-- <test files or folders>]: runs the suite against a real PostgreSQL
 * (test/README.md describes the layout and every variable).
 *
 * Without TCDB_TEST_DATABASE_URL it starts a throwaway embedded PostgreSQL; with it,
 * it uses that server (its user must be able to create databases and roles).
 * Either way it migrates one template database, and every test file clones a
 * fresh database from it (test/helpers/db.ts), so files run in parallel
 * without sharing state. Node's own test runner runs the files (every
 * .test.ts file under test/, or those given) and prints the summary.
 *
 * When pgbouncer is installed (.ci/run installs Debian's), it also starts a
 * PgBouncer in transaction mode in front of that server (tools/pgbouncer.ts;
 * pool size TCDB_TEST_PGBOUNCER_POOL_SIZE, default 2) and gives the test files its
 * address as TCDB_TEST_PGBOUNCER_URL (test/helpers/pgbouncer.ts).
 * TCDB_TEST_PGBOUNCER=1 requires it (failing when pgbouncer is missing),
 * TCDB_TEST_PGBOUNCER=0 turns it off.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startThrowawayServer, type RunningServer } from './embedded-postgres.js';
import { migrateUp } from '../src/migrate/index.js';
import { packageRoot } from '../src/paths.js';
import { optionsFromUrl, pgbouncerInstalled, startPgBouncer, type RunningPgBouncer } from './pgbouncer.js';

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(full));
    else if (entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found.sort();
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  // A folder given on the command line stands for every test file under it (node --test alone would run none of them).
  const files =
    args.length > 0
      ? args.flatMap((arg) => {
          const full = path.resolve(arg);
          return fs.statSync(full, { throwIfNoEntry: false })?.isDirectory() ? findTests(full) : [full];
        })
      : findTests(path.join(packageRoot, 'test'));
  if (files.length === 0) throw new Error('no test files found');

  let server: RunningServer | undefined;
  let bouncer: RunningPgBouncer | undefined;
  let adminUrl = process.env.TCDB_TEST_DATABASE_URL?.trim();
  if (!adminUrl) {
    server = await startThrowawayServer();
    adminUrl = server.url;
  }
  const template = `tcdb_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const version = await admin.query<{ server_version: string }>('show server_version');
    console.log(`# PostgreSQL ${version.rows[0]?.server_version} (${server ? 'embedded, throwaway' : 'TCDB_TEST_DATABASE_URL'})`);
    await admin.query(`drop database if exists ${template}`);
    await admin.query(`create database ${template}`);
    const templateClient = new pg.Client({ connectionString: withDatabase(adminUrl, template) });
    await templateClient.connect();
    try {
      await migrateUp(templateClient);
    } finally {
      await templateClient.end();
    }

    const pgbouncerEnv: Record<string, string> = {};
    const wanted = (process.env.TCDB_TEST_PGBOUNCER ?? 'auto').toLowerCase();
    const usePgBouncer = /^(1|true|yes)$/.test(wanted) || (wanted === 'auto' && pgbouncerInstalled());
    if (usePgBouncer) {
      const poolSize = Number(process.env.TCDB_TEST_PGBOUNCER_POOL_SIZE ?? 2);
      bouncer = await startPgBouncer({ ...optionsFromUrl(adminUrl), poolSize });
      console.log(`# ${bouncer.version} in transaction mode on 127.0.0.1:${bouncer.port}, ${poolSize} server connection(s) per pool`);
      pgbouncerEnv.TCDB_TEST_PGBOUNCER_URL = bouncer.url('postgres');
      pgbouncerEnv.TCDB_TEST_PGBOUNCER_POOL_SIZE = String(poolSize);
    }

    const concurrency = process.env.TCDB_TEST_CONCURRENCY ?? '2';
    const child = spawn(
      process.execPath,
      // A hung test fails after 6 minutes instead of eating CI's time (node 20 counts a whole file as one test: the packed-package
      // files install and compile a consumer project, which takes minutes on a loaded 2-core machine).
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=360000', ...files],
      {
        cwd: packageRoot,
        stdio: 'inherit',
        env: { ...process.env, TCDB_TEST_ADMIN_URL: adminUrl, TCDB_TEST_TEMPLATE: template, ...pgbouncerEnv },
      },
    );
    const code = await new Promise<number>((resolve) => child.on('close', (status) => resolve(status ?? 1)));
    return code;
  } finally {
    await bouncer?.stop();
    await admin.query(`drop database if exists ${template} with (force)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test run failed: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  },
);
