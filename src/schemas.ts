/**
 * zod schemas for everything that crosses the public API. They enforce the
 * limits of src/limits.ts (the CHECK constraints hold the same numbers) and
 * refuse what PostgreSQL could not store exactly: NUL characters, lone UTF-16
 * surrogates, JSON values that do not survive a round trip.
 */
import { z } from 'zod';
import { CONVERSATION_STATUSES, LIMITS, MESSAGE_ROLES } from './limits.js';
import { ValidationError } from './errors.js';
import { plainDataProblem } from './plain-data.js';

/** A UUID in PostgreSQL's canonical 8-4-4-4-12 form, either case: the one UUID pattern of the library. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** True for a UUID exactly as PostgreSQL prints it (lower case), as every id the library has parsed is. */
export function isCanonicalUuid(value: string): boolean {
  return UUID_PATTERN.test(value) && value === value.toLowerCase();
}

/** Number of Unicode code points, as PostgreSQL's char_length counts them. */
export function codePointLength(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

function storableTextProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (!value.isWellFormed()) return 'must not contain lone UTF-16 surrogates';
  return undefined;
}

/** A string PostgreSQL text can hold exactly, with a code-point length range. */
export function storableText(limits: { min?: number; max: number }) {
  return z.string().superRefine((value, ctx) => {
    const problem = storableTextProblem(value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    const length = codePointLength(value);
    if (limits.min !== undefined && length < limits.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${limits.min} characters (got ${length})` });
    } else if (length > limits.max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${limits.max} characters (got ${length})` });
    }
  });
}

/** A title: surrounding white space removed, then 1..max code points. */
function title(limits: { min: number; max: number }) {
  return z
    .string()
    .transform((value) => value.trim())
    .pipe(storableText(limits));
}

/** Any UUID PostgreSQL accepts in its canonical 8-4-4-4-12 form, normalised to lower case. */
export const Id = z
  .string()
  .regex(UUID_PATTERN, 'must be a UUID (8-4-4-4-12 hexadecimal digits)')
  .transform((value) => value.toLowerCase());

/** The authenticated user's id: a UUID other than the nil UUID. */
export const UserId = Id.refine((value) => value !== NIL_UUID, 'must not be the nil UUID');

export const TaskTitle = title(LIMITS.taskTitle);
export const TaskDescription = storableText(LIMITS.taskDescription);
export const ConversationTitle = title(LIMITS.conversationTitle);
export const ConversationStatus = z.enum(CONVERSATION_STATUSES);
export const MessageRole = z.enum(MESSAGE_ROLES);
export const MessageContent = storableText(LIMITS.messageContent);
export const ToolCallId = storableText(LIMITS.toolCallId);
/** A full-text search query: 1..500 characters, surrounding white space removed. */
export const storableSearchText = title(LIMITS.searchQuery);
const { min: toolNameMin, max: toolNameMax, characters: toolNameCharacters } = LIMITS.toolName;
export const ToolName = z
  .string()
  .regex(
    new RegExp(`^[${toolNameCharacters}]{${toolNameMin},${toolNameMax}}$`),
    `must be ${toolNameMin}..${toolNameMax} characters of [${toolNameCharacters}]`,
  );

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Why a value would not come back from jsonb exactly as given, or undefined
 * when it would. Walks iteratively so that hostile nesting cannot overflow the
 * stack before the depth limit refuses it.
 */
export function jsonRoundTripProblem(root: unknown, maxDepth: number): string | undefined {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: root, depth: 1, path: '$' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      const problem = storableTextProblem(value);
      if (problem) return `${path} ${problem}`;
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${path} must be a finite number`;
      if (Object.is(value, -0)) return `${path} must not be negative zero (JSON has no -0)`;
      continue;
    }
    if (typeof value !== 'object') return `${path} must be JSON (got ${typeof value})`;
    if (depth > maxDepth) return `${path} nests deeper than ${maxDepth} levels`;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return `${path}[${i}] must not be a hole`;
        stack.push({ value: value[i], depth: depth + 1, path: `${path}[${i}]` });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `${path} must be a plain object`;
    if (Object.getOwnPropertySymbols(value).length > 0) return `${path} must not have symbol keys`;
    for (const key of Object.keys(value)) {
      const problem = storableTextProblem(key);
      if (problem) return `${path} key ${problem}`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: `${path}.${key}` });
    }
  }
  return undefined;
}

const JsonObjectSchema = z.custom<JsonObject>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'must be a JSON object',
);

/** One tool call made by the assistant: `arguments` is a JSON object. */
export const ToolCall = z.strictObject({
  id: ToolCallId,
  name: ToolName,
  arguments: JsonObjectSchema,
});
export type ToolCall = z.infer<typeof ToolCall>;

/** The tool calls of one assistant message: distinct ids, at most 64, at most 64 KiB of JSON. */
export const ToolCalls = z
  .array(ToolCall)
  .max(LIMITS.toolCalls.maxCount, `at most ${LIMITS.toolCalls.maxCount} tool calls`)
  .superRefine((calls, ctx) => {
    const oversized = plainDataProblem(calls, { maxValues: LIMITS.input.maxValues, maxBytes: LIMITS.toolCalls.maxJsonBytes });
    if (oversized) {
      ctx.addIssue({ code: 'custom', path: oversized.path, message: oversized.message });
      return;
    }
    const problem = jsonRoundTripProblem(calls, LIMITS.toolCalls.maxDepth);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    const ids = new Set(calls.map((call) => call.id));
    if (ids.size !== calls.length) ctx.addIssue({ code: 'custom', message: 'tool call ids must be distinct' });
    const bytes = Buffer.byteLength(JSON.stringify(calls), 'utf8');
    if (bytes > LIMITS.toolCalls.maxJsonBytes) {
      ctx.addIssue({ code: 'custom', message: `tool calls JSON must be at most ${LIMITS.toolCalls.maxJsonBytes} bytes (got ${bytes})` });
    }
  });

/**
 * Parses with a schema, throwing ValidationError (with the zod issues)
 * instead of ZodError. The input must be plain data first (src/plain-data.ts):
 * zod then reads only own data properties, at a cost bounded by the input's
 * size.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string, options: { dates?: boolean } = {}): z.output<S> {
  const problem = plainDataProblem(value, options.dates === true ? { ...LIMITS.input, dates: true } : LIMITS.input);
  if (problem) {
    const where = problem.path.length > 0 ? ` at ${problem.path.join('.')}` : '';
    throw new ValidationError(`invalid ${what}${where}: ${problem.message}`, [{ path: problem.path, message: problem.message, code: 'not_plain_data' }]);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(what, result.error);
  return result.data;
}
