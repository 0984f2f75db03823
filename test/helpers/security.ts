/**
 * Test-only helpers for the security suites (test/security/*.test.ts): the
 * named queries of sql/ and their generated PreparedQuery objects, and a
 * seeded victim that owns one of everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PreparedQuery } from '@pgtyped/runtime';
import { packageRoot } from '../../src/paths.js';
import type { Store } from '../../src/index.js';

export const SQL_DIR = path.join(packageRoot, 'sql');
export const QUERIES_DIR = path.join(packageRoot, 'src', 'queries');

export interface NamedQuery {
  /** The `@name` of the statement, e.g. "CreateTask". */
  name: string;
  /** The file it is in, relative to the package root, e.g. "sql/tasks.sql". */
  file: string;
  /** The generated export it compiles to, e.g. "createTask" in src/queries/tasks.queries.ts. */
  exportName: string;
}

/** Every `@name` in every sql/*.sql file (read from the files, so a new query is found without any list to update). */
export function listNamedQueries(dir = SQL_DIR): NamedQuery[] {
  const found: NamedQuery[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const match of text.matchAll(/\/\*\s*@name\s+([A-Za-z_][A-Za-z0-9_]*)\s*\*\//g)) {
      const name = match[1]!;
      found.push({ name, file: `sql/${file}`, exportName: name[0]!.toLowerCase() + name.slice(1) });
    }
  }
  return found;
}

/** The generated PreparedQuery objects of src/queries/*.queries.ts, by export name, with the module they come from. */
export async function loadGeneratedQueries(dir = QUERIES_DIR): Promise<Map<string, { module: string; query: PreparedQuery<unknown, unknown> }>> {
  const found = new Map<string, { module: string; query: PreparedQuery<unknown, unknown> }>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.queries.ts')).sort()) {
    const module = (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(module)) {
      if (value instanceof PreparedQuery) found.set(exportName, { module: `src/queries/${file}`, query: value });
    }
  }
  return found;
}

/** What a seeded victim owns: one of everything, including a tool call and its result. */
export interface Victim {
  userId: string;
  /** A word that appears in every text the victim wrote and nowhere else. */
  marker: string;
  taskId: string;
  completedTaskId: string;
  conversationId: string;
  archivedConversationId: string;
  messageIds: string[];
  toolCallId: string;
  /** The position of the newest message of the victim's conversation. */
  lastPosition: number;
  /** The call id of the victim's Agents SDK function call, and the id of their AI SDK message. */
  agentsCallId: string;
  uiMessageId: string;
  /** The id of the victim's usage record (of a run in their conversation), which holds the marker. */
  usageId: string;
}

/** Creates a victim's data through the public API. */
export async function seedVictim(store: Store, userId: string): Promise<Victim> {
  const marker = `victimsecret${userId.replace(/-/g, '').slice(0, 12)}`;
  return store.withUser(userId, async (tx) => {
    await tx.users.ensure();
    const task = await tx.tasks.create({ title: `buy milk ${marker}`, description: `private ${marker}` });
    const done = await tx.tasks.create({ title: `done ${marker}`, completed: true });
    const conversation = await tx.conversations.create({ title: `chat ${marker}` });
    const archived = await tx.conversations.create({ title: `old ${marker}` });
    await tx.conversations.archive(archived.id);
    const toolCallId = `call_${marker}`;
    const messages = await tx.messages.appendTurn(conversation.id, [
      { role: 'user', content: `remind me ${marker}` },
      { role: 'assistant', content: '', toolCalls: [{ id: toolCallId, name: 'create_task', arguments: { title: marker } }] },
      { role: 'tool', toolCallId, content: `created ${marker}` },
      { role: 'assistant', content: `done ${marker}` },
    ]);
    const agentsCallId = `fc_call_${marker}`;
    const uiMessageId = `ui_${marker}`;
    const items = await tx.messages.appendTurn(conversation.id, [
      { format: 'openai-agents', item: { role: 'user', content: [{ type: 'input_text', text: `list ${marker}` }] } },
      {
        format: 'openai-agents',
        item: { type: 'function_call', id: `fc_${marker}`, callId: agentsCallId, name: 'list_tasks', arguments: JSON.stringify({ marker }), status: 'completed' },
      },
      { format: 'openai-agents', item: { type: 'function_call_result', callId: agentsCallId, name: 'list_tasks', status: 'completed', output: `listed ${marker}` } },
      {
        format: 'ai-sdk',
        item: {
          id: uiMessageId,
          role: 'assistant',
          parts: [
            { type: 'text', text: `here ${marker}` },
            { type: 'tool-add_task', toolCallId: `ui_call_${marker}`, state: 'output-available', input: { title: marker }, output: { id: marker } },
          ],
        },
      },
    ]);
    await tx.messages.append(archived.id, { role: 'user', content: `archived ${marker}` });
    const usageId = `run_${marker}`;
    await tx.usage.record(conversation.id, { id: usageId, messageId: uiMessageId, model: `model-${marker}`, requests: 2, inputTokens: 300, outputTokens: 40 });
    return {
      userId,
      marker,
      taskId: task.id,
      completedTaskId: done.id,
      conversationId: conversation.id,
      archivedConversationId: archived.id,
      messageIds: [...messages, ...items].map((m) => m.id),
      toolCallId,
      lastPosition: items[items.length - 1]!.position,
      agentsCallId,
      uiMessageId,
      usageId,
    };
  });
}
