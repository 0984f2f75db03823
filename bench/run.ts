/**
 * npm run bench [-- options]: the library against pgbench, raw node-postgres
 * (unnamed and named statements) and Drizzle ORM on the same workloads, in
 * one run, interleaved in rounds so that drift hits every contender alike.
 * bench/README.md describes the workloads, the contenders and the options.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Store } from '../src/index.js';
import { loadLibrary } from './library.js';
import { transactionPrologue } from '../src/transaction.js';
import { DEFAULTS } from '../src/store-options.js';
import { statementNameOf } from '../src/statement-names.js';
import { packageRoot } from '../src/paths.js';
import { openBenchDatabase } from './database.js';
import { FULL_FILL, QUICK_FILL, ensureFill, type FillParameters } from './fill.js';
import { driveNode, ServerCpu, type Sample } from './measure.js';
import { ensurePgbench, runPgbench, writeScripts, type PgbenchScripts } from './pgbench.js';
import { recordStatements, resetScratch, workloads, type Recorded, type Workload } from './workloads.js';
import * as dz from './drizzle.js';
import { summarize, writeReport, type CellResult, type RunInfo } from './report.js';
import { runUsers } from './users.js';
import { runDecoding } from './decoding.js';
import { runOverhead } from './overhead.js';
import { pipelinedTransaction } from './pipelined.js';

export const CONTENDERS = ['pgbench', 'raw-named', 'raw-unnamed', 'library', 'library-unnamed', 'drizzle', 'raw-pipelined', 'raw-pipelined-prologue'] as const;
export type Contender = (typeof CONTENDERS)[number];
/** The raw-pipelined contenders are an exploration (bench/pipelined.ts), run only when asked for with --contenders. */
const DEFAULT_CONTENDERS = CONTENDERS.filter((c) => !c.startsWith('raw-pipelined'));

interface Options {
  quick: boolean;
  rounds: number;
  warmMs: number;
  measureMs: number;
  clients: number[];
  only: string[] | undefined;
  contenders: Contender[];
  fill: FillParameters;
  users: number | undefined;
  note: string;
  out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string) => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  const known = ['--quick', '--rounds', '--seconds', '--warmup', '--clients', '--only', '--contenders', '--fill-users', '--users', '--note', '--out', '--think-ms', '--decoding', '--overhead'];
  for (const arg of argv) if (arg.startsWith('--') && !known.includes(arg)) throw new Error(`unknown option ${arg} (bench/README.md lists them)`);
  const fill = { ...(quick ? QUICK_FILL : FULL_FILL) };
  if (value('--fill-users')) fill.users = Number(value('--fill-users'));
  const contenders = (value('--contenders')?.split(',') ?? [...DEFAULT_CONTENDERS]) as Contender[];
  for (const c of contenders) if (!CONTENDERS.includes(c)) throw new Error(`unknown contender ${c}: one of ${CONTENDERS.join(', ')}`);
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 1 : 3)),
    warmMs: Number(value('--warmup') ?? (quick ? 0.3 : 2)) * 1000,
    measureMs: Number(value('--seconds') ?? (quick ? 1 : 6)) * 1000,
    clients: (value('--clients') ?? '1,16').split(',').map(Number),
    only: value('--only')?.split(','),
    contenders,
    fill,
    users: value('--users') === undefined ? undefined : Number(value('--users')),
    note: value('--note') ?? '',
    out: value('--out'),
  };
}

const log = (line: string) => console.log(line);

interface Prepared {
  workload: Workload;
  recorded: (Recorded & { name: string })[][][];
  scripts: PgbenchScripts | undefined;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const db = await openBenchDatabase(log);
  log(`database: ${db.description}, PostgreSQL ${db.serverVersion}`);
  const pools: { end(): Promise<void> }[] = [];
  try {
    const { createStore } = await loadLibrary(log);
    const fill = await ensureFill(db.url, options.fill, log);
    log(`fill: ${fill === 'reused' ? 'reused (parameters match)' : 'made'}`);
    if (process.argv.includes('--overhead')) {
      await resetScratch(db.url, options.fill);
      await runOverhead(db.url, options.fill, log, createStore);
      return;
    }
    if (process.argv.includes('--decoding')) {
      await runDecoding(db.url, log, createStore);
      return;
    }
    if (options.users !== undefined) {
      await runUsers(db.url, options.users, log, createStore);
      return;
    }
    await resetScratch(db.url, options.fill);

    const pgbench = options.contenders.includes('pgbench') ? ensurePgbench(log) : undefined;
    const contenders = options.contenders.filter((c) => c !== 'pgbench' || pgbench !== undefined);
    if (options.contenders.includes('pgbench') && !pgbench) log('pgbench: not available, left out of this run');
    const pgbenchVersion = pgbench ? execSync(`${pgbench} --version`, { encoding: 'utf8' }).trim() : undefined;

    const probe = new pg.Client({ connectionString: db.url });
    await probe.connect();
    const server = await ServerCpu.find((await probe.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
    await probe.end();

    const chosen = workloads(options.fill).filter((w) => !options.only || options.only.includes(w.name));
    const prepared: Prepared[] = [];
    for (const workload of chosen) {
      const recorded = (await recordStatements(db.url, workload, createStore)).map((byOp) =>
        byOp.map((statements) => statements.map((s) => ({ ...s, name: statementNameOf(s.text) }))),
      );
      const scripts = pgbench
        ? writeScripts(
            workload.name,
            workload.targets.flatMap((target, k) => recorded[k]!.map((statements) => ({ userId: target.userId, statements }))),
          )
        : undefined;
      prepared.push({ workload, recorded, scripts });
      log(`workload ${workload.name}: ${workload.title}; ${recorded[0]![0]!.length} statement(s) per transaction`);
      if (workload.kind === 'read' && contenders.some((c) => c.startsWith('raw-pipelined'))) await checkPipelined(db.url, workload, recorded);
    }

    // One pool (or store) per contender and number of clients, kept for the whole run, as an application keeps its pool.
    const stores = new Map<string, Store>();
    const rawPools = new Map<string, pg.Pool>();
    const drizzles = new Map<string, dz.Db>();
    const poolFor = (key: string, size: number) => {
      let pool = rawPools.get(key);
      if (!pool) {
        pool = new pg.Pool({ connectionString: db.url, max: size });
        pool.on('error', () => undefined);
        rawPools.set(key, pool);
        pools.push(pool);
      }
      return pool;
    };
    const storeFor = (named: boolean, size: number) => {
      const key = `${named}:${size}`;
      let store = stores.get(key);
      if (!store) {
        store = createStore({ connectionString: db.url, maxConnections: size, namedStatements: named });
        stores.set(key, store);
        pools.push({ end: () => store!.close() });
      }
      return store;
    };
    const drizzleFor = (size: number) => {
      const key = String(size);
      let d = drizzles.get(key);
      if (!d) {
        d = dz.drizzleOn(poolFor(`drizzle:${size}`, size));
        drizzles.set(key, d);
      }
      return d;
    };

    const cells = new Map<string, CellResult>();
    const started = Date.now();
    const loadBefore = os.loadavg();
    const total = options.rounds * prepared.length * options.clients.length * contenders.length;
    let done = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const { workload, recorded, scripts } of prepared) {
        for (const clients of options.clients) {
          // A different order each round, so that no contender always runs first after a change of workload.
          const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
          for (const contender of order) {
            const pick = () => Math.floor(Math.random() * workload.targets.length);
            const measure = { clients, warmMs: options.warmMs, measureMs: options.measureMs, server };
            let sample: Sample;
            if (contender === 'pgbench') {
              sample = await runPgbench(pgbench!, db.url, scripts!, measure);
            } else if (contender === 'library' || contender === 'library-unnamed') {
              const store = storeFor(contender === 'library', clients);
              sample = await driveNode((i) => {
                const k = pick();
                return workload.library(store, workload.targets[k]!, i % workload.ops);
              }, measure);
            } else if (contender === 'raw-pipelined' || contender === 'raw-pipelined-prologue') {
              const pool = poolFor(`${contender}:${clients}`, clients);
              const commit = contender === 'raw-pipelined';
              sample = await driveNode(async (i) => {
                const k = pick();
                const statements = recorded[k]![i % workload.ops]!;
                if (statements.length !== 1) throw new Error(`${contender} runs single-statement transactions only`);
                await inTransaction(pool, async (client) => {
                  await pipelinedTransaction(client, workload.targets[k]!.userId, 'todo_chat_app', statements[0]!, { commit });
                  if (!commit) await client.query('commit');
                });
              }, measure);
            } else if (contender === 'drizzle') {
              const d = drizzleFor(clients);
              sample = await driveNode((i) => workload.drizzle(d, workload.targets[pick()]!, i % workload.ops), measure);
            } else {
              const named = contender === 'raw-named';
              const pool = poolFor(`${contender}:${clients}`, clients);
              sample = await driveNode(async (i) => {
                const k = pick();
                const statements = recorded[k]![i % workload.ops]!;
                await inTransaction(pool, async (client) => {
                  await client.query(transactionPrologue(workload.targets[k]!.userId, 'todo_chat_app', DEFAULTS));
                  for (const s of statements) await client.query(named ? { name: s.name, text: s.text, values: s.values } : { text: s.text, values: s.values });
                  await client.query('commit');
                });
              }, measure);
            }
            const key = `${workload.name}|${clients}|${contender}`;
            const cell = cells.get(key) ?? { workload: workload.name, kind: workload.kind, clients, contender, samples: [] };
            cell.samples.push(sample);
            cells.set(key, cell);
            done++;
            const tps = sample.transactions / sample.seconds;
            log(
              `[${done}/${total}] round ${round + 1} ${workload.name} c=${clients} ${contender}: ${tps.toFixed(0)} tx/s` +
                (sample.errors ? `, ${sample.errors} errors (${sample.firstError ?? 'see pgbench'})` : ''),
            );
          }
        }
      }
    }
    for (const p of prepared) if (p.scripts) fs.rmSync(p.scripts.dir, { recursive: true, force: true });

    const info: RunInfo = {
      date: new Date(started).toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      quick: options.quick,
      rounds: options.rounds,
      warmupSeconds: options.warmMs / 1000,
      measureSeconds: options.measureMs / 1000,
      fill: options.fill,
      machine: {
        cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
        loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
        node: process.version,
        postgres: db.serverVersion,
        pgbench: pgbenchVersion ?? 'not run',
        database: db.description.replace(/\(.*data in .*\)/, '(embedded)'),
      },
      commit: gitCommit(),
      note: options.note,
      workloads: prepared.map((p) => ({ name: p.workload.name, title: p.workload.title, kind: p.workload.kind, statements: p.recorded[0]![0]!.length })),
    };
    const results = summarize([...cells.values()]);
    const out = options.out ?? path.join(packageRoot, 'bench', 'results', options.quick ? 'quick' : 'latest');
    const written = writeReport(out, info, results);
    log(`\n${fs.readFileSync(written.markdown, 'utf8')}`);
    log(`written: ${path.relative(process.cwd(), written.json)}, ${path.relative(process.cwd(), written.markdown)}`);
  } finally {
    for (const pool of pools) await pool.end().catch(() => undefined);
    await db.release();
  }
}

/**
 * The exploration's pipelines must return exactly the rows that node-postgres
 * returns for the same statement in the same transaction shape (read
 * workloads, first target), or their figures would mean nothing.
 */
async function checkPipelined(url: string, workload: Workload, recorded: (Recorded & { name: string })[][][]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const target = workload.targets[0]!;
    const statement = recorded[0]![0]![0]!;
    await client.query(transactionPrologue(target.userId, 'todo_chat_app', DEFAULTS));
    const expected = (await client.query({ text: statement.text, values: statement.values })).rows;
    await client.query('commit');
    for (const commit of [true, false]) {
      const rows = await pipelinedTransaction(client as unknown as pg.PoolClient, target.userId, 'todo_chat_app', statement, { commit });
      if (!commit) await client.query('commit');
      if (JSON.stringify(rows) !== JSON.stringify(expected)) throw new Error(`the pipelined ${workload.name} (commit ${commit}) returned other rows than node-postgres`);
    }
  } finally {
    await client.end();
  }
}

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);

/** One raw contender's transaction on a pooled client: `run` begins and commits it; a failure rolls it back, and the client goes back either way. */
async function inTransaction(pool: pg.Pool, run: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await run(client);
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
