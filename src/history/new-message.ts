/**
 * What may be appended: a plain chat message (role, content, toolCalls,
 * toolCallId, as before), or an SDK item tagged with its format, and how each
 * becomes a DerivedMessage.
 */
import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { MessageContent, ToolCallId, ToolCalls, jsonRoundTripProblem, type JsonObject } from '../schemas.js';
import { plainDataProblem } from '../plain-data.js';
import { ItemReader, MessageId, type AuditCall, type AuditResult, type DerivedMessage } from './derived.js';
import { deriveAgentsItem } from './openai-agents.js';
import { deriveUiMessage } from './ai-sdk.js';

const chat = { id: MessageId.optional(), format: z.literal('chat').optional() };

/** A plain chat message: the shape depends on its role. */
export const ChatMessage = z.discriminatedUnion('role', [
  z.strictObject({ ...chat, role: z.literal('user'), content: MessageContent }),
  z.strictObject({ ...chat, role: z.literal('system'), content: MessageContent }),
  z.strictObject({ ...chat, role: z.literal('assistant'), content: MessageContent.default(''), toolCalls: ToolCalls.nullable().optional() }),
  z.strictObject({ ...chat, role: z.literal('tool'), toolCallId: ToolCallId, content: MessageContent }),
]);

/**
 * An SDK item: a JSON object of at most LIMITS.item.maxJsonBytes, nested at
 * most LIMITS.item.maxDepth deep. Typed `object` on input so that the SDKs'
 * own item types (interfaces without index signatures) fit without a cast.
 */
export const SdkItem = z
  .custom<object>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'must be a JSON object')
  .superRefine((item, ctx) => {
  // Bounds what the walks below cost: a shared sub-object counts every time it appears.
  const oversized = plainDataProblem(item, { maxValues: LIMITS.input.maxValues, maxBytes: LIMITS.item.maxJsonBytes });
  if (oversized) {
    ctx.addIssue({ code: 'custom', path: oversized.path, message: `an item ${oversized.message}; it is refused, never truncated` });
    return;
  }
  const problem = jsonRoundTripProblem(item, LIMITS.item.maxDepth);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return;
  }
  const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
  if (bytes > LIMITS.item.maxJsonBytes) {
    ctx.addIssue({ code: 'custom', message: `an item must be at most ${LIMITS.item.maxJsonBytes} bytes of JSON (got ${bytes}); it is refused, never truncated` });
  }
  })
  .transform((item) => item as JsonObject);

/** A message to append or to replace with. */
export const NewMessage = z.discriminatedUnion('format', [
  ChatMessage,
  z.strictObject({ id: MessageId.optional(), format: z.literal('openai-agents'), item: SdkItem }),
  z.strictObject({ id: MessageId.optional(), format: z.literal('ai-sdk'), item: SdkItem }),
]);
export type NewMessage = z.input<typeof NewMessage>;
type ParsedMessage = z.output<typeof NewMessage>;

/** Role, content and audit of a parsed message; `path` locates it in the caller's input for errors. */
export function deriveMessage(message: ParsedMessage, path: (string | number)[]): DerivedMessage {
  const read = new ItemReader(path);
  if (message.format === 'openai-agents') {
    const parts = deriveAgentsItem(message.item, read);
    return { id: message.id, format: 'openai-agents', item: message.item, ...parts };
  }
  if (message.format === 'ai-sdk') {
    const { id, ...parts } = deriveUiMessage(message.item, read);
    if (message.id !== undefined && message.id !== id) read.fail(['id'], `must be the UIMessage's own id (${JSON.stringify(id)}) when given`);
    return { id, format: 'ai-sdk', item: message.item, ...parts };
  }
  const calls: AuditCall[] = [];
  const results: AuditResult[] = [];
  let toolCalls;
  let toolCallId;
  if (message.role === 'assistant' && message.toolCalls) {
    toolCalls = message.toolCalls;
    for (const call of toolCalls) calls.push({ callId: call.id, name: call.name, arguments: call.arguments });
  }
  if (message.role === 'tool') {
    toolCallId = message.toolCallId;
    results.push({ callId: toolCallId, output: message.content });
  }
  return { id: message.id, role: message.role, format: 'chat', content: message.content, toolCalls, toolCallId, calls, results };
}
