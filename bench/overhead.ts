/**
 * npm run bench -- --overhead: the library's own JavaScript per call, with
 * the database and the driver taken out. Each workload's statements and
 * their result rows are recorded once from the real database; then the same
 * calls run against a stand-in pool whose client answers every query at once
 * with the recorded rows (already decoded, as node-postgres would hand them
 * over). "raw" sends the same three queries (prologue, statement, commit) to
 * the same stand-in, so the difference is what the library adds: input
 * validation, AsyncLocalStorage, the repositories, pgtyped's query building,
 * statement naming, row mapping, cursors. CPU of this process, serially.
 * Written to bench/results/overhead.json.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Store } from '../src/index.js';
import type { Library } from './library.js';
import { packageRoot } from '../src/paths.js';
import { transactionPrologue } from '../src/transaction.js';
import { DEFAULTS } from '../src/store-options.js';
import { statementNameOf } from '../src/statement-names.js';
import type { FillParameters } from './fill.js';
import { workloads } from './workloads.js';

interface Answer {
  rows: unknown[];
  rowCount: number;
  command: string;
}

/** A pg client stand-in: answers from a map of statement text to recorded result. */
class CannedClient extends EventEmitter {
  constructor(private readonly answers: Map<string, Answer>) {
    super();
  }

  query(config: string | { text: string }, _values?: unknown[]): Promise<Answer> {
    const text = typeof config === 'string' ? config : config.text;
    if (text.startsWith('begin')) return Promise.resolve({ rows: [], rowCount: 1, command: 'SELECT' });
    if (text === 'commit') return Promise.resolve({ rows: [], rowCount: 0, command: 'COMMIT' });
    if (text === 'rollback') return Promise.resolve({ rows: [], rowCount: 0, command: 'ROLLBACK' });
    const answer = this.answers.get(text);
    if (!answer) return Promise.reject(new Error(`no recorded answer for ${text.slice(0, 60)}`));
    return Promise.resolve(answer);
  }

  release(): void {}
}

function cannedPool(answers: Map<string, Answer>): pg.Pool {
  const client = new CannedClient(answers);
  return { connect: () => Promise.resolve(client), on: () => undefined, end: () => Promise.resolve() } as unknown as pg.Pool;
}

export async function runOverhead(url: string, fill: FillParameters, log: (line: string) => void, createStore: Library['createStore']): Promise<void> {
  const results: Record<string, { libraryUs: number; rawUs: number; overheadUs: number; rows: number }> = {};
  for (const workload of workloads(fill)) {
    const target = workload.targets[0]!;
    // Record each operation's statements and their decoded rows from the real database (a write writes once, as in a run).
    const answers = new Map<string, Answer>();
    const byOp: string[][] = [];
    let recorded: string[] = [];
    const real = new pg.Pool({ connectionString: url, max: 1 });
    real.on('error', () => undefined);
    const recording = createStore({
      pool: {
        connect: async () => {
          const client = await real.connect();
          const query = client.query.bind(client) as (c: unknown, v?: unknown) => Promise<Answer>;
          (client as unknown as { query: unknown }).query = async (config: unknown, values?: unknown) => {
            const result = await query(config, values);
            const text = typeof config === 'string' ? config : (config as { text: string }).text;
            if (!text.startsWith('begin') && text !== 'commit') {
              answers.set(text, { rows: result.rows, rowCount: result.rowCount, command: result.command });
              recorded.push(text);
            }
            return result;
          };
          const release = client.release.bind(client);
          client.release = (destroy?: boolean | Error) => {
            (client as unknown as { query: unknown }).query = query;
            release(destroy);
          };
          return client;
        },
        on: () => undefined,
        end: () => Promise.resolve(),
      } as unknown as pg.Pool,
      namedStatements: false,
    });
    for (let op = 0; op < workload.ops; op++) {
      recorded = [];
      await workload.library(recording, target, op);
      byOp.push(recorded);
    }
    await real.end();
    const rows = Math.max(...[...answers.values()].map((a) => a.rows.length));

    const store: Store = createStore({ pool: cannedPool(answers) });
    const rawClient = new CannedClient(answers);
    const named = byOp.map((texts) => texts.map((text) => ({ name: statementNameOf(text), text, values: [] })));
    // About the same CPU per measurement whatever the rows: 20,000 calls of a page, 100 of the rebuild.
    const iterations = Math.max(100, Math.min(20_000, Math.round(1_000_000 / Math.max(rows, 50))));
    const measure = async (fn: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < iterations / 10; i++) await fn(i);
      const cpu = process.cpuUsage();
      for (let i = 0; i < iterations; i++) await fn(i);
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / iterations;
    };
    const raw = async (i: number) => {
      await rawClient.query(transactionPrologue(target.userId, 'todo_chat_app', DEFAULTS));
      for (const statement of named[i % workload.ops]!) await rawClient.query(statement as never);
      await rawClient.query('commit');
    };
    // Alternate, so that neither always runs with a warmer heap.
    let libraryUs = 0;
    let rawUs = 0;
    for (let r = 0; r < 3; r++) {
      libraryUs += await measure((i) => workload.library(store, target, i % workload.ops));
      rawUs += await measure(raw);
    }
    libraryUs /= 3;
    rawUs /= 3;
    results[workload.name] = { libraryUs: round(libraryUs), rawUs: round(rawUs), overheadUs: round(libraryUs - rawUs), rows };
    log(`${workload.name.padEnd(14)} library ${libraryUs.toFixed(1)} µs, raw ${rawUs.toFixed(1)} µs per call: the library adds ${(libraryUs - rawUs).toFixed(1)} µs (${rows} rows)`);
  }
  const out = path.join(packageRoot, 'bench', 'results', 'overhead.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), unit: 'client CPU microseconds per call', node: process.version, results }, null, 2)}\n`);
  log(`written: ${path.relative(process.cwd(), out)}`);
}

const round = (x: number) => Number(x.toFixed(1));
