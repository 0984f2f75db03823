/**
 * The Vercel AI SDK's UIMessage (package `ai`), stored exactly as given, under
 * its own id. From it the library derives:
 * - role: the message's role (system, user, assistant); a tool's result lives
 *   inside the assistant message that called it;
 * - content: its text parts, in order, for search (reasoning, files, sources
 *   and data parts are kept in the item, not searched);
 * - the audit: each tool part (`tool-<name>`, or `dynamic-tool` with its
 *   toolName) past input-streaming is a call with its input as arguments; in
 *   output-available it also carries its result (the output), in
 *   output-error its error text, in output-denied the reason given.
 */
import type { JsonValue } from '../schemas.js';
import { AuditCallId, AuditToolName, ItemReader, MessageId, joinText, type AuditCall, type AuditResult, type MessageRole } from './derived.js';

export interface UiMessageParts {
  id: string;
  role: MessageRole;
  content: string;
  calls: AuditCall[];
  results: AuditResult[];
}

/** Tool part state → what its result is, for the states that have one. */
const RESULT_OF_STATE: Record<string, (part: Record<string, JsonValue>) => JsonValue | undefined> = {
  'output-available': (part) => part.output,
  'output-error': (part) => part.errorText,
  'output-denied': (part) => {
    const approval = part.approval;
    return typeof approval === 'object' && approval !== null && !Array.isArray(approval) ? approval.reason : undefined;
  },
};

export function deriveUiMessage(item: Record<string, JsonValue>, read: ItemReader): UiMessageParts {
  const id = read.string(item.id, ['item', 'id'], MessageId);
  const role = read.string(item.role, ['item', 'role']);
  if (role !== 'user' && role !== 'assistant' && role !== 'system') read.fail(['item', 'role'], 'must be system, user or assistant');
  const texts: (string | undefined)[] = [];
  const calls: AuditCall[] = [];
  const results: AuditResult[] = [];
  read.array(item.parts, ['item', 'parts']).forEach((value, index) => {
    const where = ['item', 'parts', index];
    const part = read.object(value, where);
    const type = read.string(part.type, [...where, 'type']);
    if (type === 'text') {
      texts.push(read.string(part.text, [...where, 'text']));
      return;
    }
    if (!type.startsWith('tool-') && type !== 'dynamic-tool') return;
    const state = read.string(part.state, [...where, 'state']);
    const callId = read.string(part.toolCallId, [...where, 'toolCallId'], AuditCallId);
    const name = type === 'dynamic-tool' ? read.string(part.toolName, [...where, 'toolName'], AuditToolName) : read.string(type.slice('tool-'.length), [...where, 'type'], AuditToolName);
    if (state === 'input-streaming') return;
    // A message may show one call in several parts (as it moved from input to output): it is one call.
    if (!calls.some((call) => call.callId === callId)) calls.push({ callId, name, arguments: part.input });
    const result = Object.hasOwn(RESULT_OF_STATE, state) ? RESULT_OF_STATE[state] : undefined;
    if (result) results.push({ callId, output: result(part), status: state });
  });
  return { id, role, content: joinText(texts), calls, results };
}
