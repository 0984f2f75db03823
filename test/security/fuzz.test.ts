/**
 * Property-based fuzzing (fast-check) of every write of the public API:
 * tasks.create/update, conversations.create/rename, messages.append/appendTurn
 * (with tool calls). Inputs: arbitrary Unicode (NUL, lone surrogates, RTL,
 * combining marks, emoji and other 4-byte characters), lengths around every
 * limit of src/limits.ts, deeply nested and huge tool_calls JSON, odd numbers
 * (-0, NaN, Infinity, 1e308, 5e-324, unsafe integers, bigint).
 *
 * The invariant, checked against an oracle written here (independent of the
 * zod schemas):
 *   - an input the oracle accepts is stored and read back identically (after
 *     the documented normalisation: titles trimmed, ids lower-cased,
 *     JSON as JSON);
 *   - an input the oracle refuses is a ValidationError, and the user's rows
 *     are exactly as before (no partial write, a whole turn or nothing);
 *   - no other error type, ever; nothing returned or changed belongs to
 *     another user.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedVictim, type Victim } from '../helpers/security.js';
import { LIMITS, ValidationError, type Store, type Transaction } from '../../src/index.js';
import { MAX_TURN_MESSAGES } from '../../src/repositories/messages.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;
let victimAtStart: unknown;

/** Seeds for reproducibility: TCDB_FUZZ_SEED=<n> to replay a failure that fast-check reports. */
const seed = process.env.TCDB_FUZZ_SEED ? Number(process.env.TCDB_FUZZ_SEED) : undefined;
/** fc.assert with numRuns (times TCDB_FUZZ_RUNS_SCALE) and the failure report cut short: a 64 KiB counterexample would flood the log. */
async function check<Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  tally.stored = 0;
  tally.refused = 0;
  try {
    await fc.assert(property, { numRuns: Math.ceil(Number(process.env.TCDB_FUZZ_RUNS_SCALE ?? 1) * numRuns), ...(seed === undefined ? {} : { seed }) });
  } catch (error) {
    const failure = error as Error;
    if (failure.message.length > 4000) {
      const short = `${failure.message.slice(0, 2500)}\n...\n${failure.message.slice(-1500)}`;
      failure.stack = failure.stack?.replace(failure.message, short);
      failure.message = short;
    }
    throw failure;
  }
  // Both sides of the invariant were exercised: a generator that only ever made invalid (or only valid) inputs proves little.
  const total = tally.stored + tally.refused;
  console.log(`fuzz: ${tally.stored} stored, ${tally.refused} refused`);
  assert.ok(tally.stored >= total * 0.1 && tally.refused >= total * 0.1, `stored ${tally.stored}, refused ${tally.refused}: both should be common`);
}

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  const [victimId] = await db.createUsers(1);
  victim = await seedVictim(store, victimId!);
  victimAtStart = await rowsOf(victim.userId);
});

/* ------------------------------------------------------------------------ */
/* The oracle                                                                */
/* ------------------------------------------------------------------------ */

const INVALID = Symbol('invalid');
type Verdict<T> = T | typeof INVALID;
const ABSENT = Symbol('absent');

/** What a text field stores, or INVALID: no NUL, no lone surrogate, min..max code points (after trim for titles). */
function text(value: unknown, limits: { min?: number; max: number }, trim = false): Verdict<string> {
  if (typeof value !== 'string') return INVALID;
  const v = trim ? value.trim() : value;
  if (v.includes('\u0000') || !v.isWellFormed()) return INVALID;
  const length = [...v].length;
  if (length < (limits.min ?? 0) || length > limits.max) return INVALID;
  return v;
}

function id(value: unknown): Verdict<string> {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? value.toLowerCase() : INVALID;
}

/** A JSON value that comes back from jsonb identical: finite numbers but -0, storable strings and keys, plain objects, at most maxDepth nested containers. */
function jsonOk(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value === 'string') return text(value, { max: Infinity }) !== INVALID;
  if (typeof value !== 'object') return false;
  if (depth > LIMITS.toolCalls.maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonOk(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) return false;
  return Object.keys(value).every((key) => text(key, { max: Infinity }) !== INVALID && jsonOk((value as Record<string, unknown>)[key], depth + 1));
}

function toolCalls(value: unknown): Verdict<unknown[]> {
  if (!Array.isArray(value) || value.length > LIMITS.toolCalls.maxCount) return INVALID;
  const ids = new Set<string>();
  for (const call of value) {
    if (typeof call !== 'object' || call === null || Array.isArray(call)) return INVALID;
    const keys = Object.keys(call).sort();
    if (keys.join() !== 'arguments,id,name') return INVALID;
    const { id: callId, name, arguments: args } = call as Record<string, unknown>;
    if (text(callId, LIMITS.toolCallId) === INVALID || ids.has(callId as string)) return INVALID;
    ids.add(callId as string);
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) return INVALID;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) return INVALID;
  }
  if (!jsonOk(value, 1)) return INVALID;
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > LIMITS.toolCalls.maxJsonBytes) return INVALID;
  return JSON.parse(JSON.stringify(value)) as unknown[];
}

/** Builds an object from fields, leaving out the ABSENT ones (a present key always has a value, possibly null). */
function build(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ABSENT));
}

/* ------------------------------------------------------------------------ */
/* Arbitraries                                                               */
/* ------------------------------------------------------------------------ */

/** Mostly `valid`, sometimes `invalid`: each field is usually fine, so that whole inputs are valid often enough. */
function mostly<T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>, odds = 8): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: odds, arbitrary: valid as fc.Arbitrary<T | U> }, { weight: 1, arbitrary: invalid as fc.Arbitrary<T | U> });
}

/** Characters PostgreSQL stores exactly but that trip up naive code: RTL and bidi marks, combining marks, ZWJ emoji, 4-byte characters, quotes, white space. */
const SPECIALS = [
  '\u202e', '\u200f', '\u061c', '\u0301', '\u200d', '😀', '👩‍👩‍👧', '𝄞', '\u{10ffff}', '\ufeff', '\u00a0', '\u3000', ' ', '\t', '\n', '\r\n',
  '\u2028', '\u0085', '\u180e', "'", '"', '\\', '$$', '--', '/*', '*/', '%', '_', 'ß', 'İ', 'ﬃ', 'ǅ', 'مرحبا', 'שלום', '中文', '\u0001', '\u007f',
];
/** What PostgreSQL text cannot hold: NUL, lone surrogates (high, low, reversed pair, a high one at the very end). */
const POISON = ['\u0000', '\ud800', '\udfff', '\udc00\ud800', '\ud83d'];
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const cleanPiece = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((t) => t.replaceAll('\u0000', '')) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIALS) },
);
const cleanText = fc.array(cleanPiece, { maxLength: 6 }).map((parts) => parts.join(''));
/** A text with something unstorable in it: a poison character at some position, or raw UTF-16 code units. */
const poisonedText = fc.oneof(
  fc.tuple(cleanText, fc.constantFrom(...POISON), fc.nat()).map(([t, poison, at]) => {
    const points = [...t];
    const i = points.length ? at % (points.length + 1) : 0;
    return [...points.slice(0, i), poison, ...points.slice(i)].join('');
  }),
  fc.string({ unit: codeUnit, minLength: 1, maxLength: 8 }),
);
const FILLS = ['a', 'é', 'e\u0301', '😀', '中', '\u202e', 'x '];

/** About `limit` code points (limit-2 .. limit+2), in various characters, maybe padded with white space. */
function nearLimit(limit: number) {
  return fc
    .record({
      n: fc.integer({ min: Math.max(0, limit - 2), max: limit + 2 }),
      fill: fc.constantFrom(...FILLS),
      pad: fc.constantFrom('', ' ', '\u3000\t', '\n\u00a0'),
    })
    .map(({ n, fill, pad }) => {
      const points = [...fill];
      return pad + Array.from({ length: n }, (_, i) => points[i % points.length]).join('') + pad;
    });
}
/** A text for a field limited to `limit` code points: mostly storable, often right at the limit, sometimes poisoned or empty. */
const textFor = (limit: number) =>
  fc.oneof(
    { weight: 6, arbitrary: cleanText },
    { weight: 3, arbitrary: nearLimit(limit) },
    { weight: 1, arbitrary: poisonedText },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u3000') },
  );
const notAString = fc.constantFrom<unknown>(null, 42, true, ['x'], { toString: () => 'x' });

const oddNumber = mostly(
  fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.integer(),
    fc.constantFrom(1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e21, 0.1, 123456789.12345678),
  ),
  fc.constantFrom(-0, NaN, Infinity, -Infinity),
  20,
);
const jsonKey = mostly(
  fc.oneof(fc.string({ maxLength: 8 }).map((k) => k.replaceAll('\u0000', '')), fc.constantFrom('__proto__', 'constructor', '', 'user_id', '😀', 'a'.repeat(300), '\u202e')),
  fc.constantFrom('\u0000', '\ud800', 'k\udfff'),
  40,
);
const jsonLeaf = mostly(
  fc.oneof(fc.constant(null), fc.boolean(), oddNumber, cleanText),
  fc.oneof(poisonedText, fc.constantFrom<unknown>(undefined, BigInt(1) << BigInt(70), new Date(0), Symbol('s'))),
  60,
);
const { json } = fc.letrec<{ json: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', maxDepth: 6 }, jsonLeaf, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(jsonKey, tie('json'), { maxKeys: 4 }),
}));

/** Arguments nested `depth` containers deep: the calls array is level 1, a call 2, its arguments 3. */
const deepArguments = fc.record({ depth: fc.integer({ min: 26, max: 32 }), arrays: fc.boolean() }).map(({ depth, arrays }) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { d: value };
  return { nested: value };
});

/** Arguments whose calls JSON is `bytes` long (around the 64 KiB limit): one long string, or many small numbers (worst case for jsonb size). */
function hugeArgumentsOf({ delta, kind, callId }: { delta: number; kind: 'string' | 'zeros' | 'emoji'; callId: string }): Record<string, unknown> {
    const target = LIMITS.toolCalls.maxJsonBytes + delta;
    const overhead = (args: unknown) => Buffer.byteLength(JSON.stringify([{ id: callId, name: 'big', arguments: args }]), 'utf8');
    if (kind === 'zeros') {
      const base = overhead({ a: [] });
      const count = Math.floor((target - base + 1) / 2);
      const args: { a: number[]; p?: string } = { a: Array(count).fill(0) };
      const missing = target - overhead(args);
      if (missing > 0) args.p = 'x'.repeat(Math.max(0, missing - 7));
      return args;
    }
    const unit = kind === 'emoji' ? '😀' : 'x';
    const unitBytes = Buffer.byteLength(unit, 'utf8');
    const base = overhead({ s: '' });
    const s = unit.repeat(Math.floor((target - base) / unitBytes)) + 'x'.repeat((target - base) % unitBytes);
    return { s };
}
const hugeArguments = fc
  .record({ delta: fc.integer({ min: -3, max: 3 }), kind: fc.constantFrom<'string' | 'zeros' | 'emoji'>('string', 'zeros', 'emoji'), callId: fc.constant('huge') })
  .map(hugeArgumentsOf);

const callId = mostly(
  fc.oneof({ weight: 3, arbitrary: cleanText.filter((t) => t.length > 0) }, { weight: 1, arbitrary: nearLimit(LIMITS.toolCallId.max) }),
  fc.oneof(poisonedText, notAString, fc.constant('')),
  12,
);
const toolCall = fc
  .record({
    id: callId,
    name: mostly(fc.constantFrom('create_task', 'search.web', 'a:b-c_d', 'x'.repeat(128), 'Z9'), fc.constantFrom('', 'bad name', 'x'.repeat(129), 'ü', 'a\u0000'), 20),
    arguments: fc.oneof(
      { weight: 12, arbitrary: fc.dictionary(jsonKey, json, { maxKeys: 5 }) },
      { weight: 1, arbitrary: json },
      { weight: 1, arbitrary: deepArguments },
    ),
    extra: fc.oneof({ weight: 30, arbitrary: fc.constant<unknown>(ABSENT) }, { weight: 1, arbitrary: fc.constant<unknown>('user') }),
  })
  .map(({ id: callId_, name, arguments: args, extra }) => build({ id: callId_, name, arguments: args, userId: extra }));

const toolCallsArb = fc.oneof(
  { weight: 12, arbitrary: fc.array(toolCall, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 63, max: 65 }).map((n) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, name: 'n', arguments: {} }))) },
  { weight: 1, arbitrary: hugeArguments.map((args) => [{ id: 'huge', name: 'big', arguments: args }]) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], {}, 'calls', [{ id: 'dup', name: 'n', arguments: {} }, { id: 'dup', name: 'n', arguments: {} }]) },
);

/* ------------------------------------------------------------------------ */
/* Running one input                                                         */
/* ------------------------------------------------------------------------ */

/**
 * A digest of every row a user owns (count and md5 of the rows' text, per table), computed by the
 * server as superuser: equal before and after a refused write means no partial write.
 */
async function rowsOf(userId: string): Promise<unknown> {
  const { rows } = await db.admin.query(
    `select
       (select count(*) || ':' || md5(coalesce(string_agg(u::text, '|' order by u.id), '')) from todo_chat.users u where u.id = $1) as users,
       (select count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from todo_chat.tasks t where t.user_id = $1) as tasks,
       (select count(*) || ':' || md5(coalesce(string_agg(c::text, '|' order by c.id), '')) from todo_chat.conversations c where c.user_id = $1) as conversations,
       (select count(*) || ':' || md5(coalesce(string_agg(m::text, '|' order by m.seq), '')) from todo_chat.messages m where m.user_id = $1) as messages`,
    [userId],
  );
  return rows[0];
}

function describeInput(input: unknown): string {
  const text = (() => {
    try {
      return JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    } catch {
      return String(input);
    }
  })();
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length} chars)` : text;
}

/**
 * Runs one write as `userId`. When the oracle says INVALID it must be a ValidationError with the
 * user's rows untouched; otherwise it must succeed and `verify` checks what was stored.
 */
const tally = { stored: 0, refused: 0 };

async function attempt<R>(
  userId: string,
  expected: unknown,
  input: unknown,
  run: (tx: Transaction) => Promise<R>,
  verify: (result: R) => Promise<void>,
): Promise<void> {
  const before = await rowsOf(userId);
  let result: R;
  try {
    result = await store.withUser(userId, run);
  } catch (error) {
    assert.ok(
      error instanceof ValidationError,
      `only ValidationError may refuse an input, got ${(error as Error)?.name}: ${(error as Error)?.message} for ${describeInput(input)}`,
    );
    assert.equal(
      expected,
      INVALID,
      `a valid input was refused (${error.message}${error.constraint ? `, constraint ${error.constraint}` : ''}): ${describeInput(input)}`,
    );
    assert.deepEqual(await rowsOf(userId), before, 'a refused write changed nothing');
    tally.refused++;
    return;
  }
  tally.stored++;
  assert.notEqual(expected, INVALID, `an invalid input was accepted: ${describeInput(input)}`);
  assert.ok(!JSON.stringify(result ?? null).includes(victim.marker), "the result holds another user's data");
  await verify(result);
}

/* ------------------------------------------------------------------------ */
/* Properties                                                                */
/* ------------------------------------------------------------------------ */

const idInput = mostly(fc.constantFrom<unknown>(ABSENT, ABSENT, 'random', 'RANDOM'), fc.constantFrom<unknown>('', 'not-a-uuid', 42, null), 10);
const extraKey = fc.oneof({ weight: 15, arbitrary: fc.constant<unknown>(ABSENT) }, { weight: 1, arbitrary: fc.constant<unknown>('someone else') });
function concreteId(kind: unknown): unknown {
  if (kind === 'random') return crypto.randomUUID();
  if (kind === 'RANDOM') return crypto.randomUUID().toUpperCase();
  return kind;
}

describe('fuzzing every write of the public API', () => {
  test('tasks.create', async () => {
    const [user] = await db.createUsers(1);
    await check(
      fc.asyncProperty(
        fc.record({
          id: idInput,
          title: mostly(textFor(LIMITS.taskTitle.max), notAString, 15),
          description: mostly(fc.oneof(fc.constant(ABSENT), textFor(LIMITS.taskDescription.max)), notAString, 15),
          completed: mostly(fc.constantFrom<unknown>(ABSENT, true, false), fc.constantFrom<unknown>('true', 1, null), 15),
          extra: extraKey,
        }),
        async (fields) => {
          const input = build({ ...fields, id: fields.id === ABSENT ? ABSENT : concreteId(fields.id), userId: fields.extra, extra: ABSENT });
          const title = text(input.title, LIMITS.taskTitle, true);
          const description = 'description' in input ? text(input.description, LIMITS.taskDescription) : '';
          const completed = 'completed' in input ? (typeof input.completed === 'boolean' ? input.completed : INVALID) : false;
          const taskId = 'id' in input ? id(input.id) : undefined;
          const valid = ![title, description, completed, taskId].includes(INVALID) && !('userId' in input);
          const expected = valid ? { title, description, completed } : INVALID;
          await attempt(user!, expected, input, (tx) => tx.tasks.create(input as never), async (task) => {
            assert.deepEqual({ title: task.title, description: task.description, completed: task.completed }, expected);
            if (taskId !== undefined) assert.equal(task.id, taskId);
            assert.equal(task.completedAt !== null, completed);
            const stored = await db.admin.query('select user_id, title, description, completed from todo_chat.tasks where id = $1', [task.id]);
            assert.deepEqual(stored.rows, [{ user_id: user, ...(expected as object) }]);
            assert.deepEqual(await store.withUser(user!, (tx) => tx.tasks.get(task.id)), task);
          });
        },
      ),
      400,
    );
  });

  test('tasks.update', async () => {
    const [user] = await db.createUsers(1);
    const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'start', description: 'start' }));
    await check(
      fc.asyncProperty(
        fc.record({
          title: mostly(fc.oneof(fc.constant(ABSENT), textFor(LIMITS.taskTitle.max)), notAString, 15),
          description: mostly(fc.oneof(fc.constant(ABSENT), textFor(LIMITS.taskDescription.max)), notAString, 15),
          completed: mostly(fc.constantFrom<unknown>(ABSENT, true, false), fc.constantFrom<unknown>('false', 0), 15),
          expectedVersion: mostly(fc.constantFrom<unknown>(ABSENT, ABSENT, 'current'), fc.constantFrom<unknown>(0, -1, 1.5, NaN, Infinity, 2 ** 31, '1', null), 10),
          extra: extraKey,
        }),
        async (fields) => {
          const current = (await db.admin.query('select title, description, completed, version from todo_chat.tasks where id = $1', [task.id])).rows[0];
          const input = build({
            ...fields,
            expectedVersion: fields.expectedVersion === 'current' ? current.version : fields.expectedVersion,
            user_id: fields.extra,
            extra: ABSENT,
          });
          const title = 'title' in input ? text(input.title, LIMITS.taskTitle, true) : current.title;
          const description = 'description' in input ? text(input.description, LIMITS.taskDescription) : current.description;
          const completed = 'completed' in input ? (typeof input.completed === 'boolean' ? input.completed : INVALID) : current.completed;
          const version = 'expectedVersion' in input ? (input.expectedVersion === current.version ? current.version : INVALID) : current.version;
          const patches = ['title', 'description', 'completed'].some((k) => k in input);
          const valid = patches && ![title, description, completed, version].includes(INVALID) && !('user_id' in input);
          const expected = valid ? { title, description, completed } : INVALID;
          await attempt(user!, expected, input, (tx) => tx.tasks.update(task.id, input as never), async (updated) => {
            assert.deepEqual({ title: updated.title, description: updated.description, completed: updated.completed }, expected);
            const stored = await db.admin.query('select user_id, title, description, completed from todo_chat.tasks where id = $1', [task.id]);
            assert.deepEqual(stored.rows, [{ user_id: user, ...(expected as object) }]);
          });
        },
      ),
      300,
    );
  });

  test('conversations.create and conversations.rename', async () => {
    const [user] = await db.createUsers(1);
    const conversation = await store.withUser(user!, (tx) => tx.conversations.create({ title: 'start' }));
    const titleArb = fc.oneof(
      { weight: 12, arbitrary: textFor(LIMITS.conversationTitle.max) },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: notAString },
    );
    await check(
      fc.asyncProperty(
        fc.record({ id: idInput, title: fc.oneof(fc.constant(ABSENT), titleArb), extra: extraKey }),
        async (fields) => {
          const input = build({ id: fields.id === ABSENT ? ABSENT : concreteId(fields.id), title: fields.title, user_id: fields.extra });
          const title = !('title' in input) || input.title === null ? null : text(input.title, LIMITS.conversationTitle, true);
          const conversationId = 'id' in input ? id(input.id) : undefined;
          const expected = title === INVALID || conversationId === INVALID || 'user_id' in input ? INVALID : { title, status: 'active' };
          await attempt(user!, expected, input, (tx) => tx.conversations.create(input as never), async (created) => {
            assert.deepEqual({ title: created.title, status: created.status }, expected);
            if (conversationId !== undefined) assert.equal(created.id, conversationId);
            const stored = await db.admin.query('select user_id, title from todo_chat.conversations where id = $1', [created.id]);
            assert.deepEqual(stored.rows, [{ user_id: user, title }]);
          });
        },
      ),
      250,
    );
    await check(
      fc.asyncProperty(titleArb, async (rawTitle) => {
        const title = rawTitle === null ? null : text(rawTitle, LIMITS.conversationTitle, true);
        await attempt(user!, title, rawTitle, (tx) => tx.conversations.rename(conversation.id, rawTitle as string), async (renamed) => {
          assert.equal(renamed.title, title);
          const stored = await db.admin.query('select user_id, title from todo_chat.conversations where id = $1', [conversation.id]);
          assert.deepEqual(stored.rows, [{ user_id: user, title }]);
        });
      }),
      250,
    );
  });

  /* Messages: the oracle knows which tool calls the conversation holds, so that it can tell a tool result that answers one. */

  interface ExpectedMessage {
    role: string;
    content: string;
    toolCalls: unknown[] | null;
    toolCallId: string | null;
    id?: string;
  }

  /** The oracle for one message: its stored form, or INVALID (shape, limits, or a tool result answering no earlier call). */
  function expectMessage(message: Record<string, unknown>, calls: Set<string>): Verdict<ExpectedMessage> {
    const allowed: Record<string, string[]> = {
      user: ['id', 'role', 'content'],
      system: ['id', 'role', 'content'],
      assistant: ['id', 'role', 'content', 'toolCalls'],
      tool: ['id', 'role', 'content', 'toolCallId'],
    };
    const role = message.role;
    if (typeof role !== 'string' || !(role in allowed)) return INVALID;
    if (Object.keys(message).some((key) => !allowed[role]!.includes(key))) return INVALID;
    const messageId = 'id' in message ? id(message.id) : undefined;
    if (messageId === INVALID) return INVALID;
    const content = 'content' in message ? text(message.content, LIMITS.messageContent) : role === 'assistant' ? '' : INVALID;
    if (content === INVALID) return INVALID;
    let calls_: unknown[] | null = null;
    if (role === 'assistant' && 'toolCalls' in message && message.toolCalls !== null) {
      const parsed = toolCalls(message.toolCalls);
      if (parsed === INVALID) return INVALID;
      calls_ = parsed;
    }
    let toolCallId: string | null = null;
    if (role === 'tool') {
      const answered = text(message.toolCallId, LIMITS.toolCallId);
      if (answered === INVALID || !calls.has(answered)) return INVALID;
      toolCallId = answered;
    }
    return { role, content, toolCalls: calls_, toolCallId, ...(messageId ? { id: messageId } : {}) };
  }

  const messageArb = (knownCalls: () => string[]) =>
    fc
      .record({
        role: mostly(fc.constantFrom<unknown>('user', 'assistant', 'assistant', 'tool', 'tool', 'system'), fc.constantFrom<unknown>('admin', 'USER', ''), 15),
        id: mostly(fc.constantFrom<unknown>(ABSENT, ABSENT, 'random'), fc.constant<unknown>('not-a-uuid'), 20),
        content: mostly(textFor(LIMITS.messageContent.max), fc.oneof(fc.constant<unknown>(ABSENT), notAString), 15),
        toolCalls: fc.oneof({ weight: 2, arbitrary: fc.constant(ABSENT) }, { weight: 3, arbitrary: toolCallsArb }),
        toolCallId: fc.oneof(
          { weight: 1, arbitrary: fc.constant<unknown>(ABSENT) },
          { weight: 6, arbitrary: fc.constant<unknown>('known') },
          { weight: 2, arbitrary: callId },
        ),
        pick: fc.nat(),
      })
      .map(({ role, id: idKind, content, toolCalls: calls, toolCallId, pick }) => {
        const known = knownCalls();
        const answer = toolCallId === 'known' ? (known.length ? known[pick % known.length] : 'none yet') : toolCallId;
        return build({
          role,
          id: idKind === ABSENT ? ABSENT : concreteId(idKind),
          content,
          // tool calls on the assistant mostly, a tool call id on the tool mostly, sometimes on the wrong role
          toolCalls: role === 'assistant' || pick % 13 === 0 ? calls : ABSENT,
          toolCallId: role === 'tool' || pick % 17 === 0 ? answer : ABSENT,
        });
      });

  function checkStored(stored: { role: string; content: string; toolCalls: unknown; toolCallId: string | null; id: string }[], expected: ExpectedMessage[]) {
    assert.deepEqual(
      stored.map((m) => ({ role: m.role, content: m.content, toolCalls: m.toolCalls, toolCallId: m.toolCallId })),
      expected.map((m) => ({ role: m.role, content: m.content, toolCalls: m.toolCalls, toolCallId: m.toolCallId })),
    );
    expected.forEach((m, i) => {
      if (m.id) assert.equal(stored[i]!.id, m.id);
    });
  }

  async function messagesFuzz(turns: boolean): Promise<void> {
    const [user] = await db.createUsers(1);
    const conversation = await store.withUser(user!, async (tx) => {
      const c = await tx.conversations.create({});
      await tx.messages.append(c.id, {
        role: 'assistant',
        toolCalls: [
          { id: 'c1', name: 'create_task', arguments: {} },
          { id: '\u202e"\'; --', name: 'x', arguments: { n: 1 } },
        ],
      });
      return c;
    });
    const calls = new Set<string>(['c1', '\u202e"\'; --']);
    let count = 1;
    const arb = turns
      ? fc
          .oneof({ weight: 20, arbitrary: fc.array(messageArb(() => [...calls]), { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant([]) })
          .map((messages) => {
            // Most tool results of a turn answer the call an earlier assistant message of the same turn made.
            let lastCall: unknown;
            return messages.map((message, i) => {
              const first = Array.isArray(message.toolCalls) ? (message.toolCalls[0] as { id?: unknown } | undefined) : undefined;
              if (message.role === 'assistant' && first) lastCall = first.id;
              return message.role === 'tool' && lastCall !== undefined && i % 3 !== 0 ? { ...message, toolCallId: lastCall } : message;
            });
          })
      : messageArb(() => [...calls]).map((m) => [m]);
    await check(
      fc.asyncProperty(arb, async (messages) => {
        // The oracle walks the turn in order: a tool result may answer a call made earlier in the same turn.
        const known = new Set(calls);
        const expected: ExpectedMessage[] = [];
        let valid = messages.length >= 1 && messages.length <= MAX_TURN_MESSAGES;
        for (const message of messages) {
          const verdict = expectMessage(message, known);
          if (verdict === INVALID) {
            valid = false;
            break;
          }
          expected.push(verdict);
          for (const call of verdict.toolCalls ?? []) known.add((call as { id: string }).id);
        }
        const run = turns
          ? (tx: Transaction) => tx.messages.appendTurn(conversation.id, messages as never)
          : async (tx: Transaction) => [await tx.messages.append(conversation.id, messages[0] as never)];
        await attempt(user!, valid ? expected : INVALID, messages, run, async (stored) => {
          checkStored(stored, expected);
          // Read back through the API (the newest page) and as superuser (exactly the turn was added, as this user).
          const page = await store.withUser(user!, (tx) => tx.messages.history(conversation.id, { limit: expected.length }));
          checkStored(page.items.slice(-expected.length), expected);
          const { rows } = await db.admin.query(
            `select user_id, id, role, content, tool_calls as "toolCalls", tool_call_id as "toolCallId"
             from todo_chat.messages where conversation_id = $1 order by seq offset $2`,
            [conversation.id, count],
          );
          checkStored(rows, expected);
          assert.ok(rows.every((row) => row.user_id === user));
          count += expected.length;
          for (const id of known) calls.add(id);
        });
      }),
      turns ? 300 : 400,
    );
  }

  test('messages.append (every role, tool calls, tool results)', () => messagesFuzz(false));

  test('messages.appendTurn (a whole turn or nothing)', () => messagesFuzz(true));

  test('tool calls right at the 64 KiB JSON limit, in every shape (including the worst case for jsonb size), are stored; one byte more is refused', async () => {
    const [user] = await db.createUsers(1);
    const conversation = await store.withUser(user!, (tx) => tx.conversations.create({}));
    for (const kind of ['string', 'zeros', 'emoji'] as const) {
      for (const delta of [-1, 0, 1]) {
        const calls = [{ id: 'huge', name: 'big', arguments: hugeArgumentsOf({ delta, kind, callId: 'huge' }) }];
        const bytes = Buffer.byteLength(JSON.stringify(calls), 'utf8');
        const expected = toolCalls(calls);
        assert.equal(expected === INVALID, bytes > LIMITS.toolCalls.maxJsonBytes, `${kind} ${delta}: ${bytes} bytes`);
        await attempt(user!, expected, `${kind} tool calls of ${bytes} bytes`, (tx) => tx.messages.append(conversation.id, { role: 'assistant', toolCalls: calls as never }), async (stored) => {
          assert.deepEqual(stored.toolCalls, expected);
          const { rows } = await db.admin.query('select tool_calls from todo_chat.messages where id = $1', [stored.id]);
          assert.deepEqual(rows[0].tool_calls, expected);
        });
      }
    }
  });

  test('messages.appendTurn: the turn length limit, and one bad message anywhere writes nothing (every combination)', async () => {
    const [user] = await db.createUsers(1);
    const conversation = await store.withUser(user!, (tx) => tx.conversations.create({}));
    let count = 0;
    for (const length of [1, MAX_TURN_MESSAGES - 1, MAX_TURN_MESSAGES, MAX_TURN_MESSAGES + 1]) {
      for (const badAt of [undefined, 0, Math.floor(length / 2), length - 1]) {
        for (const badContent of badAt === undefined ? [undefined] : ['\u0000', 'x'.repeat(LIMITS.messageContent.max + 1), 42, '\ud800']) {
          const messages: Record<string, unknown>[] = Array.from({ length }, (_, i) => ({ role: 'user', content: `m${i}` }));
          if (badAt !== undefined) messages[badAt] = { role: 'user', content: badContent };
          const valid = length <= MAX_TURN_MESSAGES && badAt === undefined;
          const expected = valid ? messages.map((m) => ({ role: 'user', content: m.content as string, toolCalls: null, toolCallId: null })) : INVALID;
          await attempt(user!, expected, `${length} messages, bad at ${badAt}`, (tx) => tx.messages.appendTurn(conversation.id, messages as never), async (stored) => {
            checkStored(stored, expected as ExpectedMessage[]);
            count += length;
            const { rows } = await db.admin.query('select count(*)::int as n from todo_chat.messages where conversation_id = $1', [conversation.id]);
            assert.equal(rows[0].n, count);
          });
        }
      }
    }
    assert.equal(count, 1 + (MAX_TURN_MESSAGES - 1) + MAX_TURN_MESSAGES, 'the three valid turns were stored, nothing else');
  });

  test("the other user's rows did not change during all of the above", async () => {
    assert.deepEqual(await rowsOf(victim.userId), victimAtStart);
    assert.match(String((victimAtStart as { messages: string }).messages), /^5:/, 'the victim has data to lose');
  });
});
