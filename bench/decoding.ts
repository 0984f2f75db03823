/**
 * npm run bench -- --decoding: what turning rows into JavaScript costs the
 * client, per row, for the rebuild of the big conversation (10,000 rows) and
 * a newest-50 history page: node-postgres with its default type parsers, with
 * no parsing at all (every column a string), with timestamps or json left as
 * strings, with the library's own parsers (src/row-types.ts: timestamptz
 * read by position), and the library's whole call (validation, mapping). CPU
 * of this process per row, serially on one named statement, the median of
 * five rounds that each run every variant (in a rotating order). Written to
 * bench/results/decoding.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Library } from './library.js';
import { packageRoot } from '../src/paths.js';
import { transactionPrologue } from '../src/transaction.js';
import { DEFAULTS } from '../src/store-options.js';
import * as mq from '../src/queries/messages.queries.js';
import { LIMITS } from '../src/limits.js';
import { ROW_TYPES } from '../src/row-types.js';
import { ids } from './fill.js';

type Types = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (value: string) => unknown };
const TIMESTAMPTZ = 1184;
const JSON_TYPES = [114, 3802];
const asText = (value: string) => value;
const variants: [string, Types | undefined][] = [
  ['default type parsers', undefined],
  ['no parsing (all strings)', { getTypeParser: () => asText }],
  ['timestamptz left a string', { getTypeParser: (oid, format) => (oid === TIMESTAMPTZ ? asText : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) }],
  ['json/jsonb left strings', { getTypeParser: (oid, format) => (JSON_TYPES.includes(oid) ? asText : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) }],
  ["the library's parsers (src/row-types.ts)", ROW_TYPES],
];

async function statementFor(run: (connection: { query: (text: string, values: unknown[]) => Promise<{ rows: never[]; rowCount: number }> }) => Promise<unknown>) {
  let captured: { text: string; values: unknown[] } | undefined;
  await run({ query: async (text, values) => ((captured = { text, values }), { rows: [], rowCount: 0 }) });
  return captured!;
}

const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runDecoding(url: string, log: (line: string) => void, createStore: Library['createStore']): Promise<void> {
  const userId = ids.user(0);
  const cases = [
    {
      name: 'rebuild (10,000 rows)',
      conversationId: ids.big(),
      statement: await statementFor((c) =>
        mq.listAllMessages.run({ userId, conversationId: ids.big(), ...LIMITS.wholeConversation }, c),
      ),
      iterations: 20,
      library: (store: ReturnType<Library['createStore']>) => store.withUser(userId, (tx) => tx.messages.all(ids.big())),
    },
    {
      name: 'history page (51 rows)',
      conversationId: ids.big(),
      statement: await statementFor((c) =>
        mq.listHistory.run({ userId, conversationId: ids.big(), before: null, limit: 50, extra: LIMITS.historyPage.maxLimit - 50 }, c),
      ),
      iterations: 2000,
      library: (store: ReturnType<Library['createStore']>) => store.withUser(userId, (tx) => tx.messages.history(ids.big(), { limit: 50 })),
    },
  ];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(transactionPrologue(userId, 'todo_chat_app', DEFAULTS));
  const store = createStore({ connectionString: url, maxConnections: 1 });
  const results: Record<string, Record<string, number>> = {};
  try {
    for (const c of cases) {
      const rows = (await client.query({ text: c.statement.text, values: c.statement.values })).rows.length;
      const measure = async (fn: () => Promise<unknown>) => {
        for (let i = 0; i < 3; i++) await fn();
        const cpu = process.cpuUsage();
        for (let i = 0; i < c.iterations; i++) await fn();
        const used = process.cpuUsage(cpu);
        return (used.user + used.system) / c.iterations / rows;
      };
      const contenders: [string, () => Promise<unknown>][] = [
        ...variants.map(([label, types]): [string, () => Promise<unknown>] => [
          `node-postgres, ${label}`,
          () => client.query({ name: `decoding_${c.name.length}`, text: c.statement.text, values: c.statement.values, ...(types ? { types } : {}) }),
        ]),
        ['library call (its own transaction)', () => c.library(store)],
      ];
      // Every variant once per round, in a different order each round; the median over the rounds.
      const samples = new Map<string, number[]>(contenders.map(([label]) => [label, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < contenders.length; k++) {
          const [label, fn] = contenders[(k + round) % contenders.length]!;
          samples.get(label)!.push(await measure(fn));
        }
      }
      const perRow = Object.fromEntries([...samples].map(([label, values]) => [label, median(values)]));
      results[c.name] = Object.fromEntries(Object.entries(perRow).map(([k, v]) => [k, Number(v.toFixed(2))]));
      log(`${c.name}: client CPU per row, µs`);
      for (const [k, v] of Object.entries(results[c.name]!)) log(`  ${k.padEnd(56)} ${v.toFixed(2)}`);
    }
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
    await store.close();
  }
  const out = path.join(packageRoot, 'bench', 'results', 'decoding.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), unit: 'client CPU microseconds per row (median of 5 rounds)', node: process.version, results }, null, 2)}\n`);
  log(`written: ${path.relative(process.cwd(), out)}`);
}
