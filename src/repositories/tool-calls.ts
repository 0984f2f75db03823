/**
 * tx.toolCalls: the audit of what the agent did, whichever API wrote the
 * turn: every call (which tool, with what) and what came back, for one
 * conversation or for all of the user's. The audit is append-only: popping,
 * clearing or replacing messages does not remove from it; deleting the
 * conversation or the user does.
 */
import { z } from 'zod';
import { LIMITS, MESSAGE_FORMATS } from '../limits.js';
import { InternalError } from '../errors.js';
import { Id, parseInput, type JsonValue } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { IListUserToolCallsResult } from '../queries/tool-calls.queries.js';
import type { MessageFormat } from '../history/derived.js';
import { conversationQueries, toolCallQueries as q } from './queries.js';
import { NIL_UUID, PageCursor, keysetPage, pageLimit, type KeysetList, type Page } from './pagination.js';

/** A result that answered a tool call. */
export interface ToolResultRecord {
  /** The message that carried it (it may since have been popped or replaced). */
  messageId: string;
  /** Exactly as the SDK gave it; a plain chat result's output is the tool message's content. */
  output: JsonValue | null;
  /** As the SDK reported it (completed, output-error, ...); null for plain chat. */
  status: string | null;
  createdAt: Date;
}

/** One tool call and the results that answered it. */
export interface ToolCallRecord {
  conversationId: string;
  /** The message that made the call (it may since have been popped or replaced). */
  messageId: string;
  callId: string;
  name: string;
  /** Exactly as the SDK gave them: an object for plain chat and the AI SDK, a JSON string for the Agents SDK. */
  arguments: JsonValue | null;
  format: MessageFormat;
  createdAt: Date;
  /** Oldest first; empty until a result came back. */
  results: ToolResultRecord[];
}

export const ListToolCallsOptions = z.strictObject({
  /** Only this conversation's calls (a NotFoundError when it is not the user's); all of the user's otherwise. */
  conversationId: Id.optional(),
  limit: pageLimit(LIMITS.page),
  cursor: PageCursor.optional(),
});
export type ListToolCallsOptions = z.input<typeof ListToolCallsOptions>;

type Row = IListUserToolCallsResult;

/**
 * A row of either list query as a ToolCallRecord. Assumes what the tables and
 * the queries guarantee: tool_calls_format_known, and results is the json
 * array the query builds ({messageId, output, status, createdAt}).
 */
function toRecord(row: Row): ToolCallRecord {
  if (!(MESSAGE_FORMATS as readonly string[]).includes(row.format)) {
    throw new InternalError(`tool call ${row.callId} has format ${JSON.stringify(row.format)}, which tool_calls_format_known refuses`);
  }
  const results = row.results as { messageId: string; output: JsonValue | null; status: string | null; createdAt: string }[];
  return {
    conversationId: row.conversationId,
    messageId: row.messageId,
    callId: row.callId,
    name: row.name,
    arguments: row.arguments as JsonValue | null,
    format: row.format as MessageFormat,
    createdAt: row.createdAt,
    results: results.map((result) => ({ ...result, createdAt: new Date(result.createdAt) })),
  };
}

/** The calls of one conversation, in the order they were recorded. */
function ofConversation(conversationId: string): KeysetList<Row, { afterOrdinal: number; limit: number }> {
  return {
    kind: `tool-calls:${conversationId}`,
    shape: ['integer'],
    first: [0],
    keyOf: (row) => [row.ordinal],
    params: ([afterOrdinal], limit) => ({ afterOrdinal: afterOrdinal as number, limit }),
  };
}

/** The calls of every conversation of the user, in the order they were recorded. */
const OF_USER: KeysetList<Row, { cursorAt: Date | string; cursorConversationId: string; cursorOrdinal: number; limit: number }> = {
  kind: 'tool-calls',
  shape: ['timestamp', 'uuid', 'integer'],
  first: ['-infinity', NIL_UUID, 0],
  keyOf: (row) => [row.createdAt.toISOString(), row.conversationId, row.ordinal],
  params: ([cursorAt, cursorConversationId, cursorOrdinal], limit) => ({
    cursorAt: cursorAt as Date | string,
    cursorConversationId: cursorConversationId as string,
    cursorOrdinal: cursorOrdinal as number,
    limit,
  }),
};

export function toolCallsRepository(db: QueryRunner) {
  const { userId } = db;

  async function list(rawOptions: ListToolCallsOptions = {}): Promise<Page<ToolCallRecord>> {
    const options = parseInput(ListToolCallsOptions, rawOptions, 'tool call list options');
    const { conversationId } = options;
    if (conversationId === undefined) {
      const page = await keysetPage(OF_USER, options, (keyset) => db.many(q.listUserToolCalls, { userId, ...keyset }));
      return { items: page.items.map(toRecord), nextCursor: page.nextCursor };
    }
    const page = await keysetPage(ofConversation(conversationId), options, (keyset) =>
      db.many(q.listConversationToolCalls, { userId, conversationId, ...keyset }),
    );
    if (page.items.length === 0) {
      // Also with a cursor: another user's (or a deleted) conversation is a NotFoundError, never an empty audit.
      await db.one(conversationQueries.getConversation, { id: conversationId }, { notFound: ['conversation', conversationId] });
    }
    return { items: page.items.map(toRecord), nextCursor: page.nextCursor };
  }

  return {
    /** A page of tool calls with their results, in the order they were recorded: of one conversation, or of all the user's. */
    list,
  };
}

export type ToolCallsRepository = ReturnType<typeof toolCallsRepository>;
