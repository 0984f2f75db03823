import pg from 'pg';
import * as mq from '../src/queries/messages.queries.js';
import { ids } from './fill.js';
const url = 'postgres://postgres:postgres@127.0.0.1:54339/todo_chat_bench';
const c = new pg.Client({ connectionString: url }); await c.connect();
let captured: { text: string; values: unknown[] } | undefined;
await mq.listAllMessages.run({ userId: ids.user(0), conversationId: ids.big(), maxMessages: 20000, maxBytes: 16777216 }, { query: async (text: string, values: unknown[]) => { captured = { text, values }; return { rows: [], rowCount: 0 }; } });
await c.query(`select set_config('todo_chat.user_id', '${ids.user(0)}', false), set_config('role','todo_chat_app', false)`);
const raw = { getTypeParser: () => (v: string) => v };
const fastDate = (v: string) => {
  // 'YYYY-MM-DD HH:MM:SS.mmm+00' (TimeZone UTC, timestamptz(3))
  if (v.length >= 22 && v.endsWith('+00') ) return new Date(v.slice(0, 10) + 'T' + v.slice(11, -3) + 'Z');
  return pg.types.getTypeParser(1184)(v);
};
const fast = { getTypeParser: (oid: number, format?: any) => oid === 1184 ? fastDate : pg.types.getTypeParser(oid, format) };
const noDate = { getTypeParser: (oid: number, format?: any) => oid === 1184 ? ((v: string) => v) : pg.types.getTypeParser(oid, format) };
const noJson = { getTypeParser: (oid: number, format?: any) => (oid === 3802 || oid === 114) ? ((v: string) => v) : pg.types.getTypeParser(oid, format) };
async function time(label: string, cfg: any, n = 15) {
  for (let i = 0; i < 3; i++) await c.query({ name: 'all', text: captured!.text, values: captured!.values, ...cfg });
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.query({ name: 'all', text: captured!.text, values: captured!.values, ...cfg });
  const cpu = process.cpuUsage(cpu0); const t = performance.now() - t0;
  console.log(label.padEnd(28), 'wall ms/q', (t / n).toFixed(1), 'client cpu ms/q', ((cpu.user + cpu.system) / 1000 / n).toFixed(1));
}
const r = await c.query({ text: captured!.text, values: captured!.values });
console.log('rows', r.rows.length, 'sample created_at raw:', (await c.query({ text: captured!.text, values: captured!.values, types: raw })).rows[1].createdAt, (await c.query('show timezone')).rows[0]);
for (let k = 0; k < 2; k++) {
await time('default parsers', {});
await time('all text (no parsing)', { types: raw });
await time('fast timestamptz', { types: fast });
await time('timestamptz as text', { types: noDate });
await time('json as text', { types: noJson });
await time('rowMode array', { rowMode: 'array' });
}
await c.end();
