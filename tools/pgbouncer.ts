/**
 * A throwaway PgBouncer in transaction pooling mode in front of a PostgreSQL
 * server, on loopback, for the tests (tools/run-tests.ts with
 * TCDB_TEST_PGBOUNCER=1) and by hand:
 *
 *   PGPASSWORD=postgres tsx tools/pgbouncer.ts --host 127.0.0.1 --port 5432 --user postgres [--pool-size 2]
 *
 * prints the port it listens on (stdout, alone on its line), runs until Ctrl-C
 * or SIGTERM, then stops PgBouncer and deletes its folder.
 *
 * Everything lives in a temporary folder: pgbouncer.ini, the auth_file with
 * the one login it knows (the given user and password, which PgBouncer also
 * uses to log in to the server), its log and pid file. PgBouncer refuses to
 * run as root, so when we are root the folder is given to the `postgres` OS
 * user and PgBouncer runs as that user (setpriv, no intermediate process, and
 * it gets SIGTERM should this process die). `[databases] * = ...` routes every
 * database name, so the per-file test databases need no configuration.
 *
 * Debian 12 ships PgBouncer 1.18: transaction mode there does not support
 * named prepared statements (those arrived in 1.21), which is part of what
 * running the suite through it proves.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, freePort } from './net.js';

export interface PgBouncerOptions {
  /** The PostgreSQL server PgBouncer forwards to. */
  host: string;
  port: number;
  /** The login PgBouncer accepts from clients and uses for its server connections. */
  user: string;
  password: string;
  /** Server connections per (database, user) pool (default 2). */
  poolSize?: number;
  /** Client connections PgBouncer accepts in all (default 200). */
  maxClientConn?: number;
  /** The port to listen on (default: a free one). */
  listenPort?: number;
  /** The pgbouncer executable (default: TCDB_PGBOUNCER_BIN, then pgbouncer on PATH or /usr/sbin/pgbouncer). */
  bin?: string;
}

export interface RunningPgBouncer {
  port: number;
  poolSize: number;
  /** Its folder: pgbouncer.ini, userlist.txt, pgbouncer.log. */
  dir: string;
  version: string;
  /** A connection string through PgBouncer to the given database, as the configured user. */
  url(database: string): string;
  /** The last lines of its log, for error messages. */
  log(): string;
  /** Shuts PgBouncer down and deletes its folder; safe to call twice. */
  stop(): Promise<void>;
}

const RUN_AS = 'postgres';

/** True when a pgbouncer executable can be found (for `npm test`'s automatic mode). */
export function pgbouncerInstalled(): boolean {
  try {
    findBinary();
    return true;
  } catch {
    return false;
  }
}

function findBinary(explicit?: string): string {
  const candidates = [explicit, process.env.TCDB_PGBOUNCER_BIN];
  for (const candidate of candidates) if (candidate) return candidate;
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (!dir) continue;
    const full = path.join(dir, 'pgbouncer');
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  throw new Error(
    'pgbouncer is not installed (looked on PATH and in /usr/sbin). On Debian: apt-get install -y pgbouncer; or set TCDB_PGBOUNCER_BIN.',
  );
}

/** uid and gid of an OS user, from `id` (no dependency on /etc/passwd's layout). */
function osUser(name: string): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(`PgBouncer refuses to run as root and there is no \`${name}\` OS user to run it as (install postgresql, or run as another user)`);
  }
}

/** A value for pgbouncer.ini / userlist.txt, double quotes doubled. */
function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function iniValue(value: string): string {
  if (/[\s;#"']/.test(value)) throw new Error(`unsupported character in ${JSON.stringify(value)} for pgbouncer.ini`);
  return value;
}

function config(dir: string, options: Required<Omit<PgBouncerOptions, 'bin' | 'password'>> & { listenPort: number }): string {
  return [
    '; written by tools/pgbouncer.ts: a throwaway PgBouncer for the tests',
    '[databases]',
    '; every database name is forwarded, so the per-file test databases need no entry',
    `* = host=${iniValue(options.host)} port=${options.port}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${options.listenPort}`,
    '; no unix socket: loopback TCP only',
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    `admin_users = ${iniValue(options.user)}`,
    `stats_users = ${iniValue(options.user)}`,
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    `max_client_conn = ${options.maxClientConn}`,
    '; the reset query only runs in session mode; the library must never need it',
    'server_reset_query_always = 0',
    '; node-postgres sends neither by default; harmless for clients that do',
    'ignore_startup_parameters = extra_float_digits,options',
    'query_wait_timeout = 60',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n');
}

function connectionString(user: string, password: string, port: number, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const DIR_PREFIX = 'tcdb-pgbouncer-';

/**
 * Deletes the folders of earlier PgBouncers whose process was killed with
 * their parent (they hold a password file): no pid file left and older than a
 * minute, so that one still starting up is never touched.
 */
function sweepStaleDirs(): void {
  const tmp = os.tmpdir();
  let entries: string[];
  try {
    entries = fs.readdirSync(tmp).filter((name) => name.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = path.join(tmp, name);
    try {
      if (fs.existsSync(path.join(dir, 'pgbouncer.pid'))) continue;
      if (Date.now() - fs.statSync(dir).mtimeMs < 60_000) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours to delete, or already gone
    }
  }
}

async function startOnce(options: PgBouncerOptions, listenPort: number): Promise<RunningPgBouncer> {
  const bin = findBinary(options.bin);
  sweepStaleDirs();
  const poolSize = options.poolSize ?? 2;
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? osUser(RUN_AS) : undefined;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  // Should this process exit without stop() (process.exit, an uncaught error), still delete the folder;
  // PgBouncer itself gets SIGTERM when we die (--pdeathsig).
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  const logfile = path.join(dir, 'pgbouncer.log');
  fs.writeFileSync(
    ini,
    config(dir, {
      host: options.host,
      port: options.port,
      user: options.user,
      poolSize,
      maxClientConn: options.maxClientConn ?? 200,
      listenPort,
    }),
    { mode: 0o600 },
  );
  // A plain-text password: PgBouncer needs it to log in to the server, and can still check clients with SCRAM.
  fs.writeFileSync(userlist, `${quoted(options.user)} ${quoted(options.password)}\n`, { mode: 0o600 });
  if (owner) {
    for (const file of [dir, ini, userlist]) fs.chownSync(file, owner.uid, owner.gid);
  }

  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'PgBouncer';
  const [command, args] = owner
    ? ['setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', '--pdeathsig=TERM', bin, ini]]
    : [bin, [ini]];
  const child = spawn(command, args as string[], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => {
    stderr += `\n${error.message}`;
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT: safe shutdown (waits for clients' transactions); SIGTERM: immediate.
      child.kill('SIGINT');
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 5000))) child.kill('SIGKILL');
      }
    }
    await exited;
    removeDir();
    process.removeListener('exit', removeDir);
  };

  const running: RunningPgBouncer = {
    port: listenPort,
    poolSize,
    dir,
    version,
    url: (database) => connectionString(options.user, options.password, listenPort, database),
    log: () => tail(logfile),
    stop,
  };

  const deadline = Date.now() + 15_000;
  const probe = running.url('postgres');
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = `${stderr.trim()}\n${tail(logfile)}`.trim();
      await stop();
      throw Object.assign(new Error(`pgbouncer exited during start-up (${child.exitCode ?? child.signalCode}):\n${log}`), {
        addressInUse: /Address already in use/i.test(log),
      });
    }
    if (await canConnect(probe)) return running;
    if (Date.now() > deadline) {
      const log = `${stderr.trim()}\n${tail(logfile)}`.trim();
      await stop();
      throw new Error(`pgbouncer did not accept connections on 127.0.0.1:${listenPort} within 15 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts PgBouncer on loopback and resolves once a login through it to the `postgres` database works. */
export async function startPgBouncer(options: PgBouncerOptions): Promise<RunningPgBouncer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.listenPort ?? (await freePort());
    try {
      return await startOnce(options, port);
    } catch (error) {
      // Another process took the free port between our check and PgBouncer's bind: try another one.
      if ((error as { addressInUse?: boolean }).addressInUse && options.listenPort === undefined && attempt < 5) continue;
      throw error;
    }
  }
}

/** Options from a connection string (user, password, host and port of the server). */
export function optionsFromUrl(url: string): Pick<PgBouncerOptions, 'host' | 'port' | 'user' | 'password'> {
  const parsed = new URL(url);
  return {
    host: parsed.hostname === 'localhost' || parsed.hostname === '' ? '127.0.0.1' : parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: decodeURIComponent(parsed.password),
  };
}

function parseArgs(argv: string[]): PgBouncerOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${arg}`);
    if (match[1] === 'help') {
      console.error(
        'usage: tsx tools/pgbouncer.ts --host H --port P --user U [--password W | PGPASSWORD=W] [--pool-size 2] [--max-client-conn 200] [--listen-port N]',
      );
      process.exit(0);
    }
    values.set(match[1]!, match[2] ?? argv[++i] ?? '');
  }
  const known = new Set(['host', 'port', 'user', 'password', 'pool-size', 'max-client-conn', 'listen-port']);
  for (const key of values.keys()) if (!known.has(key)) throw new Error(`unknown option --${key}`);
  const password = values.get('password') ?? process.env.PGPASSWORD;
  if (password === undefined) throw new Error('give the password with PGPASSWORD=... (or --password)');
  const number = (key: string) => (values.has(key) ? Number(values.get(key)) : undefined);
  const options: PgBouncerOptions = {
    host: values.get('host') ?? '127.0.0.1',
    port: number('port') ?? 5432,
    user: values.get('user') ?? 'postgres',
    password,
  };
  const poolSize = number('pool-size');
  const maxClientConn = number('max-client-conn');
  const listenPort = number('listen-port');
  if (poolSize !== undefined) options.poolSize = poolSize;
  if (maxClientConn !== undefined) options.maxClientConn = maxClientConn;
  if (listenPort !== undefined) options.listenPort = listenPort;
  return options;
}

async function cli(): Promise<void> {
  const bouncer = await startPgBouncer(parseArgs(process.argv.slice(2)));
  console.log(String(bouncer.port));
  console.error(
    `${bouncer.version} in transaction mode on 127.0.0.1:${bouncer.port}, pool size ${bouncer.poolSize}, config ${bouncer.dir}/pgbouncer.ini; Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await bouncer.stop();
  console.error('pgbouncer stopped');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`pgbouncer: ${(error as Error)?.message ?? error}`);
      process.exit(1);
    },
  );
}
