/**
 * Per-file test databases, cloned from the migrated template that
 * tools/run-tests.ts prepared, and dropped when the file ends.
 */
import crypto from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { createStore, type Store, type StoreOptions } from '../../src/index.js';

export interface TestDatabase {
  name: string;
  /** Connection string as the server's superuser. */
  url: string;
  /** A superuser pool on this database: bypasses row-level security, for set-up and snapshots. */
  admin: pg.Pool;
  /** Another superuser pool on this database, of at most `max` connections, for a test's own raw clients (see rawPool). */
  pool(max?: number): pg.Pool;
  /** A store on this database (superuser login, as the default test setting). */
  store(options?: Omit<StoreOptions, 'connectionString' | 'pool'>): Store;
  /** Creates users rows directly (as superuser) and returns their ids. */
  createUsers(count: number): Promise<string[]>;
  /** Creates one users row directly (as superuser) and returns its id. */
  createUser(): Promise<string>;
}

/*
 * Cleanups run once, after every test of the file, newest first. One root-level
 * `after` hook registered when this module loads: an `after` called inside a
 * `before` hook would run as soon as that hook ends.
 */
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    await cleanup();
  }
});

/** Registers work to do after every test of this file (newest first). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(async () => {
    await fn();
  });
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (tools/run-tests.ts)`);
  return value;
}

export function adminServerUrl(): string {
  return env('TCDB_TEST_ADMIN_URL');
}

export function urlFor(database: string, user?: { name: string; password: string }): string {
  const url = new URL(adminServerUrl());
  url.pathname = `/${database}`;
  if (user) {
    url.username = user.name;
    url.password = user.password;
  }
  return url.toString();
}

/** Runs one statement on the server's admin database (TCDB_TEST_ADMIN_URL): creating and dropping databases and roles. */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminServerUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A pg.Pool on `url` of at most `max` connections, for a test's own raw
 * clients, with what every pool of the tests needs: an 'error' listener (the
 * server terminating an idle connection, e.g. a database dropped with (force)
 * at teardown, is otherwise an uncaughtException that fails the file), and
 * end() after every test of the file, unless the test ended it itself.
 */
export function rawPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  onCleanup(async () => {
    if (!pool.ending) await pool.end();
  });
  return pool;
}

async function createDatabase(template: string | null): Promise<string> {
  const name = `tcdb_t_${crypto.randomBytes(6).toString('hex')}`;
  const from = template ? ` template ${pg.escapeIdentifier(template)}` : '';
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database ${name}${from}`);
      break;
    } catch (error) {
      // 55006: the template is briefly in use by a concurrent clone.
      if ((error as { code?: string }).code === '55006' && attempt < 50) {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        continue;
      }
      throw error;
    }
  }
  return name;
}

function wrap(name: string): TestDatabase {
  const url = urlFor(name);
  const admin = new pg.Pool({ connectionString: url, max: 4 });
  admin.on('error', () => undefined);
  const stores: Store[] = [];
  onCleanup(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await admin.end();
    await adminQuery(`drop database if exists ${name} with (force)`);
  });
  return {
    name,
    url,
    admin,
    pool(max = 4) {
      return rawPool(url, max);
    },
    store(options = {}) {
      const store = createStore({ connectionString: url, ...options });
      stores.push(store);
      return store;
    },
    async createUser() {
      const id = crypto.randomUUID();
      await admin.query('insert into todo_chat.users (id) values ($1)', [id]);
      return id;
    },
    async createUsers(count) {
      const ids = Array.from({ length: count }, () => crypto.randomUUID());
      await admin.query('insert into todo_chat.users (id) select unnest($1::uuid[])', [ids]);
      return ids;
    },
  };
}

/** A fresh, fully migrated database for this test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return wrap(await createDatabase(env('TCDB_TEST_TEMPLATE')));
}

/** A fresh database with no migrations applied. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  return wrap(await createDatabase(null));
}
