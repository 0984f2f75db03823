/**
 * Inputs that are not plain data, written as a hostile (or careless) caller
 * would: a known key on the prototype, an array whose prototype (or own
 * property) defines toJSON, getters that answer differently each time, class
 * instances, proxies, holes, cycles, functions, and an object graph that
 * shares sub-objects to expand exponentially. Each is a ValidationError
 * before any query (nothing written), and the shared-sub-object bomb is
 * refused by the budget of LIMITS.input without walking its expansion.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { countRows } from '../helpers/snapshots.js';
import { LIMITS, ValidationError, type Store, type Transaction } from '../../src/index.js';
import { plainDataProblem } from '../../src/plain-data.js';

let db: TestDatabase;
let store: Store;

before(async () => {
  db = await createTestDatabase();
  store = db.store();
});

/** Runs the write as a fresh user with a conversation: refused with a ValidationError, and nothing of the user changed. */
async function assertRefused(label: string, write: (tx: Transaction, conversationId: string) => Promise<unknown>, message: RegExp): Promise<void> {
  const [user] = await db.createUsers(1);
  const conversationId = await store.withUser(user!, async (tx) => (await tx.conversations.create({})).id);
  const before = await countRows(db.admin, user!);
  await assert.rejects(
    store.withUser(user!, (tx) => write(tx, conversationId)),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `${label}: ${String(error)}`);
      assert.match(error.message, message, label);
      return true;
    },
  );
  assert.deepEqual(await countRows(db.admin, user!), before, `${label}: nothing written`);
}

/** `{ a: o, b: o }` nested `depth` times: 2^depth leaves when expanded. */
function bomb(depth: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) o = { a: o, b: o };
  return o;
}

describe('inputs must be plain data', () => {
  test('a known key on the prototype is refused like an unknown one (it was once used)', async () => {
    const inherited = (own: object, proto: object) => Object.assign(Object.create(proto) as object, own);
    await assertRefused('message id inherited', (tx, c) => tx.messages.append(c, inherited({ role: 'user', content: 'x' }, { id: 'chosen' }) as never), /must be a plain object/);
    await assertRefused('task id inherited', (tx) => tx.tasks.create(inherited({ title: 'x' }, { id: crypto.randomUUID() }) as never), /must be a plain object/);
    await assertRefused('content inherited', (tx, c) => tx.messages.append(c, inherited({ role: 'user' }, { content: 'x' }) as never), /must be a plain object/);
    await assertRefused('options inherited', (tx, c) => tx.messages.history(c, inherited({}, { limit: 1 }) as never), /must be a plain object/);
  });

  test('an array whose prototype or own property defines toJSON (stored as something other than passed, once)', async () => {
    const proto = Object.create(Array.prototype) as object;
    Object.defineProperty(proto, 'toJSON', { value: () => [{ id: 'forged', name: 'forged', arguments: {} }] });
    const calls = Object.setPrototypeOf([{ id: 'c1', name: 'real', arguments: {} }], proto) as unknown[];
    await assertRefused('toolCalls with a toJSON prototype', (tx, c) => tx.messages.append(c, { role: 'assistant', toolCalls: calls as never }), /must be a plain array/);
    const own = Object.assign([{ type: 'text', text: 'real' }], { toJSON: () => [{ type: 'text', text: 'forged' }] });
    await assertRefused(
      'an item part list with an own toJSON',
      (tx, c) => tx.messages.append(c, { format: 'ai-sdk', item: { id: 'ui-1', role: 'user', parts: own } }),
      /must not have a toJSON/,
    );
  });

  test('getters, class instances, proxies, holes, cycles, functions, symbols and bigints', async () => {
    let reads = 0;
    const getter = { role: 'user', get content() { return reads++ === 0 ? 'checked' : 'stored'; } };
    await assertRefused('a getter', (tx, c) => tx.messages.append(c, getter as never), /must be a data property/);
    class ChatMessage {
      role = 'user';
      content = 'x';
    }
    await assertRefused('a class instance', (tx, c) => tx.messages.append(c, new ChatMessage() as never), /must be a plain object/);
    await assertRefused('a Date in an item', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: 'x', at: new Date() } }), /must be a plain object/);
    await assertRefused('a proxy', (tx, c) => tx.messages.append(c, new Proxy({ role: 'user', content: 'x' }, {}) as never), /Proxy/);
    // eslint-disable-next-line no-sparse-arrays
    await assertRefused('a hole', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: [, { type: 'input_text', text: 'x' }] } } as never), /holes/);
    const cycle: Record<string, unknown> = { role: 'user', content: 'x' };
    cycle.self = cycle;
    await assertRefused('a cycle', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: cycle }), /contain itself/);
    await assertRefused('a function', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: 'x', f: () => 1 } }), /got a function/);
    await assertRefused('a bigint', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: 'x', n: 1n } }), /got a bigint/);
    await assertRefused('a symbol', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: 'x', s: Symbol('s') } }), /got a symbol/);
    assert.equal(reads, 0, 'the getter was never called');
  });

  test('a graph of shared sub-objects is counted as the JSON it expands to: refused by the budget, its expansion never walked', async (t) => {
    for (const depth of [22, 60]) {
      const message = { format: 'openai-agents', item: { role: 'user', content: 'x', data: bomb(depth) } } as const;
      // 2^60 leaves: walking the expansion would never end; the budget stops at LIMITS.input.maxValues.
      await assertRefused(`a bomb ${depth} deep in an item`, (tx, c) => tx.messages.append(c, message), /at most 500000 JSON values/);
      const started = performance.now();
      assert.ok(plainDataProblem([message]));
      t.diagnostic(`a bomb ${depth} deep: the check refuses it in ${(performance.now() - started).toFixed(1)} ms`);
    }
    // Smaller ones get past the input's budget, and the item's own (1 MiB) refuses them.
    await assertRefused('a bomb 17 deep', (tx, c) => tx.messages.append(c, { format: 'openai-agents', item: { role: 'user', content: 'x', data: bomb(17) } }), /at most 1048576 bytes of JSON/);
    await assertRefused('a bomb in tool call arguments', (tx, c) => tx.messages.append(c, { role: 'assistant', toolCalls: [{ id: 'c', name: 'n', arguments: bomb(14) as never }] }), /at most 65536 bytes of JSON/);
  });

  test('shared sub-objects within the budget are plain data: stored as their JSON', async () => {
    const [user] = await db.createUsers(1);
    const input = { title: 'shared' };
    const part = { type: 'tool-add_task', toolCallId: 'c1', state: 'input-available', input };
    const stored = await store.withUser(user!, async (tx) => {
      const conversation = await tx.conversations.create({});
      return tx.messages.append(conversation.id, { format: 'ai-sdk', item: { id: 'ui-shared', role: 'assistant', parts: [part, { ...part, state: 'output-available', output: input }] } });
    });
    assert.deepEqual(stored.item, JSON.parse(JSON.stringify({ id: 'ui-shared', role: 'assistant', parts: [part, { ...part, state: 'output-available', output: input }] })));
  });

  test("the budget's byte count never exceeds the JSON's real size (so no valid input is refused by it)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const real = Buffer.byteLength(JSON.stringify(value), 'utf8');
        assert.equal(plainDataProblem(value, { maxValues: LIMITS.input.maxValues, maxBytes: real }), undefined);
      }),
      { numRuns: 5000 },
    );
  });
});
