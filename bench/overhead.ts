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
    if (workload.name === 'rebuild' || workload.kind === 'write') continue; // reads only: the answers stay valid when replayed
    const target = workload.targets[0]!;
    // Record the statement and its decoded rows from the real database.
    const answers = new Map<string, Answer>();
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
            if (!text.startsWith('begin') && text !== 'commit') answers.set(text, { rows: result.rows, rowCount: result.rowCount, command: result.command });
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
      } as unknown as pg.Pool,
      namedStatements: false,
    });
    await workload.library(recording, target, 0);
    await real.end();
    const [text, answer] = [...answers.entries()][0]!;

    const store: Store = createStore({ pool: cannedPool(answers) });
    const rawClient = new CannedClient(answers);
    const name = statementNameOf(text);
    const iterations = 20_000;
    const measure = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 2000; i++) await fn();
      const cpu = process.cpuUsage();
      for (let i = 0; i < iterations; i++) await fn();
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / iterations;
    };
    const raw = () =>
      rawClient
        .query(transactionPrologue(target.userId, 'todo_chat_app'))
        .then(() => rawClient.query({ name, text, values: [] } as never))
        .then(() => rawClient.query('commit'));
    // Alternate, so that neither always runs with a warmer heap.
    let libraryUs = 0;
    let rawUs = 0;
    for (let r = 0; r < 3; r++) {
      libraryUs += await measure(() => workload.library(store, target, 0));
      rawUs += await measure(raw);
    }
    libraryUs /= 3;
    rawUs /= 3;
    results[workload.name] = { libraryUs: round(libraryUs), rawUs: round(rawUs), overheadUs: round(libraryUs - rawUs), rows: answer.rows.length };
    log(`${workload.name.padEnd(14)} library ${libraryUs.toFixed(1)} µs, raw ${rawUs.toFixed(1)} µs per call: the library adds ${(libraryUs - rawUs).toFixed(1)} µs (${answer.rows.length} rows)`);
  }
  const out = path.join(packageRoot, 'bench', 'results', 'overhead.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), unit: 'client CPU microseconds per call', node: process.version, results }, null, 2)}\n`);
  log(`written: ${path.relative(process.cwd(), out)}`);
}

const round = (x: number) => Number(x.toFixed(1));
