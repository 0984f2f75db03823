/**
 * The todo tools of both entry points (createTodoTools of todo-chat-db/agents
 * and of todo-chat-db/ai-sdk), called the way each SDK calls them: the
 * schemas the model is given, what each tool does for the user it is bound
 * to, another user's ids (not found, exactly as for ids of nobody), invalid
 * input (a result, never a throw), and what is thrown rather than answered.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { Agent, run, setTracingDisabled, type FunctionTool } from '@openai/agents-core';
import { asSchema, type Tool, type ToolExecutionOptions } from 'ai';
import { createTestDatabase } from '../helpers/db.js';
import { snapshotOthers } from '../helpers/snapshots.js';
import { UsageError, ValidationError, createStore } from '../../src/index.js';
import { TODO_TOOL_NAMES, createTodoTools as agentsTools, type TodoToolResult } from '../../src/agents/index.js';
import { createTodoTools as aiSdkTools } from '../../src/ai-sdk/index.js';
import { ScriptedModel, usage } from './fixtures/scripted-model.js';

setTracingDisabled(true);
const db = await createTestDatabase();
const store = db.store();

type Call = (name: string, input: unknown) => Promise<TodoToolResult>;

/** Calls a tool as the Agents SDK does: invoke with the model's JSON arguments. */
function viaAgents(userId: string): Call {
  const tools = agentsTools({ store, userId });
  return async (name, input) => {
    const tool = tools.find((t) => t.name === name)!;
    const output = await tool.invoke({ context: {} } as never, JSON.stringify(input));
    return (typeof output === 'string' ? JSON.parse(output) : output) as TodoToolResult;
  };
}

/** Calls a tool as the AI SDK does once the input passed its schema: execute with the parsed input. */
function viaAiSdk(userId: string): Call {
  const tools = aiSdkTools({ store, userId }) as Record<string, Tool>;
  return async (name, input) => {
    const options: ToolExecutionOptions = { toolCallId: 'call', messages: [] };
    return (await tools[name]!.execute!(input as never, options)) as TodoToolResult;
  };
}

const SDKS: [string, (userId: string) => Call][] = [
  ['Agents SDK', viaAgents],
  ['AI SDK', viaAiSdk],
];

const LENGTH_KEYWORDS = ['minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems'];

function keywordsOf(schema: unknown, found = new Set<string>()): Set<string> {
  if (schema && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      found.add(key);
      if (key !== 'properties') keywordsOf(value, found);
      else for (const property of Object.values(value as object)) keywordsOf(property, found);
    }
  }
  return found;
}

describe('the todo tools of both SDKs', () => {
  test('six tools with the same names; JSON schemas in the subset strict function calling accepts', async () => {
    const user = await db.createUser();
    const agents = agentsTools({ store, userId: user });
    const ai = aiSdkTools({ store, userId: user });
    const names = ['add_task', 'list_tasks', 'complete_task', 'reopen_task', 'update_task', 'delete_task'];
    assert.deepEqual([...TODO_TOOL_NAMES], names);
    assert.deepEqual(agents.map((t) => t.name), names);
    assert.deepEqual(Object.keys(ai), names);
    for (const tool of agents as FunctionTool[]) {
      assert.equal(tool.type, 'function');
      assert.equal(tool.strict, true, `${tool.name} is strict`);
      const schema = tool.parameters as { type: string; properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
      assert.equal(schema.type, 'object');
      assert.deepEqual([...schema.required].sort(), Object.keys(schema.properties).sort(), `${tool.name}: every field required (nullable when optional)`);
      assert.equal(schema.additionalProperties, false);
      const keywords = keywordsOf(schema);
      assert.deepEqual(LENGTH_KEYWORDS.filter((k) => keywords.has(k)), [], `${tool.name}: no length or range keywords`);
      assert.ok(tool.description.length > 10);
    }
    for (const [name, tool] of Object.entries(ai)) {
      const schema = (await asSchema((tool as Tool).inputSchema).jsonSchema) as { properties: Record<string, { description?: string }>; required: string[] };
      assert.deepEqual([...schema.required].sort(), Object.keys(schema.properties).sort(), name);
      const keywords = keywordsOf(schema);
      assert.deepEqual(LENGTH_KEYWORDS.filter((k) => keywords.has(k)), [], `${name}: no length or range keywords`);
      for (const [field, property] of Object.entries(schema.properties)) assert.ok(property.description, `${name}.${field} is described`);
    }
    const add = (agents[0] as FunctionTool).parameters as { properties: { title: { description: string } } };
    assert.match(add.properties.title.description, /1 to 500 characters/, 'the limits are in the descriptions');
  });

  for (const [sdk, via] of SDKS) {
    test(`${sdk}: add, list, update, complete, reopen and delete act for the bound user, and answer with the task`, async () => {
      const user = await db.createUser();
      const call = via(user);
      const added = await call('add_task', { title: '  Buy oat milk ', description: null });
      assert.ok(added.ok && 'task' in added);
      const task = added.task;
      assert.deepEqual([task.title, task.description, task.completed, task.completedAt], ['Buy oat milk', '', false, null]);
      assert.ok(!Number.isNaN(Date.parse(task.createdAt)));
      const listed = await call('list_tasks', { completed: null, cursor: null });
      assert.deepEqual(listed, { ok: true, tasks: [task], nextCursor: null });
      const updated = await call('update_task', { taskId: task.id, title: null, description: 'the barista kind' });
      assert.ok(updated.ok && 'task' in updated && updated.task.title === 'Buy oat milk' && updated.task.description === 'the barista kind');
      const completed = await call('complete_task', { taskId: task.id.toUpperCase() });
      assert.ok(completed.ok && 'task' in completed && completed.task.completed && completed.task.completedAt !== null);
      assert.deepEqual(await call('list_tasks', { completed: false, cursor: null }), { ok: true, tasks: [], nextCursor: null });
      const reopened = await call('reopen_task', { taskId: task.id });
      assert.ok(reopened.ok && 'task' in reopened && !reopened.task.completed);
      assert.deepEqual(await call('delete_task', { taskId: task.id }), { ok: true, deleted: task.id });
      assert.deepEqual(await call('delete_task', { taskId: task.id }), { ok: false, error: 'not_found', message: `No task with id ${task.id} in this user's list.` });
      assert.deepEqual((await store.withUser(user, (tx) => tx.tasks.list())).items, []);
      // Pages: nextCursor goes back in.
      await store.withUser(user, async (tx) => {
        for (let i = 0; i < 55; i++) await tx.tasks.create({ title: `t${i}` });
      });
      const page = await call('list_tasks', { completed: null, cursor: null });
      assert.ok(page.ok && 'tasks' in page && page.tasks.length === 50 && page.nextCursor);
      const rest = await call('list_tasks', { completed: null, cursor: page.nextCursor });
      assert.ok(rest.ok && 'tasks' in rest && rest.tasks.length === 5 && rest.nextCursor === null);
    });

    test(`${sdk}: another user's task ids are not found, word for word as ids of nobody, and nothing of theirs changes or shows`, async () => {
      const [victim, attacker] = await db.createUsers(2);
      const secret = await store.withUser(victim!, (tx) => tx.tasks.create({ title: 'victim secret', completed: true }));
      const call = via(attacker!);
      const before = await snapshotOthers(db.admin, attacker);
      const nobody = crypto.randomUUID();
      const attempts: [string, (id: string) => unknown][] = [
        ['complete_task', (id) => ({ taskId: id })],
        ['reopen_task', (id) => ({ taskId: id })],
        ['update_task', (id) => ({ taskId: id, title: 'pwned', description: null })],
        ['delete_task', (id) => ({ taskId: id })],
      ];
      for (const [name, input] of attempts) {
        const got = await call(name, input(secret.id));
        const control = await call(name, input(nobody));
        assert.deepEqual(got, { ok: false, error: 'not_found', message: `No task with id ${secret.id} in this user's list.` }, name);
        assert.deepEqual(JSON.parse(JSON.stringify(got).replaceAll(secret.id, '<id>')), JSON.parse(JSON.stringify(control).replaceAll(nobody, '<id>')), name);
      }
      assert.deepEqual(await call('list_tasks', { completed: null, cursor: null }), { ok: true, tasks: [], nextCursor: null });
      assert.deepEqual(await snapshotOthers(db.admin, attacker), before);
    });

    test(`${sdk}: invalid input is an invalid_input result naming what is wrong, and nothing is written`, async () => {
      const user = await db.createUser();
      const call = via(user);
      const cases: [string, unknown, RegExp][] = [
        ['add_task', { title: '   ', description: null }, /at least 1 characters|title/],
        ['add_task', { title: 'x'.repeat(501), description: null }, /500/],
        ['add_task', { title: 'ok', description: 'd'.repeat(5001) }, /5000/],
        ['add_task', { title: 'nul \u0000', description: null }, /NUL/],
        ['complete_task', { taskId: 'task-1' }, /UUID/],
        ['update_task', { taskId: crypto.randomUUID(), title: null, description: null }, /needs a new title or new details/],
        ['list_tasks', { completed: null, cursor: 'forged' }, /cursor/],
      ];
      for (const [name, input, message] of cases) {
        const result = await call(name, input);
        assert.ok(!result.ok && result.error === 'invalid_input', `${name} ${JSON.stringify(input).slice(0, 60)}: ${JSON.stringify(result)}`);
        assert.match(result.message, message);
      }
      assert.deepEqual((await store.withUser(user, (tx) => tx.tasks.list())).items, []);
    });
  }

  test('a call inside a withUser of the bound user joins it (rolled back with it); inside another user\'s it throws', async () => {
    const [user, other] = await db.createUsers(2);
    const call = viaAiSdk(user!);
    await assert.rejects(
      store.withUser(user!, async () => {
        const added = await call('add_task', { title: 'joined', description: null });
        assert.ok(added.ok);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual((await store.withUser(user!, (tx) => tx.tasks.list())).items, []);
    await assert.rejects(store.withUser(other!, () => call('add_task', { title: 'cross', description: null })), UsageError);
    assert.deepEqual((await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = any($1)', [[user, other]])).rows, [{ n: 0 }]);
  });

  test('what is not the model\'s mistake is thrown: the Agents SDK run fails instead of the model apologising for an outage', async () => {
    const user = await db.createUser();
    const closed = createStore({ connectionString: db.url });
    await closed.close();
    const execute = aiSdkTools({ store: closed, userId: user }).add_task.execute!;
    await assert.rejects(execute({ title: 'x', description: null }, { toolCallId: 'c', messages: [] }) as Promise<unknown>, UsageError);
    const model = new ScriptedModel([
      { usage: usage(1, 1), output: [{ type: 'function_call', callId: 'c1', name: 'add_task', arguments: JSON.stringify({ title: 'x', description: null }), status: 'completed' }] },
      { usage: usage(1, 1), output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Sorry, an error.' }] }] },
    ]);
    const agent = new Agent({ name: 'todo', instructions: 'x', model, tools: agentsTools({ store: closed, userId: user }) });
    await assert.rejects(run(agent, 'add x'), (error: unknown) => JSON.stringify(error, Object.getOwnPropertyNames(error)).includes('store is closed') || String((error as Error)?.cause ?? error).includes('store is closed'));
  });

  test('createTodoTools checks its options', () => {
    for (const create of [agentsTools, aiSdkTools]) {
      assert.throws(() => create({ store, userId: 'someone' }), ValidationError);
      assert.throws(() => create({ store, userId: '00000000-0000-0000-0000-000000000000' }), ValidationError);
      assert.throws(() => create({ store: undefined as never, userId: crypto.randomUUID() }), UsageError);
    }
  });
});
