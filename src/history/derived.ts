/**
 * What the library keeps of a message, whichever API wrote it: its role, a
 * plain text for search, the message as given (plain chat fields, or the SDK
 * item exactly), and the tool-call audit it contributes (calls, and results
 * linked to their calls by call id). The append statement (sql/messages.sql)
 * writes all of it at once.
 */
import { z } from 'zod';
import { LIMITS, MESSAGE_FORMATS, MESSAGE_ROLES } from '../limits.js';
import { ValidationError } from '../errors.js';
import { codePointLength, storableText, type JsonValue, type ToolCall } from '../schemas.js';

export type MessageRole = (typeof MESSAGE_ROLES)[number];
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/** A call the agent made: which tool, with what (exactly as the SDK gave it). */
export interface AuditCall {
  callId: string;
  name: string;
  arguments?: JsonValue | undefined;
}

/** What came back: the output exactly as the SDK gave it, and its status when the SDK reports one. */
export interface AuditResult {
  callId: string;
  output?: JsonValue | undefined;
  status?: string | undefined;
}

export interface DerivedMessage {
  /** The caller's id; absent: the database makes one. */
  id?: string | undefined;
  role: MessageRole;
  format: MessageFormat;
  content: string;
  toolCalls?: ToolCall[] | undefined;
  toolCallId?: string | undefined;
  item?: JsonValue | undefined;
  calls: AuditCall[];
  results: AuditResult[];
}

export const AuditCallId = storableText(LIMITS.auditCallId);
export const AuditToolName = storableText(LIMITS.auditToolName);

/** A message id: the caller's (its SDK's), 1..255 characters, unique within its conversation. */
export const MessageId = storableText(LIMITS.messageId);

/** Joins the text parts of an item, in order, for search. */
export function joinText(parts: (string | undefined)[]): string {
  return parts.filter((part): part is string => typeof part === 'string' && part.length > 0).join('\n\n');
}

/** The statuses SDKs report are short words (at most 255 characters, as tool_results_status_length); anything else is not a status. */
export function statusOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && codePointLength(value) <= 255 ? value : undefined;
}

/**
 * Reading an SDK item whose shape the library relies on (ids, names, roles):
 * each reader refuses a value of the wrong kind with a ValidationError naming
 * its path inside the message.
 */
export class ItemReader {
  constructor(private readonly path: (string | number)[]) {}

  fail(where: (string | number)[], message: string): never {
    const path = [...this.path, ...where];
    throw new ValidationError(`invalid message at ${path.join('.')}: ${message}`, [{ path, message, code: 'custom' }]);
  }

  /** A string field that must be there. */
  string(value: unknown, where: (string | number)[], schema: z.ZodType<string> = z.string()): string {
    const parsed = schema.safeParse(value);
    if (!parsed.success) this.fail(where, parsed.error.issues[0]?.message ?? 'must be a string');
    return parsed.data;
  }

  /** An array field that must be there. */
  array(value: unknown, where: (string | number)[]): unknown[] {
    if (!Array.isArray(value)) this.fail(where, 'must be an array');
    return value;
  }

  /** A JSON object (the item and its parts are plain data by then). */
  object(value: unknown, where: (string | number)[]): Record<string, JsonValue> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(where, 'must be an object');
    return value as Record<string, JsonValue>;
  }
}
