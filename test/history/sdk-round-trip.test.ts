/**
 * SDK items round-trip: an item of every kind of the OpenAI Agents SDK's
 * AgentInputItem union, and UIMessages of the AI SDK with every part kind
 * (tool parts in every state), are appended with their format and read back
 * deep-equal through history, all, batches and get. What the library derives
 * from them is checked too: the role, the plain-text content (text parts
 * only: no JSON key or argument is searchable) and the tool-call audit of
 * every call and result kind.
 *
 * The fixtures are typed with the SDKs' own types (devDependencies
 * @openai/agents-core and ai), so a fixture that is not a valid item fails
 * `npx tsc --noEmit`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentInputItem } from '@openai/agents-core';
import type { UIMessage } from 'ai';
import { createTestDatabase } from '../helpers/db.js';
import { countRows } from '../helpers/snapshots.js';
import { LIMITS, ValidationError, type JsonObject, type JsonValue, type Message, type NewMessage, type ToolCallRecord } from '../../src/index.js';

const db = await createTestDatabase();
const store = db.store();

async function newConversation(user: string): Promise<string> {
  return (await store.withUser(user, (tx) => tx.conversations.create())).id;
}

/*
 * NewMessage['item'] is typed JsonObject, which neither SDK type can stand for
 * without a cast: UIMessage is an interface (no index signature), and the
 * AgentInputItem union holds ToolSearchCallItem, whose `arguments` is
 * `unknown` (reported). These two casts are the only ones of this file.
 */
function uiItem(message: TodoUIMessage): JsonObject {
  return message as unknown as JsonObject;
}
function agentsItem(item: AgentInputItem): JsonObject {
  return item as unknown as JsonObject;
}

// ---------------------------------------------------------------------------
// Agents SDK fixtures: every member of the AgentInputItem union.
// ---------------------------------------------------------------------------

interface AgentsFixture {
  item: AgentInputItem;
  /** The message id to append under (the item's own id when it has one); absent: the database makes a uuid. */
  id?: string;
  role: Message['role'];
  content: string;
}

const LONG_ANSWER = `The plan for the week, in detail: ${'monday tuesday wednesday thursday friday '.repeat(300)}`.slice(0, 12_000);

/*
 * Words that appear only inside JSON (arguments, keys, provider data,
 * encrypted payloads) and must never be found by search; and words of the
 * text parts that must be.
 */
const HIDDEN_WORDS = ['quokkaargument', 'zebrakey', 'providerflamingo', 'encryptedpangolin', 'reasoningnarwhal', 'patchaardvark'];

const AGENT_FIXTURES: AgentsFixture[] = [
  {
    id: 'msg_system_0001',
    item: { id: 'msg_system_0001', role: 'system', content: 'You are a careful todo assistant.' },
    role: 'system',
    content: 'You are a careful todo assistant.',
  },
  {
    // A plain user message: a string, no id (the database makes one), provider data.
    item: { role: 'user', content: 'Remind me about the dentist appointment', providerData: { providerflamingo: { nested: [1, 2.5, null, true] } } },
    role: 'user',
    content: 'Remind me about the dentist appointment',
  },
  {
    id: 'msg_user_parts_01',
    item: {
      type: 'message',
      id: 'msg_user_parts_01',
      role: 'user',
      content: [
        { type: 'input_text', text: 'What does this receipt say?' },
        { type: 'input_image', image: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk', detail: 'high' },
        { type: 'input_image', image: { id: 'file_img_123' } },
        { type: 'input_file', file: { id: 'file_pdf_456' }, filename: 'receipt.pdf' },
        { type: 'input_file', file: { url: 'https://example.com/zebrakey.pdf' } },
        { type: 'input_file', file: 'data:application/pdf;base64,JVBERi0xLjQK', filename: 'inline.pdf', promptCacheBreakpoint: { mode: 'explicit' } },
        { type: 'audio', audio: 'UklGRiQAAABXQVZFZm10', format: 'wav', transcript: null },
        { type: 'input_text', text: 'Also: café ☕ 日本語 😀 "quoted" \\ backslash' },
      ],
    },
    role: 'user',
    content: 'What does this receipt say?\n\nAlso: café ☕ 日本語 😀 "quoted" \\ backslash',
  },
  {
    id: 'msg_assistant_01',
    item: {
      type: 'message',
      id: 'msg_assistant_01',
      role: 'assistant',
      status: 'completed',
      phase: 'final_answer',
      content: [
        { type: 'output_text', text: 'The receipt is for groceries.', providerData: { annotations: [], logprobs: [{ token: 'zebrakey', p: -0.01 }] } },
        { type: 'refusal', refusal: 'I cannot read the card number.' },
      ],
      providerData: { providerflamingo: 'x' },
    },
    role: 'assistant',
    content: 'The receipt is for groceries.\n\nI cannot read the card number.',
  },
  {
    id: 'msg_assistant_long',
    item: { type: 'message', id: 'msg_assistant_long', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: LONG_ANSWER }] },
    role: 'assistant',
    content: LONG_ANSWER,
  },
  // function_call and its three kinds of result.
  {
    id: 'fc_0001',
    item: {
      type: 'function_call',
      id: 'fc_0001',
      callId: 'call_fn_string',
      name: 'add_task',
      arguments: JSON.stringify({ title: 'Dentist', quokkaargument: true, zebrakey: { deep: [1, 2, 3] } }),
      status: 'completed',
      providerData: { providerflamingo: 1 },
    },
    role: 'assistant',
    content: '',
  },
  {
    id: 'fco_0001',
    item: { type: 'function_call_result', id: 'fco_0001', callId: 'call_fn_string', name: 'add_task', status: 'completed', output: 'Task created: dentist on Monday' },
    role: 'tool',
    content: 'Task created: dentist on Monday',
  },
  {
    id: 'fc_0002',
    item: { type: 'function_call', id: 'fc_0002', callId: 'call_fn_text', name: 'list_tasks', namespace: 'todo', arguments: '{}', caller: { type: 'direct' } },
    role: 'assistant',
    content: '',
  },
  {
    id: 'fco_0002',
    item: {
      type: 'function_call_result',
      id: 'fco_0002',
      callId: 'call_fn_text',
      name: 'list_tasks',
      namespace: 'todo',
      status: 'completed',
      output: { type: 'text', text: 'You have three open tasks' },
    },
    role: 'tool',
    content: 'You have three open tasks',
  },
  {
    id: 'fc_0003',
    item: { type: 'function_call', id: 'fc_0003', callId: 'call_fn_structured', name: 'render_chart', arguments: '{"quokkaargument":"bar"}' },
    role: 'assistant',
    content: '',
  },
  {
    // A result without an id: the database makes one.
    item: {
      type: 'function_call_result',
      callId: 'call_fn_structured',
      name: 'render_chart',
      status: 'incomplete',
      output: [
        { type: 'input_text', text: 'Chart rendered' },
        { type: 'input_image', image: 'https://example.com/chart.png', detail: 'low' },
        { type: 'input_file', file: { id: 'file_chart' } },
        { type: 'input_text', text: 'with two series' },
      ],
    },
    role: 'tool',
    content: 'Chart rendered\n\nwith two series',
  },
  // computer use: a legacy single action and GA batched actions.
  {
    id: 'cu_0001',
    item: { type: 'computer_call', id: 'cu_0001', callId: 'call_cu_1', status: 'completed', action: { type: 'click', x: 10, y: 20, button: 'left' } },
    role: 'assistant',
    content: '',
  },
  {
    id: 'cuo_0001',
    item: { type: 'computer_call_result', id: 'cuo_0001', callId: 'call_cu_1', output: { type: 'computer_screenshot', data: 'data:image/png;base64,AAAA' } },
    role: 'tool',
    content: '',
  },
  {
    id: 'cu_0002',
    item: {
      type: 'computer_call',
      id: 'cu_0002',
      callId: 'call_cu_2',
      status: 'in_progress',
      actions: [
        { type: 'type', text: 'hello' },
        { type: 'keypress', keys: ['CTRL', 'S'] },
        { type: 'drag', path: [{ x: 0, y: 0 }, { x: 5, y: 5 }] },
        { type: 'scroll', x: 1, y: 2, scroll_x: 0, scroll_y: -300 },
      ],
    },
    role: 'assistant',
    content: '',
  },
  {
    id: 'cuo_0002',
    item: { type: 'computer_call_result', id: 'cuo_0002', callId: 'call_cu_2', output: { type: 'computer_screenshot', data: 'https://example.com/shot.png' } },
    role: 'tool',
    content: '',
  },
  // shell
  {
    id: 'sh_0001',
    item: { type: 'shell_call', id: 'sh_0001', callId: 'call_sh_1', status: 'completed', action: { commands: ['ls -la', 'cat todo.txt'], timeoutMs: 1000, maxOutputLength: 4096 } },
    role: 'assistant',
    content: '',
  },
  {
    id: 'sho_0001',
    item: {
      type: 'shell_call_output',
      id: 'sho_0001',
      callId: 'call_sh_1',
      status: 'completed',
      maxOutputLength: 4096,
      output: [
        { stdout: 'total 0\n', stderr: '', outcome: { type: 'exit', exitCode: 0 } },
        { stdout: '', stderr: 'cat: todo.txt: No such file', outcome: { type: 'exit', exitCode: 1 } },
        { stdout: '', stderr: '', outcome: { type: 'timeout' } },
      ],
    },
    role: 'tool',
    content: '',
  },
  // apply_patch
  {
    id: 'ap_0001',
    item: {
      type: 'apply_patch_call',
      id: 'ap_0001',
      callId: 'call_ap_1',
      status: 'completed',
      operation: { type: 'update_file', path: 'TODO.md', diff: '@@ -1 +1 @@\n-patchaardvark\n+done\n', moveTo: 'DONE.md' },
    },
    role: 'assistant',
    content: '',
  },
  {
    id: 'apo_0001',
    item: { type: 'apply_patch_call_output', id: 'apo_0001', callId: 'call_ap_1', status: 'failed', output: 'patch did not apply' },
    role: 'tool',
    content: '',
  },
  // a hosted tool call carries its own output
  {
    id: 'ws_0001',
    item: {
      type: 'hosted_tool_call',
      id: 'ws_0001',
      name: 'web_search_call',
      arguments: JSON.stringify({ query: 'quokkaargument opening hours' }),
      status: 'completed',
      output: 'Open 9 to 5',
      providerData: { action: { type: 'search', sources: ['https://example.com'] } },
    },
    role: 'assistant',
    content: '',
  },
  // program and its output
  {
    id: 'prog_0001',
    item: { type: 'program', id: 'prog_0001', callId: 'call_pg_1', code: 'print(sum([1, 2, 3]))  # quokkaargument', fingerprint: 'fp_abc' },
    role: 'assistant',
    content: '',
  },
  {
    id: 'progo_0001',
    item: { type: 'program_output', id: 'progo_0001', callId: 'call_pg_1', output: '6\n', status: 'completed' },
    role: 'tool',
    content: '',
  },
  // tool search, client-executed (linked by call id) and server-executed (no call id)
  {
    id: 'tsc_0001',
    item: { type: 'tool_search_call', id: 'tsc_0001', callId: 'call_ts_1', execution: 'client', arguments: { query: 'calendar', quokkaargument: 1 }, status: 'completed' },
    role: 'assistant',
    content: '',
  },
  {
    id: 'tso_0001',
    item: {
      type: 'tool_search_output',
      id: 'tso_0001',
      callId: 'call_ts_1',
      execution: 'client',
      status: 'completed',
      tools: [{ type: 'tool_reference', functionName: 'create_event', namespace: 'calendar' }, { type: 'function', name: 'zebrakey', parameters: {} }],
    },
    role: 'tool',
    content: '',
  },
  {
    id: 'tsc_0002',
    item: { type: 'tool_search_call', id: 'tsc_0002', call_id: null, execution: 'server', arguments: { paths: ['/'], query: 'mail' } },
    role: 'assistant',
    content: '',
  },
  {
    id: 'tso_0002',
    item: { type: 'tool_search_output', id: 'tso_0002', call_id: null, execution: 'server', tools: [] },
    role: 'tool',
    content: '',
  },
  // reasoning with encrypted content, compaction, and an unknown item
  {
    id: 'rs_0001',
    item: {
      type: 'reasoning',
      id: 'rs_0001',
      content: [{ type: 'input_text', text: 'reasoningnarwhal summary' }],
      rawContent: [{ type: 'reasoning_text', text: 'reasoningnarwhal raw' }],
      providerData: { encryptedContent: 'gAAAAABencryptedpangolin==' },
    },
    role: 'assistant',
    content: '',
  },
  {
    id: 'cmp_0001',
    item: { type: 'compaction', id: 'cmp_0001', encrypted_content: 'gAAAAABencryptedpangolin', created_by: 'resp_123' },
    role: 'assistant',
    content: '',
  },
  {
    id: 'unk_0001',
    item: { type: 'unknown', id: 'unk_0001', providerData: { type: 'future_item', zebrakey: { a: [[], {}] } } },
    role: 'assistant',
    content: '',
  },
];

/** What the audit must hold for the Agents SDK conversation, in the order the calls were made. */
function expectedAgentsAudit(structuredResultId: string) {
  const item = (id: string) => AGENT_FIXTURES.find((fixture) => fixture.id === id)!.item as Record<string, JsonValue>;
  const structured = AGENT_FIXTURES[10]!.item as Record<string, JsonValue>;
  return [
    { messageId: 'fc_0001', callId: 'call_fn_string', name: 'add_task', arguments: item('fc_0001').arguments!, format: 'openai-agents', results: [{ messageId: 'fco_0001', output: 'Task created: dentist on Monday', status: 'completed' }] },
    { messageId: 'fc_0002', callId: 'call_fn_text', name: 'list_tasks', arguments: '{}', format: 'openai-agents', results: [{ messageId: 'fco_0002', output: { type: 'text', text: 'You have three open tasks' }, status: 'completed' }] },
    {
      messageId: 'fc_0003',
      callId: 'call_fn_structured',
      name: 'render_chart',
      arguments: '{"quokkaargument":"bar"}',
      format: 'openai-agents',
      results: [{ messageId: structuredResultId, output: structured.output!, status: 'incomplete' }],
    },
    { messageId: 'cu_0001', callId: 'call_cu_1', name: 'computer', arguments: item('cu_0001').action!, format: 'openai-agents', results: [{ messageId: 'cuo_0001', output: item('cuo_0001').output!, status: null }] },
    { messageId: 'cu_0002', callId: 'call_cu_2', name: 'computer', arguments: item('cu_0002').actions!, format: 'openai-agents', results: [{ messageId: 'cuo_0002', output: item('cuo_0002').output!, status: null }] },
    { messageId: 'sh_0001', callId: 'call_sh_1', name: 'shell', arguments: item('sh_0001').action!, format: 'openai-agents', results: [{ messageId: 'sho_0001', output: item('sho_0001').output!, status: 'completed' }] },
    { messageId: 'ap_0001', callId: 'call_ap_1', name: 'apply_patch', arguments: item('ap_0001').operation!, format: 'openai-agents', results: [{ messageId: 'apo_0001', output: 'patch did not apply', status: 'failed' }] },
    { messageId: 'ws_0001', callId: 'ws_0001', name: 'web_search_call', arguments: item('ws_0001').arguments!, format: 'openai-agents', results: [{ messageId: 'ws_0001', output: 'Open 9 to 5', status: 'completed' }] },
    { messageId: 'prog_0001', callId: 'call_pg_1', name: 'program', arguments: item('prog_0001').code!, format: 'openai-agents', results: [{ messageId: 'progo_0001', output: '6\n', status: 'completed' }] },
    { messageId: 'tsc_0001', callId: 'call_ts_1', name: 'tool_search', arguments: item('tsc_0001').arguments!, format: 'openai-agents', results: [{ messageId: 'tso_0001', output: item('tso_0001').tools!, status: 'completed' }] },
  ];
}

// ---------------------------------------------------------------------------
// AI SDK fixtures: UIMessages with every part kind, tool parts in every state.
// ---------------------------------------------------------------------------

type TodoTools = {
  add_task: { input: { title: string; zebrakey?: string }; output: { id: string; created: boolean } };
  delete_task: { input: { id: string }; output: { deleted: boolean } };
};
type TodoData = { weather: { city: string; celsius: number }; progress: { done: number; of: number } };
type TodoMetadata = { createdAt: number; model?: string; tokens?: { input: number; output: number } };
type TodoUIMessage = UIMessage<TodoMetadata, TodoData, TodoTools>;

/** AI SDK ids are 16 alphanumeric characters (generateId). */
const UI_IDS = { system: 'Sys0aB1cD2eF3gH4', user: 'Usr5iJ6kL7mN8oP9', assistant: 'Ast0qR1sT2uV3wX4', long: 'Lng0gH1iJ2kL3mN4' };

const UI_FIXTURES: { item: TodoUIMessage; role: Message['role']; content: string }[] = [
  {
    item: { id: UI_IDS.system, role: 'system', parts: [{ type: 'text', text: 'You manage a todo list.' }] },
    role: 'system',
    content: 'You manage a todo list.',
  },
  {
    item: {
      id: UI_IDS.user,
      role: 'user',
      metadata: { createdAt: 1_767_225_600_000 },
      parts: [
        { type: 'text', text: 'Add milk, and here is my list', state: 'done' },
        { type: 'file', mediaType: 'image/png', filename: 'list.png', url: 'data:image/png;base64,iVBORw0KGgo=' },
        { type: 'file', mediaType: 'application/pdf', url: 'https://example.com/zebrakey.pdf', providerMetadata: { openai: { fileId: 'file_1' } } },
      ],
    },
    role: 'user',
    content: 'Add milk, and here is my list',
  },
  {
    item: {
      id: UI_IDS.assistant,
      role: 'assistant',
      metadata: { createdAt: 1_767_225_601_000, model: 'gpt-5', tokens: { input: 120, output: 48 } },
      parts: [
        { type: 'step-start' },
        {
          type: 'reasoning',
          text: 'reasoningnarwhal: the user wants a task',
          state: 'done',
          providerMetadata: { openai: { itemId: 'rs_abc', reasoningEncryptedContent: 'gAAAAencryptedpangolin' } },
        },
        { type: 'tool-add_task', toolCallId: 'call_ui_streaming', state: 'input-streaming', input: { title: 'Mi' }, rawInput: '{"title":"Mi' },
        { type: 'tool-add_task', toolCallId: 'call_ui_available', state: 'input-available', input: { title: 'Milk', zebrakey: 'quokkaargument' }, title: 'Add a task' },
        { type: 'tool-add_task', toolCallId: 'call_ui_requested', state: 'approval-requested', input: { title: 'Eggs' }, approval: { id: 'appr_1' } },
        { type: 'tool-add_task', toolCallId: 'call_ui_responded', state: 'approval-responded', input: { title: 'Bread' }, approval: { id: 'appr_2', approved: true, reason: 'fine' } },
        {
          type: 'tool-add_task',
          toolCallId: 'call_ui_output',
          state: 'output-available',
          input: { title: 'Milk' },
          output: { id: 'task_1', created: true },
          providerExecuted: false,
          callProviderMetadata: { openai: { itemId: 'fc_ui_1' } },
          resultProviderMetadata: { openai: { providerflamingo: true } },
          preliminary: false,
        },
        { type: 'tool-add_task', toolCallId: 'call_ui_error', state: 'output-error', input: { title: 'Butter' }, errorText: 'quota of tasks exceeded' },
        {
          type: 'tool-delete_task',
          toolCallId: 'call_ui_denied',
          state: 'output-denied',
          input: { id: 'task_0' },
          approval: { id: 'appr_3', approved: false, reason: 'the user keeps it' },
        },
        {
          type: 'dynamic-tool',
          toolName: 'mcp.weather',
          toolCallId: 'call_ui_dynamic',
          state: 'output-available',
          input: { city: 'Paris', quokkaargument: 1 },
          output: { celsius: 21 },
          toolMetadata: { server: 'weather-mcp' },
        },
        { type: 'source-url', sourceId: 'src_1', url: 'https://example.com/weather', title: 'Weather' },
        { type: 'source-document', sourceId: 'src_2', mediaType: 'application/pdf', title: 'Shopping policy', filename: 'policy.pdf' },
        { type: 'file', mediaType: 'text/plain', url: 'data:text/plain;base64,bWlsaw==' },
        { type: 'data-weather', id: 'weather_1', data: { city: 'Paris', celsius: 21 } },
        { type: 'data-progress', data: { done: 1, of: 3 } },
        { type: 'text', text: 'I added milk to your list.', state: 'done', providerMetadata: { openai: { itemId: 'msg_ui' } } },
        { type: 'step-start' },
        { type: 'text', text: 'Anything else?', state: 'streaming' },
      ],
    },
    role: 'assistant',
    content: 'I added milk to your list.\n\nAnything else?',
  },
  {
    item: { id: UI_IDS.long, role: 'assistant', parts: [{ type: 'text', text: LONG_ANSWER }] },
    role: 'assistant',
    content: LONG_ANSWER,
  },
];

const UI_AUDIT = [
  { callId: 'call_ui_available', name: 'add_task', arguments: { title: 'Milk', zebrakey: 'quokkaargument' }, result: null },
  { callId: 'call_ui_requested', name: 'add_task', arguments: { title: 'Eggs' }, result: null },
  { callId: 'call_ui_responded', name: 'add_task', arguments: { title: 'Bread' }, result: null },
  { callId: 'call_ui_output', name: 'add_task', arguments: { title: 'Milk' }, result: { output: { id: 'task_1', created: true }, status: 'output-available' } },
  { callId: 'call_ui_error', name: 'add_task', arguments: { title: 'Butter' }, result: { output: 'quota of tasks exceeded', status: 'output-error' } },
  { callId: 'call_ui_denied', name: 'delete_task', arguments: { id: 'task_0' }, result: { output: 'the user keeps it', status: 'output-denied' } },
  { callId: 'call_ui_dynamic', name: 'mcp.weather', arguments: { city: 'Paris', quokkaargument: 1 }, result: { output: { celsius: 21 }, status: 'output-available' } },
];

// ---------------------------------------------------------------------------

/** Every way of reading a conversation back, each as a list of messages oldest first. */
async function readBack(user: string, conversation: string, ids: string[]) {
  return store.withUser(user, async (tx) => {
    const history = await tx.messages.history(conversation, { limit: LIMITS.historyPage.maxLimit });
    assert.equal(history.before, null, 'the whole conversation fits one page');
    const all = await tx.messages.all(conversation);
    const streamed: Message[] = [];
    const batchSizes: number[] = [];
    for await (const batch of tx.messages.batches(conversation, { batchSize: 7 })) {
      batchSizes.push(batch.length);
      streamed.push(...batch);
    }
    assert.ok(batchSizes.every((size) => size <= 7), `batches of at most 7: ${batchSizes.join(',')}`);
    const got: Message[] = [];
    for (const id of ids) got.push(await tx.messages.get(conversation, id));
    return { history: history.items, all, streamed, got };
  });
}

async function auditOf(user: string, conversation: string): Promise<ToolCallRecord[]> {
  return store.withUser(user, async (tx) => {
    const records: ToolCallRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await tx.toolCalls.list({ conversationId: conversation, limit: 3, ...(cursor ? { cursor } : {}) });
      records.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return records;
  });
}

function withoutTimes(records: ToolCallRecord[]) {
  return records.map(({ createdAt, results, conversationId: _c, ...rest }) => {
    assert.ok(createdAt instanceof Date);
    for (const result of results) assert.ok(result.createdAt instanceof Date && !Number.isNaN(result.createdAt.getTime()));
    return { ...rest, results: results.map((result) => ({ messageId: result.messageId, output: result.output, status: result.status })) };
  });
}

describe('OpenAI Agents SDK items', () => {
  test('every kind of AgentInputItem round-trips deep-equal through history, all, batches and get, with its derived role and content', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const input: NewMessage[] = AGENT_FIXTURES.map((fixture) => ({ format: 'openai-agents', item: agentsItem(fixture.item), ...(fixture.id ? { id: fixture.id } : {}) }));
    const appended = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, input));
    assert.equal(appended.length, AGENT_FIXTURES.length);
    const ids = appended.map((message) => message.id);
    appended.forEach((message, index) => {
      const fixture = AGENT_FIXTURES[index]!;
      assert.equal(message.position, index + 1);
      if (fixture.id) assert.equal(message.id, fixture.id, 'the caller-given id (the item id) is the message id');
      else assert.match(message.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'no id given: a uuid');
    });

    const { history, all, streamed, got } = await readBack(user, conversation, ids);
    for (const [how, messages] of Object.entries({ appended, history, all, streamed, got })) {
      assert.equal(messages.length, AGENT_FIXTURES.length, how);
      messages.forEach((message, index) => {
        const fixture = AGENT_FIXTURES[index]!;
        const where = `${how}[${index}] (${(fixture.item as { type?: string }).type ?? 'message'})`;
        assert.deepStrictEqual(message.item, fixture.item, where);
        assert.equal(message.format, 'openai-agents', where);
        assert.equal(message.role, fixture.role, where);
        assert.equal(message.content, fixture.content, where);
        assert.equal(message.toolCalls, null, where);
        assert.equal(message.toolCallId, null, where);
        assert.equal(message.id, ids[index], where);
        assert.equal(message.position, index + 1, where);
        assert.equal(message.conversationId, conversation, where);
      });
    }
    assert.deepStrictEqual(history, all);
    assert.deepStrictEqual(streamed, all);
    assert.deepStrictEqual(got, all);
    assert.deepStrictEqual(appended, all, 'append returns what is stored');

    // The item is stored as its JSON text, exactly.
    const stored = await db.admin.query<{ item: string }>(
      'select item::text as item from todo_chat.messages where conversation_id = $1 order by position',
      [conversation],
    );
    assert.deepEqual(stored.rows.map((row) => row.item), AGENT_FIXTURES.map((fixture) => JSON.stringify(fixture.item)));
  });

  test('the audit holds each call kind with its result; a server-run tool search has none; search finds text parts only', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const input: NewMessage[] = AGENT_FIXTURES.map((fixture) => ({ format: 'openai-agents', item: agentsItem(fixture.item), ...(fixture.id ? { id: fixture.id } : {}) }));
    const appended = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, input));
    const structuredResultId = appended[10]!.id;
    assert.equal((appended[10]!.item as { type: string }).type, 'function_call_result');

    const audit = await auditOf(user, conversation);
    assert.deepStrictEqual(withoutTimes(audit), expectedAgentsAudit(structuredResultId));
    assert.ok(audit.every((record) => record.conversationId === conversation));
    // Plain positions order the calls: the audit lists them in the order of their messages.
    const counts = await db.admin.query<{ calls: number; results: number }>(
      `select (select count(*)::int from todo_chat.tool_calls where conversation_id = $1) as calls,
              (select count(*)::int from todo_chat.tool_results where conversation_id = $1) as results`,
      [conversation],
    );
    assert.deepEqual(counts.rows, [{ calls: 10, results: 10 }], 'the server-run tool search (no call id) is in neither table');

    await store.withUser(user, async (tx) => {
      for (const word of HIDDEN_WORDS) {
        assert.deepEqual(await tx.messages.search(word), [], `${word} is only inside JSON: search must not find it`);
      }
      const dentist = await tx.messages.search('dentist');
      assert.deepEqual(
        dentist.map((hit) => hit.message.id).sort(),
        [appended[1]!.id, 'fco_0001'].sort(),
        'the user message and the string output of a function call are searchable text',
      );
      assert.deepEqual((await tx.messages.search('"three open tasks"')).map((hit) => hit.message.id), ['fco_0002'], 'a text-part output');
      assert.deepEqual((await tx.messages.search('"two series"')).map((hit) => hit.message.id), [structuredResultId], 'a structured output');
      assert.deepEqual((await tx.messages.search('card number')).map((hit) => hit.message.id), ['msg_assistant_01'], 'a refusal');
      assert.deepEqual((await tx.messages.search('receipt groceries')).map((hit) => hit.message.id), ['msg_assistant_01']);
      assert.deepEqual((await tx.messages.search('careful assistant')).map((hit) => hit.message.id), ['msg_system_0001']);
      const hit = (await tx.messages.search('dentist', { conversationId: conversation })).find((h) => h.message.id === 'fco_0001');
      assert.ok(hit);
      assert.deepStrictEqual(hit.message.item, AGENT_FIXTURES[6]!.item, 'search returns the item too');
    });
  });
});

describe('AI SDK UIMessages', () => {
  test('UIMessages with every part kind round-trip deep-equal, under their own 16-character ids', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const input: NewMessage[] = UI_FIXTURES.map((fixture) => ({ format: 'ai-sdk', item: uiItem(fixture.item) }));
    const appended = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, input));
    assert.deepEqual(
      appended.map((message) => message.id),
      UI_FIXTURES.map((fixture) => fixture.item.id),
    );
    assert.ok(appended.every((message) => /^[A-Za-z0-9]{16}$/.test(message.id)));

    const { history, all, streamed, got } = await readBack(user, conversation, Object.values(UI_IDS));
    const byPosition = (messages: Message[]) => messages.slice().sort((a, b) => a.position - b.position);
    for (const [how, messages] of Object.entries({ appended, history, all, streamed, got: byPosition(got) })) {
      assert.equal(messages.length, UI_FIXTURES.length, how);
      messages.forEach((message, index) => {
        const fixture = UI_FIXTURES[index]!;
        const where = `${how}[${index}] (${fixture.item.role})`;
        assert.deepStrictEqual(message.item, fixture.item, where);
        assert.equal(message.id, fixture.item.id, where);
        assert.equal(message.format, 'ai-sdk', where);
        assert.equal(message.role, fixture.role, where);
        assert.equal(message.content, fixture.content, where);
        assert.equal(message.position, index + 1, where);
        assert.equal(message.toolCalls, null, where);
        assert.equal(message.toolCallId, null, where);
      });
    }
  });

  test('every tool part past input-streaming is a call; output-available, output-error and output-denied carry the result; search finds text parts only', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, UI_FIXTURES.map((fixture) => ({ format: 'ai-sdk', item: uiItem(fixture.item) }))));
    const audit = await auditOf(user, conversation);
    assert.deepStrictEqual(
      withoutTimes(audit),
      UI_AUDIT.map((call) => ({
        messageId: UI_IDS.assistant,
        callId: call.callId,
        name: call.name,
        arguments: call.arguments,
        format: 'ai-sdk',
        results: call.result ? [{ messageId: UI_IDS.assistant, ...call.result }] : [],
      })),
    );
    assert.ok(!audit.some((record) => record.callId === 'call_ui_streaming'), 'a call still streaming its input is not a call yet');

    await store.withUser(user, async (tx) => {
      for (const word of HIDDEN_WORDS) {
        assert.deepEqual(await tx.messages.search(word), [], `${word} is only inside JSON (input, metadata, reasoning): not searchable`);
      }
      assert.deepEqual((await tx.messages.search('milk list')).map((hit) => hit.message.id).sort(), [UI_IDS.assistant, UI_IDS.user].sort());
      assert.deepEqual((await tx.messages.search('"anything else"')).map((hit) => hit.message.id), [UI_IDS.assistant], 'text parts are joined in order');
      assert.deepEqual(await tx.messages.search('policy'), [], 'a source document title is not text the user and the assistant exchanged');
    });
  });
});

describe('a UIMessage showing one call in several parts', () => {
  test('is one call, with its result once; two identical parts too (never a NotFoundError of its own conversation)', async () => {
    // Regression: two identical tool parts made two identical calls, of which
    // AppendMessages recorded one (tool_calls_recorded_once_idx) while the
    // result could be linked to the other, never inserted: the foreign key
    // failed (23503), reported as NotFoundError('conversation').
    const user = await db.createUser();
    const input = { type: 'tool-add_task', toolCallId: 'call_twice', state: 'input-available', input: { title: 'Milk' } } as const;
    const output = { type: 'tool-add_task', toolCallId: 'call_twice', state: 'output-available', input: { title: 'Milk' }, output: { id: 'task_1', created: true } } as const;
    for (const [how, parts] of [
      ['input, then output', [input, output]],
      ['the same part twice', [output, output]],
    ] as const) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const conversation = await newConversation(user);
        await store.withUser(user, (tx) => tx.messages.append(conversation, { format: 'ai-sdk', item: uiItem({ id: 'Twice0aB1cD2eF3g', role: 'assistant', parts: [...parts] }) }));
        const audit = await auditOf(user, conversation);
        assert.deepEqual(
          withoutTimes(audit),
          [
            {
              messageId: 'Twice0aB1cD2eF3g',
              callId: 'call_twice',
              name: 'add_task',
              arguments: { title: 'Milk' },
              format: 'ai-sdk',
              results: [{ messageId: 'Twice0aB1cD2eF3g', output: { id: 'task_1', created: true }, status: 'output-available' }],
            },
          ],
          `${how}, attempt ${attempt}`,
        );
      }
    }
  });
});

describe('item size', () => {
  test('a 12,000-character answer, beyond the plain chat content limit, is accepted as an item of either SDK', async () => {
    assert.equal(LONG_ANSWER.length, 12_000);
    assert.ok(LONG_ANSWER.length > LIMITS.messageContent.max);
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'assistant', content: LONG_ANSWER })),
      ValidationError,
      'as plain chat it is too long',
    );
    const [agents, ui] = await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { id: 'msg_long_1', format: 'openai-agents', item: agentsItem({ role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: LONG_ANSWER }] }) },
        { format: 'ai-sdk', item: uiItem({ id: 'Lng9zZ8yY7xX6wW5', role: 'assistant', parts: [{ type: 'text', text: LONG_ANSWER }] }) },
      ]),
    );
    assert.equal(agents!.content.length, 12_000);
    assert.equal(ui!.content, LONG_ANSWER);
    const back = await store.withUser(user, (tx) => tx.messages.get(conversation, 'msg_long_1'));
    assert.equal((back.item as { content: { text: string }[] }).content[0]!.text, LONG_ANSWER);
  });

  test('an item of exactly LIMITS.item.maxJsonBytes is stored whole; one byte more is a ValidationError and writes nothing, never truncated', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const max = LIMITS.item.maxJsonBytes;
    // Multi-byte text, so that bytes, not characters, are what is counted (here and in the CHECK).
    const itemOf = (bytes: number): AgentInputItem => {
      const shell: AgentInputItem = { role: 'user', content: '' };
      const overhead = Buffer.byteLength(JSON.stringify(shell), 'utf8');
      const room = bytes - overhead;
      const text = 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
      const item: AgentInputItem = { role: 'user', content: text };
      assert.equal(Buffer.byteLength(JSON.stringify(item), 'utf8'), bytes);
      return item;
    };
    const fits = itemOf(max);
    const stored = await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'msg_max', format: 'openai-agents', item: agentsItem(fits) }));
    assert.deepStrictEqual(stored.item, fits);
    const length = await db.admin.query<{ bytes: number }>("select octet_length(item::text) as bytes from todo_chat.messages where id = 'msg_max'");
    assert.deepEqual(length.rows, [{ bytes: max }]);

    const before = await countRows(db.admin, user);
    const tooBig = itemOf(max + 1);
    for (const format of ['openai-agents', 'ai-sdk'] as const) {
      const item =
        format === 'ai-sdk'
          ? uiItem({ id: 'Big0aB1cD2eF3gH4', role: 'user', parts: [{ type: 'text', text: (tooBig as { content: string }).content }] })
          : agentsItem(tooBig);
      assert.ok(Buffer.byteLength(JSON.stringify(item), 'utf8') > max);
      await assert.rejects(
        store.withUser(user, (tx) => tx.messages.append(conversation, { format, item })),
        (error: unknown) => error instanceof ValidationError && /refused, never truncated/.test(error.message),
        format,
      );
    }
    assert.deepEqual(await countRows(db.admin, user), before, 'nothing written');
    const last = await db.admin.query('select last_position from todo_chat.conversations where id = $1', [conversation]);
    assert.deepEqual(last.rows, [{ last_position: 1 }]);
  });
});
