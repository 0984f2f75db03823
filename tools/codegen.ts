/**
 * npm run codegen: compiles sql/*.sql into src/queries/*.queries.ts with
 * pgtyped. pgtyped needs a database with the schema, so this migrates one:
 * TCDB_CODEGEN_DATABASE_URL when set, otherwise a throwaway embedded PostgreSQL.
 * pgtyped exits 0 even when a query fails to compile, so its output is read
 * and any "Error in query" fails the run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { startThrowawayServer, ensureDatabase, type RunningServer } from './embedded-postgres.js';
import { migrateUp } from '../src/migrate/index.js';
import { packageRoot } from '../src/paths.js';
import { runMain } from './run-main.js';

async function runPgtyped(url: string): Promise<void> {
  const bin = path.join(packageRoot, 'node_modules', '.bin', 'pgtyped');
  const child = spawn(bin, ['-c', 'pgtyped.config.json'], {
    cwd: packageRoot,
    env: { ...process.env, DATABASE_URL: url, PGURI: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  process.stdout.write(output);
  if (code !== 0) throw new Error(`pgtyped exited with ${code}`);
  if (/Error in query|Parse error|Errors:/.test(output)) throw new Error('pgtyped reported an error in a query (see above)');
}

async function main(): Promise<void> {
  let server: RunningServer | undefined;
  let url = process.env.TCDB_CODEGEN_DATABASE_URL;
  try {
    if (!url) {
      server = await startThrowawayServer();
      url = await ensureDatabase(server.url, 'codegen');
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migrateUp(client);
    } finally {
      await client.end();
    }
    await runPgtyped(url);
  } finally {
    await server?.stop();
  }
}

runMain('codegen', main);
