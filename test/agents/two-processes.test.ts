/**
 * A stateless server, as the Agents SDK runs in one: each turn of a todo chat
 * runs in a process of its own (fixtures/agents-turn.ts) that shares nothing
 * with the other but the database URL. The second process's run must get the
 * first run's history item for item: the model inputs of both processes are
 * compared with those of the same script driven through the SDK's own
 * MemorySession in this process (identical, once the ids and timestamps the
 * database made are numbered placeholders). The task the tool created exists
 * for the session's user and nobody else, and the usage of both runs is
 * recorded against the conversation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { Agent, MemorySession, run, setTracingDisabled } from '@openai/agents-core';
import { createTestDatabase } from '../helpers/db.js';
import { packageRoot } from '../../src/paths.js';
import { PostgresSession, createTodoTools } from '../../src/agents/index.js';
import { SCRIPTED_MODEL_ID, ScriptedModel, TURNS, withPlaceholders } from './fixtures/scripted-model.js';

setTracingDisabled(true);
const exec = promisify(execFile);
const db = await createTestDatabase();
const store = db.store();

interface TurnReport {
  pid: number;
  modelInputs: unknown[][];
  scriptDone: boolean;
  finalOutput: string;
  items: unknown[];
  usage: { model: string; requests: number; inputTokens: number; outputTokens: number; messageId: string | null; conversationId: string };
}

async function turnInOwnProcess(turn: number, userId: string, conversationId: string): Promise<TurnReport> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', path.join(packageRoot, 'test/agents/fixtures/agents-turn.ts'), String(turn)], {
    cwd: packageRoot,
    // Only the database: no variable of the test runner's reaches the child.
    env: {
      PATH: process.env.PATH,
      TCDB_AGENTS_DATABASE_URL: db.url,
      TCDB_AGENTS_USER_ID: userId,
      TCDB_AGENTS_CONVERSATION_ID: conversationId,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as TurnReport;
}

describe('an Agents SDK chat whose turns run in two processes that share only the database', () => {
  test('the second run gets the first run\'s history item for item: model inputs identical to MemorySession\'s', async () => {
    const [user, referenceUser] = await db.createUsers(2);
    const session = await PostgresSession.create({ store, userId: user!, title: 'groceries' });

    const first = await turnInOwnProcess(0, user!, session.conversationId);
    const second = await turnInOwnProcess(1, user!, session.conversationId);
    assert.notEqual(first.pid, second.pid);
    assert.ok(first.scriptDone && second.scriptDone, 'each process used its whole script');
    assert.deepEqual([first.finalOutput, second.finalOutput], ['Added "Buy oat milk" to your list.', 'One task: Buy oat milk.']);

    // The same two turns through the SDK's own MemorySession (and the same tools, for another user), in this process.
    const memory = new MemorySession();
    const reference: unknown[][] = [];
    for (const script of TURNS) {
      const model = new ScriptedModel(script.responses());
      const agent = new Agent({ name: 'todo', instructions: 'You keep the user\'s todo list.', model, tools: createTodoTools({ store, userId: referenceUser! }) });
      await run(agent, script.input, { session: memory });
      reference.push(...(model.inputs as unknown[][]));
    }
    const got = [...first.modelInputs, ...second.modelInputs];
    assert.equal(got.length, 4, 'two model calls per turn');
    assert.deepEqual(withPlaceholders(got), withPlaceholders(reference), 'the model got exactly what MemorySession would have given it');

    // The second process's first call is the whole first turn, as stored, and the new question.
    const firstTurnItems = first.items;
    assert.equal(firstTurnItems.length, 5, 'user message, reasoning, function call, its result, answer');
    assert.deepEqual(second.modelInputs[0], [...firstTurnItems, { type: 'message', role: 'user', content: 'What is on my list?' }]);
    const reasoning = firstTurnItems[1] as { type: string; providerData: { encryptedContent: string } };
    assert.equal(reasoning.type, 'reasoning');
    assert.equal(reasoning.providerData.encryptedContent, 'gAAAAB-opaque-reasoning-blob', 'the encrypted reasoning came back as stored');
    assert.deepEqual(withPlaceholders(second.items), withPlaceholders(await memory.getItems()), 'the stored history is MemorySession\'s');

    // The task the first process's tool created is the user's, and nobody else has it.
    const result = (firstTurnItems[3] as { output: { text: string } }).output.text;
    const added = JSON.parse(result) as { ok: boolean; task: { id: string; title: string } };
    assert.equal(added.ok, true);
    const { rows } = await db.admin.query('select user_id, title from todo_chat.tasks where id = $1', [added.task.id]);
    assert.deepEqual(rows, [{ user_id: user, title: 'Buy oat milk' }]);
    const listed = await store.withUser(user!, (tx) => tx.tasks.list());
    assert.deepEqual(listed.items.map((task) => task.id), [added.task.id]);
    const others = await db.admin.query('select count(*)::int as n from todo_chat.tasks where id = $1 and user_id <> $2', [added.task.id, user]);
    assert.deepEqual(others.rows, [{ n: 0 }]);

    // The tool-call audit holds both calls with their results.
    const audit = await store.withUser(user!, (tx) => tx.toolCalls.list({ conversationId: session.conversationId }));
    assert.deepEqual(audit.items.map((call) => [call.name, call.results.length]), [['add_task', 1], ['list_tasks', 1]]);

    // Each process recorded its run against the conversation and the turn's last message.
    const stored = await store.withUser(user!, (tx) => tx.messages.all(session.conversationId));
    assert.equal(stored.length, 9);
    assert.deepEqual(
      [first.usage, second.usage].map((u) => [u.model, u.requests, u.inputTokens, u.outputTokens, u.conversationId, u.messageId]),
      [
        [SCRIPTED_MODEL_ID, 2, 300, 43, session.conversationId, stored[4]!.id],
        [SCRIPTED_MODEL_ID, 2, 590, 33, session.conversationId, stored[8]!.id],
      ],
    );
    const totals = await store.withUser(user!, (tx) => tx.usage.total({ conversationId: session.conversationId }));
    assert.deepEqual(totals, {
      runs: 2,
      requests: 4,
      inputTokens: 890,
      outputTokens: 76,
      byModel: [{ model: SCRIPTED_MODEL_ID, runs: 2, requests: 4, inputTokens: 890, outputTokens: 76 }],
    });
  });
});
