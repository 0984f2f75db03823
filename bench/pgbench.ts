/**
 * pgbench with the library's statements and transaction shape: per target
 * (and operation) one script,
 *
 *   \startpipeline
 *   begin;
 *   select set_config('todo_chat.user_id', :u, true), set_config('role', 'todo_chat_app', true), <the three timeouts>;
 *   \endpipeline
 *   <the recorded statements, their $n parameters as pgbench variables>;
 *   commit;
 *
 * (the timeouts as the library's prologue sets them, bench/prologue.ts)
 * which is the library's three round trips (its prologue is one simple-query
 * message holding both statements). Run with -M prepared: each statement is
 * parsed once per connection, as the library's named statements are. pgbench
 * binds no NULL, so a null parameter is written into the statement as `null`
 * (and an empty string as '', which -D cannot define).
 * Latencies come from its per-transaction log (-l), the warm-up cut off;
 * its CPU from the shell's `times` after it exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Recorded } from './workloads.js';
import type { Sample, ServerCpu } from './measure.js';
import { TIMEOUTS } from './prologue.js';

/** pgbench of Debian's postgresql-15 (which ships it; .ci/run installs the package), or any pgbench on PATH. */
export function findPgbench(): string | undefined {
  const candidates = [process.env.TCDB_PGBENCH_BIN, '/usr/lib/postgresql/15/bin/pgbench', 'pgbench'].filter(Boolean) as string[];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Installs Debian's postgresql-15 (root, or sudo) when no pgbench is found; the same package .ci/run installs. */
export function ensurePgbench(log: (line: string) => void): string | undefined {
  const found = findPgbench();
  if (found) return found;
  if (process.env.TCDB_BENCH_INSTALL === '0') return undefined;
  log("pgbench not found: installing Debian's postgresql-15, which ships it (TCDB_BENCH_INSTALL=0: don't)...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) =>
    process.getuid?.() === 0 ? spawnSync('apt-get', args, { stdio: 'inherit', env }) : spawnSync('sudo', ['-n', 'apt-get', ...args], { stdio: 'inherit', env });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', 'postgresql-15']);
  return findPgbench();
}

export interface PgbenchScripts {
  dir: string;
  files: string[];
  defines: string[];
}

function literal(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One script per (target, operation); variables of script s are v<s>_<n>. */
export function writeScripts(name: string, statements: { userId: string; statements: Recorded[] }[]): PgbenchScripts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tcdb-bench-${name}-`));
  const files: string[] = [];
  const defines: string[] = [];
  statements.forEach((script, s) => {
    defines.push('-D', `v${s}_u=${script.userId}`);
    const body = script.statements.map((statement, k) => {
      const text = statement.text.trim().replace(/\$(\d+)/g, (_, n: string) => {
        const value = statement.values[Number(n) - 1];
        if (value === null || value === undefined) return 'null';
        if (value === '') return "''"; // pgbench refuses an empty -D value
        return `:v${s}_${k}_${n}`;
      });
      statement.values.forEach((value, i) => {
        if (value !== null && value !== undefined && value !== '') defines.push('-D', `v${s}_${k}_${i + 1}=${literal(value)}`);
      });
      return `${text};`;
    });
    const file = path.join(dir, `s${s}.sql`);
    fs.writeFileSync(
      file,
      [
        '\\startpipeline',
        'begin;',
        `select pg_catalog.set_config('todo_chat.user_id', :v${s}_u, true), pg_catalog.set_config('role', 'todo_chat_app', true)${TIMEOUTS};`,
        '\\endpipeline',
        ...body,
        'commit;',
        '',
      ].join('\n'),
    );
    files.push(file);
  });
  return { dir, files, defines };
}

export async function runPgbench(
  pgbench: string,
  url: string,
  scripts: PgbenchScripts,
  options: { clients: number; warmMs: number; measureMs: number; server: ServerCpu | undefined },
): Promise<Sample> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-pgbench-log-'));
  const seconds = Math.ceil((options.warmMs + options.measureMs) / 1000);
  const args = [
    '-n',
    '-M', 'prepared',
    '-c', String(options.clients),
    '-j', String(Math.min(options.clients, 2)),
    '-T', String(seconds),
    '-l', `--log-prefix=${path.join(logDir, 'tx')}`,
    ...scripts.files.flatMap((file) => ['-f', `${file}@1`]),
    ...scripts.defines,
    url,
  ];
  const serverBefore = options.server?.read();
  // `times` after pgbench reports the CPU of the shell's children: pgbench's.
  const child = spawn('bash', ['-c', '"$@"; status=$?; times >&2; exit $status', 'pgbench', pgbench, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const serverAfter = options.server?.read();
  if (status !== 0) {
    fs.rmSync(logDir, { recursive: true, force: true });
    throw new Error(`pgbench failed (${status}):\n${stderr.slice(-3000)}`);
  }
  const times = stderr.trim().split('\n').slice(-1)[0]!.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const clientCpuUs = times ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1e6 : NaN;
  const entries: { end: number; latency: number }[] = [];
  let failed = 0;
  for (const file of fs.readdirSync(logDir)) {
    for (const line of fs.readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f.length < 6) continue;
      if (f[2] === 'failed' || f[2] === 'skipped') {
        failed++;
        continue;
      }
      entries.push({ end: Number(f[4]) * 1e6 + Number(f[5]), latency: Number(f[2]) });
    }
  }
  fs.rmSync(logDir, { recursive: true, force: true });
  const first = Math.min(...entries.map((e) => e.end - e.latency));
  const warmEnd = first + options.warmMs * 1000;
  const measured = entries.filter((e) => e.end - e.latency >= warmEnd);
  const lastEnd = Math.max(...measured.map((e) => e.end));
  const failures = /number of failed transactions: (\d+)/.exec(stdout);
  return {
    transactions: measured.length,
    errors: failed + (failures ? Number(failures[1]) : 0),
    seconds: (lastEnd - warmEnd) / 1e6,
    latencies: Float64Array.from(measured, (e) => e.latency / 1000),
    clientCpuUs,
    cpuTransactions: entries.length,
    serverCpuUs: serverBefore !== undefined && serverAfter !== undefined ? ((serverAfter - serverBefore) * measured.length) / Math.max(1, entries.length) : undefined,
  };
}
