/**
 * npm run bench -- --users 1000: that many users at once, each through the
 * public API and one shared store (a pool of the size a server of this
 * machine takes, TCDB_BENCH_POOL, default 10): ensure the user, create a
 * conversation, append three chat turns with tool calls, create two tasks,
 * list them, complete one, rename the other, read the history. Between two
 * calls a user waits a think time (uniform, mean --think-ms, default 1000), as
 * people at a chat do: the point is a thousand users in flight at once, not a
 * queue. Prints the errors (must be 0), p50/p99 per call and throughput,
 * then checks, as superuser, that each user's stored rows are exactly what
 * that user wrote, and removes the users again (the fill stays as it was).
 * Exits non-zero on any error or mismatch.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { NewMessage } from '../src/index.js';
import type { Library } from './library.js';
import { packageRoot } from '../src/paths.js';
import type { FillParameters } from './fill.js';
import { percentile } from './measure.js';

const TURNS = 3;

function turnOf(user: number, k: number): NewMessage[] {
  const call = `call_${user}_${k}`;
  return [
    { role: 'user', content: `user ${user} asks ${k}: add a task` },
    { role: 'assistant', content: '', toolCalls: [{ id: call, name: 'add_task', arguments: { title: `task ${user}.${k}` } }] },
    { role: 'tool', toolCallId: call, content: `{"ok": true, "user": ${user}, "k": ${k}}` },
    { role: 'assistant', content: `user ${user}, turn ${k}: done` },
  ];
}

interface Written {
  id: string;
  conversationId: string;
  messages: string[];
  tasks: { title: string; completed: boolean }[];
}

export async function runUsers(url: string, _fill: FillParameters, count: number, log: (line: string) => void, createStore: Library['createStore']): Promise<void> {
  const poolSize = Number(process.env.TCDB_BENCH_POOL ?? 10);
  const thinkMs = Number(argValue('--think-ms') ?? 1000);
  const store = createStore({ connectionString: url, maxConnections: poolSize });
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  const run = crypto.randomBytes(4).toString('hex');
  const latencies: number[] = [];
  const errors: string[] = [];
  const written: Written[] = [];
  log(`--users ${count}: one store with a pool of ${poolSize}, think time mean ${thinkMs} ms between calls`);
  const think = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * thinkMs));
  async function call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    await think();
    const t0 = performance.now();
    try {
      return await fn();
    } catch (error) {
      errors.push(String((error as Error)?.message ?? error));
      return undefined;
    } finally {
      latencies.push(performance.now() - t0);
    }
  }
  async function user(index: number): Promise<void> {
    const id = crypto.randomUUID();
    const w: Written = { id, conversationId: '', messages: [], tasks: [] };
    written.push(w);
    await call(() => store.withUser(id, (tx) => tx.users.ensure()));
    const conversation = await call(() => store.withUser(id, (tx) => tx.conversations.create({ title: `users ${run} ${index}` })));
    if (!conversation) return;
    w.conversationId = conversation.id;
    for (let k = 0; k < TURNS; k++) {
      const turn = turnOf(index, k);
      const ok = await call(() => store.withUser(id, (tx) => tx.messages.appendTurn(conversation.id, turn)));
      if (ok) w.messages.push(...turn.map((m) => (m as { content?: string }).content ?? ''));
    }
    const a = await call(() => store.withUser(id, (tx) => tx.tasks.create({ title: `first task of ${index}` })));
    const b = await call(() => store.withUser(id, (tx) => tx.tasks.create({ title: `second task of ${index}` })));
    await call(() => store.withUser(id, (tx) => tx.tasks.list()));
    if (a && (await call(() => store.withUser(id, (tx) => tx.tasks.complete(a.id))))) w.tasks.push({ title: a.title, completed: true });
    else if (a) w.tasks.push({ title: a.title, completed: false });
    if (b && (await call(() => store.withUser(id, (tx) => tx.tasks.update(b.id, { title: `renamed task of ${index}` }))))) {
      w.tasks.push({ title: `renamed task of ${index}`, completed: false });
    } else if (b) w.tasks.push({ title: b.title, completed: false });
    const page = await call(() => store.withUser(id, (tx) => tx.messages.history(conversation.id)));
    if (page && page.items.map((m) => m.content).join('\n') !== w.messages.join('\n')) errors.push(`user ${index}: history differs from what was written`);
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => user(i)));
  const seconds = (performance.now() - started) / 1000;
  await store.close();

  const sorted = Float64Array.from(latencies).sort();
  log(`calls: ${latencies.length} in ${seconds.toFixed(1)} s (${(latencies.length / seconds).toFixed(0)}/s), errors: ${errors.length}`);
  if (errors.length) log(`first errors:\n  ${[...new Set(errors)].slice(0, 5).join('\n  ')}`);
  log(`per call: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${percentile(sorted, 100).toFixed(2)} ms`);

  // The check, as superuser (no row-level security): each user's rows are exactly what that user wrote.
  const ids = written.map((w) => w.id);
  const stored = await admin.query<{ user_id: string; what: string; value: string }>(
    `select user_id::text, 'message' as what, content as value from todo_chat.messages where user_id = any ($1::uuid[])
     union all select user_id::text, 'task', title || '|' || completed from todo_chat.tasks where user_id = any ($1::uuid[])
     union all select user_id::text, 'conversation', id::text from todo_chat.conversations where user_id = any ($1::uuid[])
     union all select user_id::text, 'call', call_id from todo_chat.tool_calls where user_id = any ($1::uuid[])
     union all select user_id::text, 'result', call_id from todo_chat.tool_results where user_id = any ($1::uuid[])`,
    [ids],
  );
  const order = await admin.query<{ user_id: string; contents: string[] }>(
    'select user_id::text, array_agg(content order by position) as contents from todo_chat.messages where user_id = any ($1::uuid[]) group by user_id',
    [ids],
  );
  const byUser = new Map<string, string[]>();
  for (const row of stored.rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), `${row.what}:${row.value}`]);
  const messageOrder = new Map(order.rows.map((r) => [r.user_id, r.contents.join('\n')]));
  let mismatches = 0;
  for (const [index, w] of written.entries()) {
    const calls = Array.from({ length: w.messages.length / 4 }, (_, k) => `call_${index}_${k}`);
    const expected = [
      ...w.messages.map((m) => `message:${m}`),
      ...w.tasks.map((t) => `task:${t.title}|${t.completed}`),
      ...(w.conversationId ? [`conversation:${w.conversationId}`] : []),
      ...calls.map((c) => `call:${c}`),
      ...calls.map((c) => `result:${c}`),
    ].sort();
    const actual = [...(byUser.get(w.id) ?? [])].sort();
    const sameOrder = (messageOrder.get(w.id) ?? '') === w.messages.join('\n');
    if (JSON.stringify(actual) !== JSON.stringify(expected) || !sameOrder) {
      mismatches++;
      if (mismatches <= 3) log(`user ${index}: stored rows differ from what the user wrote\n  expected ${JSON.stringify(expected)}\n  stored   ${JSON.stringify(actual)}`);
    }
  }
  log(`check: ${written.length - mismatches} of ${written.length} users hold exactly what they wrote${mismatches ? `; ${mismatches} do not` : ''}`);
  await admin.query('delete from todo_chat.users where id = any ($1::uuid[])', [ids]);
  await admin.end();

  const result = {
    date: new Date().toISOString(),
    users: count,
    pool: poolSize,
    thinkMs,
    calls: latencies.length,
    seconds: Number(seconds.toFixed(1)),
    errors: errors.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    maxMs: Number(percentile(sorted, 100).toFixed(2)),
    mismatchedUsers: mismatches,
  };
  const out = path.join(packageRoot, 'bench', 'results', `users-${count}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`written: ${path.relative(process.cwd(), out)}`);
  if (errors.length > 0 || mismatches > 0) process.exitCode = 1;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}


