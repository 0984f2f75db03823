/**
 * The cross-user attack suite, part 3: every operation of the SDK entry
 * points (todo-chat-db/agents, todo-chat-db/ai-sdk), run by user A with user
 * B's ids, exactly as test/security/attack.test.ts runs the repositories:
 *   - PostgresSession over B's conversation: every method a NotFoundError;
 *   - saveUIMessages and loadUIMessages on B's conversation: NotFoundError;
 *   - every todo tool of both SDKs with B's task ids: a not_found result,
 *     never a throw and never B's data;
 * each one indistinguishable from the same call with ids that exist for
 * nobody (same class, entity, message but for the id), each aimed at B's
 * real rows (as B the same call succeeds), and a superuser snapshot of every
 * row that is not A's identical before and after. A method or export
 * without a case fails the suite, naming it.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedVictim, type Victim } from '../helpers/security.js';
import { snapshotOthers } from '../helpers/snapshots.js';
import { NotFoundError, TodoChatDbError, type Store } from '../../src/index.js';
import * as agents from '../../src/agents/index.js';
import * as aiSdk from '../../src/ai-sdk/index.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;
/** B's conversations of one SDK each (a session and the AI SDK helpers refuse a conversation of mixed formats, even its owner's). */
let agentsConversationId: string;
let uiConversationId: string;
const agentsCallId = 'call_victim_agents';

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  victim = await seedVictim(store, await db.createUser());
  const { marker } = victim;
  const session = await agents.PostgresSession.create({ store, userId: victim.userId, title: `agents ${marker}` });
  await session.addItems([
    { type: 'message', role: 'user', content: `list ${marker}` },
    { type: 'function_call', callId: agentsCallId, name: 'list_tasks', arguments: JSON.stringify({ marker }), status: 'completed' },
    { type: 'function_call_result', callId: agentsCallId, name: 'list_tasks', status: 'completed', output: `listed ${marker}` },
  ]);
  agentsConversationId = session.conversationId;
  uiConversationId = await store.withUser(victim.userId, async (tx) => {
    const conversation = await tx.conversations.create({ title: `ui ${marker}` });
    await aiSdk.saveUIMessages(tx, conversation.id, [
      { id: `ui_q_${marker}`, role: 'user', parts: [{ type: 'text', text: `remind me ${marker}` }] },
      { id: `ui_a_${marker}`, role: 'assistant', parts: [{ type: 'text', text: `done ${marker}` }] },
    ]);
    return conversation.id;
  });
});

/** The ids a call is given: B's, or ids of nobody. */
interface Target {
  agentsConversationId: string;
  uiConversationId: string;
  taskId: string;
  completedTaskId: string;
}

const targetOf = (v: Victim): Target => ({ agentsConversationId, uiConversationId, taskId: v.taskId, completedTaskId: v.completedTaskId });
const phantom = (): Target => ({ agentsConversationId: crypto.randomUUID(), uiConversationId: crypto.randomUUID(), taskId: crypto.randomUUID(), completedTaskId: crypto.randomUUID() });

interface SdkCase {
  /** `PostgresSession.getItems`, `saveUIMessages`, `agents tool complete_task`, ...: what this case covers. */
  operation: string;
  label: string;
  /** Runs as `userId` against the target's ids. */
  run: (userId: string, target: Target) => Promise<unknown>;
  /** not-found: a NotFoundError for the conversation; result: a not_found tool result. */
  expect: 'not-found' | 'not-found-result';
}

const session = (userId: string, t: Target) => new agents.PostgresSession({ store, userId, conversationId: t.agentsConversationId });
const item = { type: 'message' as const, role: 'user' as const, content: 'written into it' };
const uiMessage = { id: 'attack', role: 'user' as const, parts: [{ type: 'text' as const, text: 'overwrite' }] };

const SESSION_CASES: SdkCase[] = [
  { operation: 'PostgresSession.getSessionId', label: "B's conversation", run: (u, t) => session(u, t).getSessionId(), expect: 'not-found' },
  { operation: 'PostgresSession.getItems', label: "B's conversation, the whole history", run: (u, t) => session(u, t).getItems(), expect: 'not-found' },
  { operation: 'PostgresSession.getItems', label: "B's conversation, the newest 3", run: (u, t) => session(u, t).getItems(3), expect: 'not-found' },
  { operation: 'PostgresSession.getItems', label: "B's conversation, limit 0", run: (u, t) => session(u, t).getItems(0), expect: 'not-found' },
  {
    operation: 'PostgresSession.getItems',
    label: "B's conversation, with a history limit",
    run: (u, t) => new agents.PostgresSession({ store, userId: u, conversationId: t.agentsConversationId, historyLimit: 2 }).getItems(),
    expect: 'not-found',
  },
  { operation: 'PostgresSession.addItems', label: "into B's conversation", run: (u, t) => session(u, t).addItems([item]), expect: 'not-found' },
  {
    operation: 'PostgresSession.addItems',
    label: "a result answering B's call, into B's conversation",
    run: (u, t) => session(u, t).addItems([{ type: 'function_call_result', callId: agentsCallId, name: 'list_tasks', status: 'completed', output: 'forged' }]),
    expect: 'not-found',
  },
  { operation: 'PostgresSession.popItem', label: "B's newest item", run: (u, t) => session(u, t).popItem(), expect: 'not-found' },
  { operation: 'PostgresSession.clearSession', label: "B's conversation", run: (u, t) => session(u, t).clearSession(), expect: 'not-found' },
  {
    operation: 'PostgresSession.recordUsage',
    label: "against B's conversation",
    run: (u, t) => session(u, t).recordUsage({ state: { usage: { requests: 1, inputTokens: 1, outputTokens: 1 } } }, { model: 'attack' }),
    expect: 'not-found',
  },
];

const AI_SDK_CASES: SdkCase[] = [
  { operation: 'saveUIMessages', label: "into B's conversation", run: (u, t) => store.withUser(u, (tx) => aiSdk.saveUIMessages(tx, t.uiConversationId, [uiMessage])), expect: 'not-found' },
  { operation: 'saveUIMessages', label: "an empty array (clearing B's conversation)", run: (u, t) => store.withUser(u, (tx) => aiSdk.saveUIMessages(tx, t.uiConversationId, [])), expect: 'not-found' },
  {
    operation: 'saveUIMessages',
    label: "B's own message again, with usage",
    run: (u, t) =>
      store.withUser(u, (tx) =>
        aiSdk.saveUIMessages(tx, t.uiConversationId, [{ ...uiMessage, id: `ui_q_${victim.marker}` }], { usage: { model: 'attack', requests: 1, inputTokens: 1, outputTokens: 1 } }),
      ),
    expect: 'not-found',
  },
  { operation: 'loadUIMessages', label: "B's conversation", run: (u, t) => store.withUser(u, (tx) => aiSdk.loadUIMessages(tx, t.uiConversationId)), expect: 'not-found' },
  { operation: 'loadUIMessages', label: "B's newest 2", run: (u, t) => store.withUser(u, (tx) => aiSdk.loadUIMessages(tx, t.uiConversationId, { limit: 2 })), expect: 'not-found' },
];

/** Every tool with B's ids, called as each SDK calls it. */
function toolCases(): SdkCase[] {
  const inputs: Record<string, (t: Target) => unknown> = {
    complete_task: (t) => ({ taskId: t.taskId }),
    reopen_task: (t) => ({ taskId: t.completedTaskId }),
    update_task: (t) => ({ taskId: t.taskId, title: 'pwned', description: 'pwned' }),
    delete_task: (t) => ({ taskId: t.taskId }),
  };
  return Object.entries(inputs).flatMap(([name, input]) => [
    {
      operation: `agents tool ${name}`,
      label: "B's task",
      run: async (u: string, t: Target) => {
        const tool = agents.createTodoTools({ store, userId: u }).find((x) => x.name === name)!;
        return tool.invoke({ context: {} } as never, JSON.stringify(input(t)));
      },
      expect: 'not-found-result' as const,
    },
    {
      operation: `ai-sdk tool ${name}`,
      label: "B's task",
      run: async (u: string, t: Target) => {
        const tools = aiSdk.createTodoTools({ store, userId: u }) as unknown as Record<string, { execute: (input: unknown, options: unknown) => Promise<unknown> }>;
        return tools[name]!.execute(input(t), { toolCallId: 'c', messages: [] });
      },
      expect: 'not-found-result' as const,
    },
  ]);
}

const CASES = [...SESSION_CASES, ...AI_SDK_CASES, ...toolCases()];

async function outcome(fn: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** An error or a result as the caller sees it, but for the ids (the caller's own input, B's or nobody's). */
function normalise(value: unknown): unknown {
  const text = JSON.stringify(value instanceof Error ? { name: value.name, message: value.message, code: (value as TodoChatDbError).code, entity: (value as NotFoundError).entity } : value);
  return JSON.parse(text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>'));
}

/** Thrown to roll back the "as B the same call works" control. */
class RollBack extends Error {}

describe("every operation of the SDK entry points, as A with B's ids, is not found and changes nothing", () => {
  test('every method of PostgresSession, every data-reading export of todo-chat-db/ai-sdk and every todo tool has a case', () => {
    const sessionMethods = Object.getOwnPropertyNames(agents.PostgresSession.prototype).filter((name) => name !== 'constructor').map((name) => `PostgresSession.${name}`);
    // aiSdkUsage reads a run result, createTodoTools makes tools (their calls are the tool cases); PostgresSession.create makes A's own conversation.
    const pure = new Set(['aiSdkUsage', 'createTodoTools', 'TODO_TOOL_NAMES', 'TodoToolInputs', 'TodoToolParameters']);
    const aiSdkExports = Object.keys(aiSdk).filter((name) => !pure.has(name));
    const tools = ['complete_task', 'reopen_task', 'update_task', 'delete_task'].flatMap((name) => [`agents tool ${name}`, `ai-sdk tool ${name}`]);
    const covered = new Set(CASES.map((c) => c.operation));
    const missing = [...sessionMethods, ...aiSdkExports, ...tools].filter((operation) => !covered.has(operation));
    assert.deepEqual(missing, [], `no cross-user case for: ${missing.join(', ')}`);
    assert.deepEqual(
      agents.TODO_TOOL_NAMES.filter((name) => !['add_task', 'list_tasks'].includes(name) && !tools.includes(`agents tool ${name}`)),
      [],
      'every tool that takes a task id has a case (add_task and list_tasks take none: they act on the bound user alone)',
    );
  });

  for (const sdkCase of CASES) {
    test(`${sdkCase.operation}: ${sdkCase.label}`, async () => {
      const attacker = await db.createUser();
      const target = targetOf(victim);
      const before = await snapshotOthers(db.admin, attacker);
      const got = await outcome(() => sdkCase.run(attacker, target));
      assert.deepEqual(await snapshotOthers(db.admin, attacker), before, `${sdkCase.operation} as A with B's ids changed rows that are not A's`);
      const control = await outcome(() => sdkCase.run(attacker, phantom()));
      if (sdkCase.expect === 'not-found') {
        assert.ok(!got.ok, `must fail, returned ${JSON.stringify(got.ok && got.value)}`);
        assert.ok(got.error instanceof NotFoundError && got.error.entity === 'conversation', `NotFoundError, got ${String(got.error)}`);
        assert.ok(!control.ok);
        assert.deepEqual(normalise(got.error), normalise(control.error));
      } else {
        assert.ok(got.ok, `a result, not a throw: ${String((got as { error: unknown }).error)}`);
        const result = (typeof got.value === 'string' ? JSON.parse(got.value) : got.value) as { ok: boolean; error: string; message: string };
        assert.deepEqual([result.ok, result.error], [false, 'not_found']);
        assert.ok(control.ok);
        const controlResult = typeof control.value === 'string' ? JSON.parse(control.value) : control.value;
        assert.deepEqual(normalise(result), normalise(controlResult));
      }
      assert.ok(!JSON.stringify(got).includes(victim.marker), `B's data came back: ${JSON.stringify(got)}`);
      // The call aims at B's real rows: as B it succeeds (and is rolled back).
      const asVictim = await outcome(() =>
        store.withUser(victim.userId, async () => {
          const value = await sdkCase.run(victim.userId, target);
          if (sdkCase.expect === 'not-found-result') {
            const result = (typeof value === 'string' ? JSON.parse(value) : value) as { ok: boolean };
            assert.equal(result.ok, true, `as B: ${JSON.stringify(value)}`);
          }
          throw new RollBack();
        }),
      );
      assert.ok(!asVictim.ok && asVictim.error instanceof RollBack, `as B the same call reaches B's rows, got ${String((asVictim as { error: unknown }).error)}`);
      assert.deepEqual(await snapshotOthers(db.admin, attacker), before, "B's control was rolled back");
    });
  }
});

