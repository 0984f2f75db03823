/**
 * The OpenAI Agents SDK's items (AgentInputItem of @openai/agents-core),
 * stored exactly as given. From each the library derives:
 * - role: a message's own role; a tool's output is 'tool'; every other item
 *   (a tool call, reasoning, compaction, an unknown item) is the assistant's;
 * - content: the text the user and the assistant exchanged (input_text,
 *   output_text, refusals, a system message, a tool output's text), never
 *   JSON keys, for search;
 * - the audit: the call of function_call, computer_call, shell_call,
 *   apply_patch_call, program, tool_search_call and hosted_tool_call items
 *   (named after the tool, arguments as given), and the result of
 *   function_call_result, computer_call_result, shell_call_output,
 *   apply_patch_call_output, program_output and tool_search_output items,
 *   linked by callId. A hosted tool call carries its own output, and is
 *   recorded as a call and its result under its item id.
 */
import type { JsonValue } from '../schemas.js';
import { AuditCallId, AuditToolName, ItemReader, joinText, statusOf, type AuditCall, type AuditResult, type MessageRole } from './derived.js';

export interface AgentsItemParts {
  role: MessageRole;
  content: string;
  calls: AuditCall[];
  results: AuditResult[];
}

type Item = Record<string, JsonValue>;

/** Item type → the tool name its call is recorded under and what counts as its arguments. */
const CALLS: Record<string, { name: (item: Item, read: ItemReader) => string; arguments: (item: Item) => JsonValue | undefined }> = {
  function_call: { name: (item, read) => read.string(item.name, ['name'], AuditToolName), arguments: (item) => item.arguments },
  computer_call: { name: () => 'computer', arguments: (item) => item.actions ?? item.action },
  shell_call: { name: () => 'shell', arguments: (item) => item.action },
  apply_patch_call: { name: () => 'apply_patch', arguments: (item) => item.operation },
  program: { name: () => 'program', arguments: (item) => item.code },
  tool_search_call: { name: () => 'tool_search', arguments: (item) => item.arguments },
};

/** Item type → what counts as its output. */
const RESULTS: Record<string, (item: Item) => JsonValue | undefined> = {
  function_call_result: (item) => item.output,
  computer_call_result: (item) => item.output,
  shell_call_output: (item) => item.output,
  apply_patch_call_output: (item) => item.output,
  program_output: (item) => item.output,
  tool_search_output: (item) => item.tools,
};

/** Tool search items may be executed by the server, with no call id to link. */
const OPTIONAL_CALL_ID = new Set(['tool_search_call', 'tool_search_output']);

export function deriveAgentsItem(item: Item, read: ItemReader): AgentsItemParts {
  const type = item.type === undefined ? 'message' : read.string(item.type, ['item', 'type']);
  if (type === 'message') return message(item, read);
  const calls: AuditCall[] = [];
  const results: AuditResult[] = [];
  // Own properties only: an item type named like an Object.prototype member (constructor, toString) is no tool type.
  const call = Object.hasOwn(CALLS, type) ? CALLS[type] : undefined;
  const output = Object.hasOwn(RESULTS, type) ? RESULTS[type] : undefined;
  if (call || output) {
    const rawCallId = item.callId ?? item.call_id;
    const callId =
      OPTIONAL_CALL_ID.has(type) && (rawCallId === undefined || rawCallId === null)
        ? undefined
        : read.string(rawCallId, ['item', 'callId'], AuditCallId);
    if (callId !== undefined && call) calls.push({ callId, name: call.name(item, read), arguments: call.arguments(item) });
    if (callId !== undefined && output) results.push({ callId, output: output(item), status: statusOf(item.status) });
  }
  if (type === 'hosted_tool_call' && item.id !== undefined) {
    const callId = read.string(item.id, ['item', 'id'], AuditCallId);
    calls.push({ callId, name: read.string(item.name, ['item', 'name'], AuditToolName), arguments: item.arguments });
    if (item.output !== undefined) results.push({ callId, output: item.output, status: statusOf(item.status) });
  }
  return {
    role: output ? 'tool' : 'assistant',
    content: output && type === 'function_call_result' ? outputText(item.output) : '',
    calls,
    results,
  };
}

function message(item: Item, read: ItemReader): AgentsItemParts {
  const role = read.string(item.role, ['item', 'role']);
  if (role !== 'user' && role !== 'assistant' && role !== 'system') read.fail(['item', 'role'], 'must be user, assistant or system');
  const content = item.content;
  let text: string;
  if (typeof content === 'string') {
    text = content;
  } else {
    const parts = read.array(content, ['item', 'content']);
    text = joinText(
      parts.map((part, index) => {
        const p = read.object(part, ['item', 'content', index]);
        if (p.type === 'input_text' || p.type === 'output_text') return typeof p.text === 'string' ? p.text : undefined;
        if (p.type === 'refusal') return typeof p.refusal === 'string' ? p.refusal : undefined;
        return undefined;
      }),
    );
  }
  return { role, content: text, calls: [], results: [] };
}

/** The text of a function call's output: a string, a text part, or the input_text parts of a structured output. */
function outputText(output: JsonValue | undefined): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return joinText(output.map((part) => textOf(part)));
  return textOf(output) ?? '';
}

function textOf(part: JsonValue | undefined): string | undefined {
  if (typeof part !== 'object' || part === null || Array.isArray(part)) return undefined;
  return (part.type === 'text' || part.type === 'input_text') && typeof part.text === 'string' ? part.text : undefined;
}
