/**
 * tx.messages: chat history with the agent's tool calls and their results.
 * Messages are append-only; order is `seq`, assigned in insertion order.
 */
import { z } from 'zod';
import { InternalError } from '../errors.js';
import { LIMITS, MESSAGE_ROLES } from '../limits.js';
import { Id, MessageContent, MessageRole, ToolCallId, ToolCalls, parseInput, storableSearchText, type ToolCall } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { IListMessagesResult } from '../queries/messages.queries.js';
import { conversationQueries, messageQueries as q } from './queries.js';
import { HistoryCursor, MAX_BIGINT, decodeCursor, encodeCursor } from './pagination.js';

/** A stored message (the generated row type of ListMessages, role and toolCalls narrowed). */
export type Message = Omit<IListMessagesResult, 'role' | 'toolCalls'> & {
  role: z.infer<typeof MessageRole>;
  toolCalls: ToolCall[] | null;
};

/**
 * A row of any query returning a message's columns, as a Message. Assumes
 * what the table's constraints guarantee: messages_role_known (role is one of
 * MESSAGE_ROLES) and messages_tool_calls_shape (tool_calls is null or an array
 * of {id, name, arguments}, the shape of ToolCalls).
 */
export function toMessage(row: IListMessagesResult): Message {
  const { role } = row;
  if (!(MESSAGE_ROLES as readonly string[]).includes(role)) {
    throw new InternalError(`message ${row.id} has role ${JSON.stringify(role)}, which messages_role_known refuses`);
  }
  return row as Message;
}

const messageId = { id: Id.optional() };

/** A message to append: the shape depends on its role. */
export const NewMessage = z.discriminatedUnion('role', [
  z.strictObject({ ...messageId, role: z.literal('user'), content: MessageContent }),
  z.strictObject({ ...messageId, role: z.literal('system'), content: MessageContent }),
  z.strictObject({
    ...messageId,
    role: z.literal('assistant'),
    content: MessageContent.default(''),
    toolCalls: ToolCalls.nullable().optional(),
  }),
  z.strictObject({ ...messageId, role: z.literal('tool'), toolCallId: ToolCallId, content: MessageContent }),
]);
export type NewMessage = z.input<typeof NewMessage>;

export const MAX_TURN_MESSAGES = 100;
const Turn = z.array(NewMessage).min(1, 'a turn needs at least one message').max(MAX_TURN_MESSAGES);

export const HistoryOptions = z.strictObject({
  limit: z.number().int().min(1).max(LIMITS.historyPage.maxLimit).default(LIMITS.historyPage.defaultLimit),
  before: HistoryCursor.optional(),
});
export type HistoryOptions = z.input<typeof HistoryOptions>;

export const SearchOptions = z.strictObject({
  conversationId: Id.optional(),
  limit: z.number().int().min(1).max(LIMITS.page.maxLimit).default(20),
});
export type SearchOptions = z.input<typeof SearchOptions>;

export interface HistoryPage {
  /** Oldest first. Never starts with a tool result whose call is on an earlier page. */
  items: Message[];
  /** Pass as `before` for the page of older messages; null when there are none. */
  before: string | null;
}

export interface SearchHit {
  message: Message;
  rank: number;
}

export function messagesRepository(db: QueryRunner) {
  const { userId } = db;

  async function requireConversation(conversationId: string): Promise<void> {
    await db.one(conversationQueries.getConversation, { id: conversationId }, { notFound: ['conversation', conversationId] });
  }

  async function appendTurn(rawConversationId: string, rawMessages: NewMessage[]): Promise<Message[]> {
    const conversationId = parseInput(Id, rawConversationId, 'conversation id');
    const messages = parseInput(Turn, rawMessages, 'messages');
    const payload = messages.map((message) => ({
      id: message.id ?? null,
      role: message.role,
      content: message.content,
      toolCalls: message.role === 'assistant' ? (message.toolCalls ?? null) : null,
      toolCallId: message.role === 'tool' ? message.toolCallId : null,
    }));
    const rows = await db.many(q.appendMessages, { conversationId, messages: JSON.stringify(payload) }, { notFound: ['conversation'] });
    return rows.map(toMessage).sort((a, b) => compareSeq(a.seq, b.seq));
  }

  return {
    /** Appends one message and touches the conversation's updated_at. */
    async append(conversationId: string, message: NewMessage): Promise<Message> {
      const [row] = await appendTurn(conversationId, [message]);
      return row!;
    },

    /** Appends a whole turn, in the order given, atomically: all messages or none. */
    appendTurn,

    /** The latest `limit` messages, oldest first, extended back to a turn boundary; `before` pages further back. */
    async history(rawConversationId: string, rawOptions: HistoryOptions = {}): Promise<HistoryPage> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const options = parseInput(HistoryOptions, rawOptions, 'history options');
      const beforeSeq = options.before
        ? (decodeCursor(`history:${conversationId}`, options.before, ['integer'])[0] as string)
        : MAX_BIGINT;
      const newestFirst = await db.many(q.listRecentMessages, {
        userId,
        conversationId,
        beforeSeq,
        limit: options.limit + 1,
      });
      if (newestFirst.length === 0) {
        // Also with a cursor: another user's (or a deleted) conversation is a NotFoundError, never an empty page.
        await requireConversation(conversationId);
        return { items: [], before: null };
      }
      let hasOlder = newestFirst.length > options.limit;
      const items = newestFirst.slice(0, options.limit).reverse().map(toMessage);
      const first = items[0]!;
      if (first.role === 'tool') {
        const start = await db.maybeOne(q.getTurnStart, { userId, conversationId, seq: first.seq });
        if (start) {
          const earlier = await db.many(q.listMessagesBetween, {
            userId,
            conversationId,
            fromSeq: start.seq,
            toSeq: first.seq,
          });
          items.unshift(...earlier.map(toMessage));
          const older = await db.many(q.listRecentMessages, {
            userId,
            conversationId,
            beforeSeq: start.seq,
            limit: 1,
          });
          hasOlder = older.length > 0;
        }
      }
      return {
        items,
        before: hasOlder ? encodeCursor(`history:${conversationId}`, [items[0]!.seq]) : null,
      };
    },

    /** Every message of the conversation, oldest first. */
    async all(rawConversationId: string): Promise<Message[]> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const rows = await db.many(q.listMessages, { userId, conversationId });
      if (rows.length === 0) await requireConversation(conversationId);
      return rows.map(toMessage);
    },

    /** Full-text search over the current user's messages, best match first. */
    async search(rawQuery: string, rawOptions: SearchOptions = {}): Promise<SearchHit[]> {
      const query = parseInput(storableSearchText, rawQuery, 'search query');
      const options = parseInput(SearchOptions, rawOptions, 'search options');
      const rows = await db.many(q.searchMessages, {
        userId,
        query,
        conversationId: options.conversationId ?? null,
        limit: options.limit,
      });
      return rows.map(({ rank, ...message }) => ({ message: toMessage(message), rank: Number(rank) }));
    },
  };
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export type MessagesRepository = ReturnType<typeof messagesRepository>;
