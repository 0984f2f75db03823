/**
 * npm run bench -- --users 1000: that many users at once, each through the
 * public API (store.withUser) and one shared store whose pool is the size a
 * server of this machine takes (TCDB_BENCH_POOL, default 10): ensure the
 * user, create a conversation, append three chat turns with tool calls,
 * create two tasks, list them, complete one, rename the other, read the
 * history. Between two calls a user waits a think time (uniform, mean
 * --think-ms, default 1000), as people at a chat do: the point is a thousand
 * users in flight at once, not a queue.
 *
 * Prints the errors (must be 0), p50/p99 per call (over all calls and per
 * operation) and throughput; then checks, as superuser, that each user's
 * stored rows are exactly what that user wrote (the conversation, every
 * message at its position with its role, content and tool calls, the audit's
 * calls and results, the tasks with their state), and that the history each
 * read back was exactly its turns; then removes the users (the fill stays as
 * it was). Exits non-zero on any error or difference. Writes
 * bench/results/users-N.json and users-N.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import type { NewMessage } from '../src/index.js';
import type { Library } from './library.js';
import { packageRoot } from '../src/paths.js';
import { percentile } from './measure.js';

const TURNS = 3;
/** The issue's bar for this run: p99 per call under 50 ms, no error. */
const P99_TARGET_MS = 50;

const OPERATIONS = ['users.ensure', 'conversations.create', 'messages.appendTurn', 'tasks.create', 'tasks.list', 'tasks.complete', 'tasks.update', 'messages.history'] as const;
type Operation = (typeof OPERATIONS)[number];

interface ChatMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: { id: string; name: string; arguments: { title: string } }[];
  toolCallId?: string;
}

function turnOf(user: number, k: number): ChatMessage[] {
  const call = `call_${user}_${k}`;
  return [
    { role: 'user', content: `user ${user} asks ${k}: add a task` },
    { role: 'assistant', content: '', toolCalls: [{ id: call, name: 'add_task', arguments: { title: `task ${user}.${k}` } }] },
    { role: 'tool', toolCallId: call, content: `{"ok": true, "user": ${user}, "k": ${k}}` },
    { role: 'assistant', content: `user ${user}, turn ${k}: done` },
  ];
}

/** What one user wrote and was told succeeded. */
interface Written {
  index: number;
  id: string;
  ensured: boolean;
  conversation: { id: string; title: string } | undefined;
  messages: ChatMessage[];
  tasks: { title: string; completed: boolean }[];
  /** The history page the user read back, as (role, content, toolCalls, toolCallId); undefined when the call failed. */
  history: unknown[] | undefined;
}

/** A message as compared: what the user gave, and what the table and the history page hold. */
function shapeOf(m: { role: string; content: string; toolCalls?: unknown; toolCallId?: unknown }): unknown[] {
  return [m.role, m.content, m.toolCalls ?? null, m.toolCallId ?? null];
}

export async function runUsers(url: string, count: number, log: (line: string) => void, createStore: Library['createStore']): Promise<void> {
  const poolSize = Number(process.env.TCDB_BENCH_POOL ?? 10);
  const thinkMs = Number(argValue('--think-ms') ?? 1000);
  // Each statement's own time (onQuery): what the server and the driver take, without the wait for a pooled connection.
  const statementMs: number[] = [];
  const store = createStore({ connectionString: url, maxConnections: poolSize, onQuery: (event) => statementMs.push(event.durationMs) });
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on('error', () => undefined);
  const run = crypto.randomBytes(4).toString('hex');
  const latencies = new Map<Operation, number[]>(OPERATIONS.map((op) => [op, []]));
  const errors: { operation: Operation; error: string }[] = [];
  const written: Written[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let activeUsers = 0;
  let maxActiveUsers = 0;
  let done = 0;
  log(`--users ${count}: one store with a pool of ${poolSize}, think time uniform with mean ${thinkMs} ms between calls`);
  const think = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * thinkMs));

  async function call<T>(operation: Operation, fn: () => Promise<T>): Promise<T | undefined> {
    await think();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const t0 = performance.now();
    try {
      return await fn();
    } catch (error) {
      const e = error as { name?: string; message?: string; code?: string };
      errors.push({ operation, error: `${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? String(error)}` });
      return undefined;
    } finally {
      latencies.get(operation)!.push(performance.now() - t0);
      inFlight--;
    }
  }

  async function user(index: number): Promise<void> {
    activeUsers++;
    maxActiveUsers = Math.max(maxActiveUsers, activeUsers);
    const id = crypto.randomUUID();
    const w: Written = { index, id, ensured: false, conversation: undefined, messages: [], tasks: [], history: undefined };
    written.push(w);
    try {
      w.ensured = (await call('users.ensure', () => store.withUser(id, (tx) => tx.users.ensure()))) !== undefined;
      const title = `users ${run} ${index}`;
      const conversation = await call('conversations.create', () => store.withUser(id, (tx) => tx.conversations.create({ title })));
      if (!conversation) return;
      w.conversation = { id: conversation.id, title };
      for (let k = 0; k < TURNS; k++) {
        const turn = turnOf(index, k);
        const ok = await call('messages.appendTurn', () => store.withUser(id, (tx) => tx.messages.appendTurn(conversation.id, turn as NewMessage[])));
        if (ok) w.messages.push(...turn);
      }
      const a = await call('tasks.create', () => store.withUser(id, (tx) => tx.tasks.create({ title: `first task of ${index}` })));
      const b = await call('tasks.create', () => store.withUser(id, (tx) => tx.tasks.create({ title: `second task of ${index}` })));
      await call('tasks.list', () => store.withUser(id, (tx) => tx.tasks.list()));
      if (a) {
        const completed = await call('tasks.complete', () => store.withUser(id, (tx) => tx.tasks.complete(a.id)));
        w.tasks.push({ title: a.title, completed: completed !== undefined });
      }
      if (b) {
        const renamed = await call('tasks.update', () => store.withUser(id, (tx) => tx.tasks.update(b.id, { title: `renamed task of ${index}` })));
        w.tasks.push({ title: renamed ? renamed.title : b.title, completed: false });
      }
      const page = await call('messages.history', () => store.withUser(id, (tx) => tx.messages.history(conversation.id)));
      if (page) w.history = page.items.map(shapeOf);
    } finally {
      activeUsers--;
      done++;
      if (done % Math.max(1, Math.round(count / 10)) === 0) log(`  ${done} / ${count} users done (${errors.length} errors so far)`);
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => user(i)));
  const seconds = (performance.now() - started) / 1000;
  await store.close();

  const all = Float64Array.from([...latencies.values()].flat()).sort();
  const figures = (values: number[] | Float64Array) => {
    const sorted = Float64Array.from(values).sort();
    return {
      calls: sorted.length,
      p50Ms: Number(percentile(sorted, 50).toFixed(2)),
      p99Ms: Number(percentile(sorted, 99).toFixed(2)),
      maxMs: Number(percentile(sorted, 100).toFixed(2)),
    };
  };
  const perOperation = Object.fromEntries(
    OPERATIONS.map((op) => [op, { ...figures(latencies.get(op)!), errors: errors.filter((e) => e.operation === op).length }]),
  );
  const overall = figures(all);
  log(`calls: ${all.length} in ${seconds.toFixed(1)} s (${(all.length / seconds).toFixed(0)}/s), users active at once: up to ${maxActiveUsers}, calls in flight: up to ${maxInFlight}`);
  log(`errors: ${errors.length}`);
  for (const [message, n] of countBy(errors.map((e) => `${e.operation}: ${e.error}`)).slice(0, 5)) log(`  ${n} x ${message}`);
  log(`per call (all): p50 ${overall.p50Ms} ms, p99 ${overall.p99Ms} ms, max ${overall.maxMs} ms`);
  const statements = figures(statementMs);
  log(`per statement (onQuery, without waiting for a pooled connection, begin and commit): p50 ${statements.p50Ms} ms, p99 ${statements.p99Ms} ms`);
  for (const op of OPERATIONS) {
    const f = perOperation[op]!;
    log(`  ${op.padEnd(22)} ${String(f.calls).padStart(6)} calls  p50 ${f.p50Ms.toFixed(2).padStart(7)} ms  p99 ${f.p99Ms.toFixed(2).padStart(7)} ms  max ${f.maxMs.toFixed(2).padStart(8)} ms  errors ${f.errors}`);
  }

  // The check, as superuser (no row-level security): each user's rows are exactly what that user wrote.
  const ids = written.map((w) => w.id);
  const { rows } = await admin.query<{
    user_id: string;
    present: boolean;
    conversations: unknown[] | null;
    messages: unknown[] | null;
    calls: unknown[] | null;
    results: unknown[] | null;
    tasks: unknown[] | null;
  }>(
    `select u.id::text as user_id,
       exists (select from todo_chat.users x where x.id = u.id) as present,
       (select json_agg(json_build_array(c.id, c.title) order by c.id) from todo_chat.conversations c where c.user_id = u.id) as conversations,
       (select json_agg(json_build_array(m.conversation_id, m.position, m.format, m.role, m.content, m.tool_calls, m.tool_call_id) order by m.conversation_id, m.position)
        from todo_chat.messages m where m.user_id = u.id) as messages,
       (select json_agg(json_build_array(t.conversation_id, t.message_position, t.call_id, t.name, t.arguments) order by t.conversation_id, t.ordinal)
        from todo_chat.tool_calls t where t.user_id = u.id) as calls,
       (select json_agg(json_build_array(r.conversation_id, r.call_id, r.output, t.call_id) order by r.conversation_id, r.ordinal)
        from todo_chat.tool_results r
        left join todo_chat.tool_calls t on t.user_id = r.user_id and t.conversation_id = r.conversation_id and t.ordinal = r.call_ordinal
        where r.user_id = u.id) as results,
       (select json_agg(json_build_array(t.title, t.completed, t.completed_at is not null) order by t.title) from todo_chat.tasks t where t.user_id = u.id) as tasks
     from unnest($1::uuid[]) as u(id)`,
    [ids],
  );
  const stored = new Map(rows.map((row) => [row.user_id, row]));
  let mismatches = 0;
  const differences: string[] = [];
  for (const w of written) {
    const c = w.conversation?.id;
    const expected = {
      present: w.ensured,
      conversations: w.conversation ? [[w.conversation.id, w.conversation.title]] : null,
      messages: w.messages.length ? w.messages.map((m, i) => [c, i + 1, 'chat', ...shapeOf(m)]) : null,
      calls: w.messages.length
        ? w.messages.flatMap((m, i) => (m.toolCalls ?? []).map((call) => [c, i + 1, call.id, call.name, call.arguments]))
        : null,
      results: w.messages.length ? w.messages.flatMap((m) => (m.toolCallId ? [[c, m.toolCallId, m.content, m.toolCallId]] : [])) : null,
      tasks: w.tasks.length ? [...w.tasks].sort((x, y) => (x.title < y.title ? -1 : 1)).map((t) => [t.title, t.completed, t.completed]) : null,
    };
    const row = stored.get(w.id);
    const actual = row && {
      present: row.present,
      conversations: row.conversations,
      messages: row.messages,
      calls: row.calls,
      results: row.results,
      tasks: row.tasks,
    };
    const historyExact = w.history === undefined || isDeepStrictEqual(w.history, w.messages.map(shapeOf));
    if (!isDeepStrictEqual(actual, expected) || !historyExact) {
      mismatches++;
      if (differences.length < 3) {
        const parts = Object.keys(expected).filter((k) => !isDeepStrictEqual(actual?.[k as keyof typeof expected], expected[k as keyof typeof expected]));
        if (!historyExact) parts.push('the history read back');
        differences.push(
          `user ${w.index}: differs from what the user wrote in ${parts.join(', ')}\n` +
            `  expected ${JSON.stringify(expected)}\n  stored   ${JSON.stringify(actual)}`,
        );
      }
    }
  }
  for (const d of differences) log(d);
  log(`check: ${written.length - mismatches} of ${written.length} users hold exactly what they wrote (conversation, ${TURNS * 4} messages in order with their tool calls, the audit's calls and results, 2 tasks and their state), and read it back exactly${mismatches ? `; ${mismatches} do not` : ''}`);
  await admin.query('delete from todo_chat.users where id = any ($1::uuid[])', [ids]);
  await admin.end();

  const met = errors.length === 0 && mismatches === 0 && overall.p99Ms < P99_TARGET_MS;
  log(`target (p99 per call < ${P99_TARGET_MS} ms, zero errors, every user exact): ${met ? 'met' : 'NOT met'}`);
  const result = {
    date: new Date().toISOString(),
    users: count,
    pool: poolSize,
    thinkMs,
    seconds: Number(seconds.toFixed(1)),
    callsPerSecond: Number((all.length / seconds).toFixed(0)),
    maxActiveUsers,
    maxCallsInFlight: maxInFlight,
    errors: errors.length,
    ...overall,
    perOperation,
    statements,
    mismatchedUsers: mismatches,
    target: { p99BelowMs: P99_TARGET_MS, met },
  };
  const base = path.join(packageRoot, 'bench', 'results', `users-${count}${argValue('--think-ms') === undefined ? '' : `-think-${thinkMs}`}`);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(`${base}.md`, renderUsers(result, argValue('--note') ?? ''));
  log(`written: ${path.relative(process.cwd(), base)}.json, .md`);
  if (errors.length > 0 || mismatches > 0) process.exitCode = 1;
}

function renderUsers(r: {
  date: string;
  users: number;
  pool: number;
  thinkMs: number;
  seconds: number;
  callsPerSecond: number;
  maxActiveUsers: number;
  maxCallsInFlight: number;
  errors: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perOperation: Record<string, { calls: number; p50Ms: number; p99Ms: number; maxMs: number; errors: number }>;
  statements: { calls: number; p50Ms: number; p99Ms: number; maxMs: number };
  mismatchedUsers: number;
  target: { p99BelowMs: number; met: boolean };
}, note: string): string {
  const lines = [
    `# ${r.users.toLocaleString('en')} users at once (\`npm run bench -- --users ${r.users}\`)`,
    '',
    `- date: ${r.date}; ${r.seconds} s; one store, a pool of ${r.pool}; think time uniform, mean ${r.thinkMs} ms`,
    ...(note ? [`- note: ${note}`] : []),
    `- users active at once: up to ${r.maxActiveUsers}; calls in flight: up to ${r.maxCallsInFlight}; ${r.calls} calls (${r.callsPerSecond}/s)`,
    `- errors: **${r.errors}**; users whose stored rows or history differ from what they wrote: **${r.mismatchedUsers}** of ${r.users}`,
    `- target, p99 per call < ${r.target.p99BelowMs} ms with zero errors: **${r.target.met ? 'met' : 'not met'}** (p99 ${r.p99Ms} ms)`,
    '',
    '| call | calls | p50 ms | p99 ms | max ms | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    `| all | ${r.calls} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.errors} |`,
    ...Object.entries(r.perOperation).map(([op, f]) => `| \`${op}\` | ${f.calls} | ${f.p50Ms} | ${f.p99Ms} | ${f.maxMs} | ${f.errors} |`),
    `| each statement alone (onQuery: no wait for a connection, no begin or commit) | ${r.statements.calls} | ${r.statements.p50Ms} | ${r.statements.p99Ms} | ${r.statements.maxMs} | |`,
    '',
  ];
  return lines.join('\n');
}

function countBy(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
