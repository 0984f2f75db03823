/**
 * Property-based fuzzing (fast-check) of what the SDK integrations and usage
 * per turn add: tx.usage.record and total (every query of sql/usage.sql),
 * PostgresSession (addItems in appends of any size, getItems with any
 * limit, popItem, clearSession), saveUIMessages/loadUIMessages (any edit of
 * a chat between two saves), and the todo tools of both SDKs with arbitrary
 * arguments.
 *
 * Each is checked against a model kept here, written from what the library
 * documents and independent of its code: an input the model accepts is
 * stored and read back as the model says (usage sums exact, histories item
 * for item); one it refuses is a ValidationError (a ConflictError or a
 * NotFoundError where it says so) and the user's rows are exactly as before;
 * a tool never throws for the model's mistakes. The victim's rows are
 * compared at the end.
 *
 * TCDB_FUZZ_SEED=<n> replays a run; TCDB_FUZZ_RUNS_SCALE=<x> multiplies the
 * number of runs of every property.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { AgentInputItem } from '@openai/agents-core';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedVictim, type Victim } from '../helpers/security.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { ConflictError, NotFoundError, ValidationError, type Store, type UsageRecord } from '../../src/index.js';
import { PostgresSession, createTodoTools as agentsTools } from '../../src/agents/index.js';
import { createTodoTools as aiSdkTools, loadUIMessages, saveUIMessages, type UIMessageLike } from '../../src/ai-sdk/index.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;
let victimAtStart: unknown;

const seed = process.env.TCDB_FUZZ_SEED ? Number(process.env.TCDB_FUZZ_SEED) : undefined;
const runs = (n: number) => Math.ceil(Number(process.env.TCDB_FUZZ_RUNS_SCALE ?? 1) * n);
const tally = { stored: 0, refused: 0 };

async function check<Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  tally.stored = 0;
  tally.refused = 0;
  await fc.assert(property, { numRuns: runs(numRuns), endOnFailure: true, ...(seed === undefined ? {} : { seed }) });
  const total = tally.stored + tally.refused;
  console.log(`fuzz: ${tally.stored} stored, ${tally.refused} refused`);
  assert.ok(tally.stored >= total * 0.1 && tally.refused >= total * 0.05, `stored ${tally.stored}, refused ${tally.refused}: both should be common`);
}

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  victim = await seedVictim(store, await db.createUser());
  victimAtStart = await snapshotRows(db.admin, [victim.userId]);
});

/* ------------------------------------------------------------------------ */
/* Text and numbers                                                          */
/* ------------------------------------------------------------------------ */

/** JSON values as JSON gives them back: fast-check's may hold -0, which JSON has not (the library refuses it, as JSON.stringify would turn it into 0). */
const json = (maxDepth: number) => fc.jsonValue({ maxDepth }).map((value) => JSON.parse(JSON.stringify(value)) as unknown);

const POISON = ['\u0000', '\ud800', '\udfff', '\udc00\ud800'];
const SPECIALS = ['\u202e', '\u0301', '😀', '👩‍👩‍👧', '𝄞', '\u3000', ' ', '\n', "'", '"', '\\', 'ß', '中文', '\u0001'];
const cleanText = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) }), { maxLength: 5 })
  .map((parts) => parts.join(''));
const poisonedText = fc.tuple(cleanText, fc.constantFrom(...POISON)).map(([text, poison]) => `${text}${poison}${text}`);
const codePoints = (text: string) => [...text].length;
const storable = (text: string) => !text.includes('\u0000') && text.isWellFormed();
/** About `limit` code points, in 1- to 2-unit characters. */
const nearLimit = (limit: number) =>
  fc.tuple(fc.integer({ min: limit - 1, max: limit + 1 }), fc.constantFrom('a', '😀', 'é')).map(([n, fill]) => fill.repeat(Math.max(n, 0)));
/** A text for a 1..255 field: mostly clean, sometimes at the limit, empty or poisoned. */
const shortText = fc.oneof({ weight: 6, arbitrary: cleanText.filter((t) => t.length > 0) }, { weight: 1, arbitrary: nearLimit(255) }, { weight: 1, arbitrary: poisonedText }, { weight: 1, arbitrary: fc.constant('') });
const validShort = (value: unknown) => typeof value === 'string' && storable(value) && codePoints(value) >= 1 && codePoints(value) <= 255;

const MAX = Number.MAX_SAFE_INTEGER;
const count = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(0, MAX, MAX - 1, 2 ** 52) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, MAX + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '7', null, 10n, -0) },
);
const validCount = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/* ------------------------------------------------------------------------ */
/* tx.usage                                                                  */
/* ------------------------------------------------------------------------ */

interface UsageModel {
  conversations: string[];
  records: Map<string, { conversationId: string; messageId: string | null; model: string; requests: bigint; inputTokens: bigint; outputTokens: bigint }>;
  anonymous: { conversationId: string; model: string; requests: bigint; inputTokens: bigint; outputTokens: bigint }[];
}

type Counts = { runs: bigint; requests: bigint; inputTokens: bigint; outputTokens: bigint };

function expectedTotals(model: UsageModel, conversationId?: string) {
  const byModel = new Map<string, Counts>();
  for (const record of [...model.records.values(), ...model.anonymous]) {
    if (conversationId !== undefined && record.conversationId !== conversationId) continue;
    const counts = byModel.get(record.model) ?? { runs: 0n, requests: 0n, inputTokens: 0n, outputTokens: 0n };
    counts.runs += 1n;
    counts.requests += record.requests;
    counts.inputTokens += record.inputTokens;
    counts.outputTokens += record.outputTokens;
    byModel.set(record.model, counts);
  }
  const total = { runs: 0n, requests: 0n, inputTokens: 0n, outputTokens: 0n };
  for (const counts of byModel.values()) for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += counts[key];
  const asNumbers = (c: Counts) => ({ runs: Number(c.runs), requests: Number(c.requests), inputTokens: Number(c.inputTokens), outputTokens: Number(c.outputTokens) });
  return {
    ...asNumbers(total),
    byModel: [...byModel].map(([name, c]) => ({ model: name, ...asNumbers(c) })).sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0)),
  };
}

const byModelName = <T extends { model: string }>(list: T[]) => [...list].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));

const usageInput = fc.record(
  {
    id: fc.oneof({ weight: 3, arbitrary: fc.constant<unknown>(undefined) }, { weight: 2, arbitrary: fc.constantFrom<unknown>('reuse', 'reuse-same') }, { weight: 2, arbitrary: shortText }, { weight: 1, arbitrary: fc.constantFrom<unknown>(42, null) }),
    messageId: fc.oneof({ weight: 3, arbitrary: fc.constant<unknown>(undefined) }, { weight: 1, arbitrary: fc.constant<unknown>(null) }, { weight: 2, arbitrary: shortText }),
    model: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('gpt-a', 'gpt-b', 'claude-c') }, { weight: 2, arbitrary: shortText }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 7) }),
    requests: count,
    inputTokens: count,
    outputTokens: count,
    extra: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    conversation: fc.oneof({ weight: 10, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constantFrom('victim', 'nobody') }),
  },
  { requiredKeys: ['requests', 'inputTokens', 'outputTokens', 'extra', 'conversation', 'model'] },
);

describe('fuzzing usage per turn and the SDK integrations', () => {
  test('tx.usage.record: any input, against any conversation, under reused ids; total sums exactly what the model holds', async () => {
    await check(
      fc.asyncProperty(fc.array(usageInput, { minLength: 1, maxLength: 12 }), async (inputs) => {
        const user = await db.createUser();
        const model: UsageModel = { conversations: [], records: new Map(), anonymous: [] };
        for (let i = 0; i < 2; i++) model.conversations.push((await store.withUser(user, (tx) => tx.conversations.create())).id);
        for (const raw of inputs) {
          const conversationId =
            raw.conversation === 'victim' ? victim.conversationId : raw.conversation === 'nobody' ? crypto.randomUUID() : model.conversations[(raw.conversation as number) % 2]!;
          const previous = [...model.records.entries()];
          // 'reuse' names a stored record with new values (a conflict unless equal), 'reuse-same' with its own (a retry).
          let input: Record<string, unknown> = { requests: raw.requests, inputTokens: raw.inputTokens, outputTokens: raw.outputTokens, model: raw.model };
          if (raw.id === 'reuse-same' && previous.length > 0) {
            const [id, stored] = previous[previous.length - 1]!;
            input = { id, messageId: stored.messageId, model: stored.model, requests: Number(stored.requests), inputTokens: Number(stored.inputTokens), outputTokens: Number(stored.outputTokens) };
          } else if (raw.id === 'reuse' && previous.length > 0) input.id = previous[0]![0];
          else if (raw.id !== undefined && raw.id !== 'reuse' && raw.id !== 'reuse-same') input.id = raw.id;
          if (raw.messageId !== undefined && input.messageId === undefined) input.messageId = raw.messageId;
          if (raw.extra) input.cost = 1;
          const target = input.id === undefined && raw.id === 'reuse-same' ? conversationId : raw.id === 'reuse-same' && previous.length > 0 ? previous[previous.length - 1]![1].conversationId : conversationId;

          const valid =
            !raw.extra &&
            validShort(input.model) &&
            [input.requests, input.inputTokens, input.outputTokens].every(validCount) &&
            (input.id === undefined || validShort(input.id)) &&
            (input.messageId === undefined || input.messageId === null || validShort(input.messageId));
          const own = model.conversations.includes(target);
          const stored = typeof input.id === 'string' ? model.records.get(input.id) : undefined;
          const wanted = valid
            ? { conversationId: target, messageId: (input.messageId as string | null | undefined) ?? null, model: input.model as string, requests: BigInt(input.requests as number), inputTokens: BigInt(input.inputTokens as number), outputTokens: BigInt(input.outputTokens as number) }
            : undefined;
          const expected = !valid ? ValidationError : !own ? NotFoundError : stored && JSON.stringify(stored, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) !== JSON.stringify(wanted, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ? ConflictError : undefined;

          const before = await snapshotRows(db.admin, [user]);
          let result: UsageRecord | undefined;
          try {
            result = await store.withUser(user, (tx) => tx.usage.record(target, input as never));
          } catch (error) {
            assert.ok(expected !== undefined, `refused a valid record (${String(error)}): ${JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
            assert.ok(error instanceof expected, `expected ${expected.name}, got ${String(error)}`);
            assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'a refused record changed nothing');
            tally.refused++;
            continue;
          }
          assert.equal(expected, undefined, `accepted what the model refuses (${expected?.name}): ${JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
          tally.stored++;
          assert.deepEqual(
            { conversationId: result.conversationId, messageId: result.messageId, model: result.model, requests: BigInt(result.requests), inputTokens: BigInt(result.inputTokens), outputTokens: BigInt(result.outputTokens) },
            wanted,
          );
          if (typeof input.id === 'string') assert.equal(result.id, input.id);
          if (stored) assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'a retry writes nothing');
          else if (typeof input.id === 'string') model.records.set(input.id, wanted!);
          else model.anonymous.push(wanted!);
        }
        const totals = await store.withUser(user, (tx) => tx.usage.total());
        assert.deepEqual({ ...totals, byModel: byModelName(totals.byModel) }, expectedTotals(model));
        for (const conversationId of model.conversations) {
          const one = await store.withUser(user, (tx) => tx.usage.total({ conversationId }));
          assert.deepEqual({ ...one, byModel: byModelName(one.byModel) }, expectedTotals(model, conversationId));
        }
      }),
      30,
    );
  });

  /* ---------------------------------------------------------------------- */
  /* PostgresSession                                                         */
  /* ---------------------------------------------------------------------- */

  let callIds = 0;
  /** A valid item, maybe with fields the SDK left undefined (JSON leaves them out). */
  const agentsItem = fc.oneof(
    fc.record({ role: fc.constantFrom('user', 'system'), text: cleanText }).map(({ role, text }) => [{ type: 'message', role, content: text }]),
    fc.tuple(cleanText, fc.boolean()).map(([text, undefinedField]) => [
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }], ...(undefinedField ? { providerData: undefined } : {}) },
    ]),
    fc.tuple(cleanText, json(3)).map(([text, data]) => [{ type: 'reasoning', content: [{ type: 'input_text', text }], providerData: { data, missing: undefined } }]),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), cleanText).map(([name, output]) => {
      const callId = `call_${++callIds}`;
      return [
        { type: 'function_call', callId, name: name.replace(/\s/g, '_') || 'tool', arguments: JSON.stringify({ output }), status: 'completed' },
        { type: 'function_call_result', callId, name: 'tool', status: 'completed', output },
      ];
    }),
  );
  /** Something the library must refuse, anywhere in a batch: unstorable text, values that are not JSON, an unknown role, an orphaned result. */
  const badItem = fc.oneof(
    poisonedText.map((text) => ({ type: 'message', role: 'user', content: text })),
    fc.constantFrom<unknown>(
      { type: 'message', role: 'user', content: 'x', providerData: { at: new Date(0) } },
      { type: 'message', role: 'user', content: [{ type: 'input_image', image: new Uint8Array([1]) }] },
      { type: 'message', role: 'user', content: 'x', providerData: { n: 1n } },
      { type: 'message', role: 'robot', content: 'x' },
      { type: 'function_call_result', callId: 'call_never_made', name: 'x', status: 'completed', output: 'x' },
      'an item',
      null,
      [{ type: 'message', role: 'user', content: 'in a list' }],
      { type: 'message', role: 'user', content: 'x', providerData: { value: Number.NaN } },
    ),
  );
  const batch = fc
    .record({
      items: fc.oneof({ weight: 8, arbitrary: fc.array(agentsItem, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.array(agentsItem, { minLength: 60, maxLength: 90 }) }),
      bad: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(badItem, fc.nat()) }),
    })
    .map(({ items, bad }) => {
      const flat: unknown[] = items.flat();
      if (bad) flat.splice(bad[1] % (flat.length + 1), 0, bad[0]);
      return { items: flat, valid: bad === null };
    });
  type SessionOperation = { op: 'add'; items: unknown[]; valid: boolean } | { op: 'get'; limit?: number } | { op: 'pop' } | { op: 'clear' };
  const sessionOperation: fc.Arbitrary<SessionOperation> = fc.oneof(
    { weight: 6, arbitrary: batch.map((b) => ({ op: 'add' as const, ...b })) },
    { weight: 3, arbitrary: fc.option(fc.integer({ min: -3, max: 700 }), { nil: undefined }).map((limit) => ({ op: 'get' as const, ...(limit === undefined ? {} : { limit }) })) },
    { weight: 2, arbitrary: fc.constant({ op: 'pop' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  );
  /** What JSON keeps of an item: fields whose value is undefined are left out. */
  const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

  test('PostgresSession: any sequence of appends (valid or not, of any size), reads with any limit, pops and clears follows the model', async () => {
    await check(
      fc.asyncProperty(fc.array(sessionOperation, { minLength: 1, maxLength: 10 }), async (operations) => {
        const session = await PostgresSession.create({ store, userId: await db.createUser() });
        let model: unknown[] = [];
        for (const operation of operations) {
          if (operation.op === 'add') {
            const before = await snapshotRows(db.admin, [session.userId]);
            try {
              await session.addItems(operation.items as AgentInputItem[]);
            } catch (error) {
              assert.ok(!operation.valid, `a valid batch was refused: ${String(error)}`);
              assert.ok(error instanceof ValidationError, `a ValidationError, got ${String(error)}`);
              assert.deepEqual(await snapshotRows(db.admin, [session.userId]), before, 'nothing of a refused batch was written');
              tally.refused++;
              continue;
            }
            assert.ok(operation.valid, 'a batch holding an item the library refuses was accepted');
            tally.stored++;
            model = [...model, ...operation.items.map(asJson)];
          } else if (operation.op === 'get') {
            const expected = operation.limit === undefined ? model : operation.limit <= 0 ? [] : model.slice(-operation.limit);
            assert.deepStrictEqual(await session.getItems(operation.limit), expected, `getItems(${operation.limit})`);
          } else if (operation.op === 'pop') {
            assert.deepStrictEqual(await session.popItem(), model.at(-1));
            model = model.slice(0, -1);
          } else {
            await session.clearSession();
            model = [];
          }
        }
        assert.deepStrictEqual(await session.getItems(), model);
      }),
      25,
    );
  });

  /* ---------------------------------------------------------------------- */
  /* saveUIMessages / loadUIMessages                                         */
  /* ---------------------------------------------------------------------- */

  let uiIds = 0;
  const uiPart = fc.oneof(
    cleanText.map((text) => ({ type: 'text', text })),
    fc.tuple(cleanText, json(2)).map(([title, output]) => ({
      type: 'tool-add_task',
      toolCallId: `ui_call_${++uiIds}`,
      state: 'output-available',
      input: { title },
      output,
      providerMetadata: undefined,
    })),
    json(2).map((data) => ({ type: 'data-note', data })),
  );
  const newUiMessage = fc
    .record({ role: fc.constantFrom('user', 'assistant', 'system'), parts: fc.array(uiPart, { maxLength: 3 }), metadata: fc.option(json(2), { nil: undefined }) })
    .map((message) => ({ id: `ui_${++uiIds}`, ...message }));
  type Edit =
    | { kind: 'append'; messages: Record<string, unknown>[] }
    | { kind: 'change'; at: number; text: string }
    | { kind: 'truncate'; keep: number }
    | { kind: 'regenerate'; message: Record<string, unknown> }
    | { kind: 'bad'; bad: number; at: number };
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    { weight: 5, arbitrary: fc.array(newUiMessage, { minLength: 1, maxLength: 4 }).map((messages) => ({ kind: 'append' as const, messages })) },
    { weight: 3, arbitrary: fc.record({ at: fc.nat(), text: cleanText }).map((e) => ({ kind: 'change' as const, ...e })) },
    { weight: 2, arbitrary: fc.nat().map((keep) => ({ kind: 'truncate' as const, keep })) },
    { weight: 2, arbitrary: newUiMessage.map((message) => ({ kind: 'regenerate' as const, message })) },
    { weight: 3, arbitrary: fc.record({ bad: fc.nat({ max: 6 }), at: fc.nat() }).map((e) => ({ kind: 'bad' as const, ...e })) },
  );
  /** The array the client sends after an edit, and whether the library must take it. */
  function applyEdit(current: Record<string, unknown>[], e: Edit): { messages: Record<string, unknown>[]; valid: boolean } {
    const messages = structuredClone(current);
    if (e.kind === 'append') return { messages: [...messages, ...e.messages], valid: true };
    if (e.kind === 'change') {
      if (messages.length === 0) return { messages, valid: true };
      const target = messages[e.at % messages.length]!;
      (target.parts as unknown[]).push({ type: 'text', text: `edited ${e.text}` });
      return { messages, valid: true };
    }
    if (e.kind === 'truncate') return { messages: messages.slice(0, e.keep % (messages.length + 1)), valid: true };
    if (e.kind === 'regenerate') return { messages: [...messages.slice(0, -1), e.message], valid: true };
    const broken: Record<string, unknown> = { id: `ui_bad_${++uiIds}`, role: 'user', parts: [{ type: 'text', text: 'x' }] };
    const at = e.at % (messages.length + 1);
    switch (e.bad) {
      case 0:
        broken.id = '';
        break;
      case 1:
        delete broken.id;
        break;
      case 2:
        if (messages.length === 0) broken.parts = 'none';
        else broken.id = messages[0]!.id;
        break;
      case 3:
        broken.role = 'robot';
        break;
      case 4:
        broken.parts = [{ type: 'text', text: 'poison \u0000' }];
        break;
      case 5:
        broken.parts = [{ type: 'text', text: new Date(0) }];
        break;
      default:
        broken.parts = [{ type: 'tool-add_task', toolCallId: '', state: 'output-available', input: {}, output: 1 }];
    }
    messages.splice(at, 0, broken);
    return { messages, valid: false };
  }

  test(
    'saveUIMessages: after any edit of the chat the stored conversation is the array, written as little as the model says',
    async () => {
    await check(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
        const user = await db.createUser();
        const conversationId = (await store.withUser(user, (tx) => tx.conversations.create())).id;
        let saved: Record<string, unknown>[] = [];
        for (const e of edits) {
          const { messages, valid } = applyEdit(saved, e);
          const before = await snapshotRows(db.admin, [user]);
          let result;
          try {
            result = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, messages as unknown as UIMessageLike[]));
          } catch (error) {
            assert.ok(!valid, `a valid array was refused: ${String(error)}`);
            assert.ok(error instanceof ValidationError, `a ValidationError, got ${String(error)}`);
            assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'a refused save changed nothing');
            tally.refused++;
            continue;
          }
          assert.ok(valid, `an invalid array was saved: ${JSON.stringify(messages).slice(0, 300)}`);
          tally.stored++;
          // The model: the longest common prefix of ids stays (equal ones unchanged, others replaced), the stored rest goes, the array's rest comes.
          const stored = saved.map(asJson) as Record<string, unknown>[];
          const wanted = messages.map(asJson) as Record<string, unknown>[];
          let keep = 0;
          while (keep < Math.min(stored.length, wanted.length) && stored[keep]!.id === wanted[keep]!.id) keep++;
          const unchanged = stored.slice(0, keep).filter((message, i) => JSON.stringify(sortKeys(message)) === JSON.stringify(sortKeys(wanted[i]))).length;
          assert.deepEqual(
            { ...result, usage: undefined },
            { appended: wanted.length - keep, replaced: keep - unchanged, removed: stored.length - keep, unchanged, usage: undefined },
          );
          assert.deepStrictEqual(await store.withUser(user, (tx) => loadUIMessages(tx, conversationId)), wanted);
          saved = wanted;
        }
      }),
      25,
    );
  });

  /* ---------------------------------------------------------------------- */
  /* The todo tools                                                          */
  /* ---------------------------------------------------------------------- */

  const anyValue = fc.oneof(
    { weight: 4, arbitrary: shortText },
    { weight: 1, arbitrary: nearLimit(500) },
    { weight: 1, arbitrary: nearLimit(5000) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, 42, -0, 1e308, [], {}, 'x'.repeat(10)) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>('victim-task', 'victim-completed', 'own-task', 'random-uuid', 'UPPER-own-task') },
  );
  const title = cleanText.filter((t) => t.trim().length > 0);
  /** Arguments a model would send: the tool's fields, with plausible values (the task ids resolved below). */
  const plausibleArgs = fc.oneof(
    fc.record({ name: fc.constant('add_task'), args: fc.record({ title, description: fc.option(cleanText, { nil: null }) }) }),
    fc.record({ name: fc.constant('list_tasks'), args: fc.record({ completed: fc.option(fc.boolean(), { nil: null }), cursor: fc.constant(null) }) }),
    fc.record({
      name: fc.constantFrom('complete_task', 'reopen_task', 'delete_task'),
      args: fc.record({ taskId: fc.constantFrom<unknown>('own-task', 'UPPER-own-task', 'victim-task', 'victim-completed', 'random-uuid') }),
    }),
    fc.record({
      name: fc.constant('update_task'),
      args: fc.record({ taskId: fc.constantFrom<unknown>('own-task', 'victim-task', 'random-uuid'), title: fc.option(title, { nil: null }), description: fc.option(cleanText, { nil: null }) }),
    }),
  );
  const toolCall = fc.oneof(
    plausibleArgs.map(({ name, args }) => ({ sdk: 'agents', name, args: args as Record<string, unknown>, fullArgs: false })),
    plausibleArgs.map(({ name, args }) => ({ sdk: 'ai-sdk', name, args: args as Record<string, unknown>, fullArgs: false })),
    fc.record({
      sdk: fc.constantFrom('agents', 'ai-sdk'),
      name: fc.constantFrom('add_task', 'list_tasks', 'complete_task', 'reopen_task', 'update_task', 'delete_task'),
      args: fc.dictionary(fc.constantFrom('title', 'description', 'taskId', 'completed', 'cursor', 'other'), anyValue, { maxKeys: 4 }),
      fullArgs: fc.boolean(),
    }),
  );

  test('the todo tools of both SDKs, with any arguments: never a throw, only ok, not_found or invalid_input, and never the victim\'s data', async () => {
    const user = await db.createUser();
    const own = await store.withUser(user, (tx) => tx.tasks.create({ title: 'mine' }));
    const agents = agentsTools({ store, userId: user });
    const ai = aiSdkTools({ store, userId: user }) as unknown as Record<string, { execute: (input: unknown, options: unknown) => Promise<unknown> }>;
    const resolve = (value: unknown) =>
      value === 'victim-task' ? victim.taskId : value === 'victim-completed' ? victim.completedTaskId : value === 'own-task' ? own.id : value === 'UPPER-own-task' ? own.id.toUpperCase() : value === 'random-uuid' ? crypto.randomUUID() : value;
    await check(
      fc.asyncProperty(toolCall, async ({ sdk, name, args, fullArgs }) => {
        const input: Record<string, unknown> = Object.fromEntries(Object.entries(args).map(([key, value]) => [key, resolve(value)]));
        // Mostly the fields the tool has, as a model mostly sends them.
        if (fullArgs) for (const field of { add_task: ['title', 'description'], list_tasks: ['completed', 'cursor'], update_task: ['taskId', 'title', 'description'] }[name as 'add_task'] ?? ['taskId']) input[field] ??= null;
        let output: unknown;
        if (sdk === 'agents') {
          const tool = agents.find((t) => t.name === name)!;
          output = await tool.invoke({ context: {} } as never, JSON.stringify(input));
        } else {
          output = await ai[name]!.execute(input, { toolCallId: 'c', messages: [] });
        }
        const result = (typeof output === 'string' ? JSON.parse(output) : output) as { ok: boolean; error?: string; task?: { id: string }; tasks?: { id: string }[] };
        assert.ok(result.ok === true || ['not_found', 'invalid_input'].includes(result.error!), JSON.stringify(result));
        if (result.ok) tally.stored++;
        else tally.refused++;
        assert.ok(!JSON.stringify(result).includes(victim.marker), `the victim's data: ${JSON.stringify(result)}`);
        if (name !== 'add_task' && name !== 'list_tasks' && [victim.taskId, victim.completedTaskId].includes(input.taskId as string)) {
          // Not found; or refused for its other arguments first (as it would be for anybody's id).
          assert.equal(result.ok, false, "a call naming the victim's task");
        }
      }),
      300,
    );
    assert.deepEqual(await snapshotRows(db.admin, [victim.userId]), victimAtStart);
  });

  test("the victim's rows did not change during all of the above", async () => {
    assert.deepEqual(await snapshotRows(db.admin, [victim.userId]), victimAtStart);
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  return value;
}
