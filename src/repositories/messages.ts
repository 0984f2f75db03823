/**
 * tx.messages: chat history with the agent's tool calls and their results.
 * Messages are append-only; order is `seq`, assigned in insertion order.
 */
import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { Id, MessageContent, ToolCallId, ToolCalls, parseInput, storableSearchText, type ToolCall } from '../schemas.js';
import type { Session } from '../session.js';
import * as q from '../queries/messages.queries.js';
import * as cq from '../queries/conversations.queries.js';
import { decodeCursor, encodeCursor } from './cursor.js';

/** A stored message (the generated row type of ListMessages, role and toolCalls narrowed). */
export type Message = Omit<q.IListMessagesResult, 'role' | 'toolCalls'> & {
  role: 'user' | 'assistant' | 'system' | 'tool';
  toolCalls: ToolCall[] | null;
};

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
  // Refused when empty, like the list cursors: "" is not "the newest page".
  before: z.string().min(1).max(256).optional(),
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

const LAST_SEQ = '9223372036854775807';

function asMessage(row: q.IListMessagesResult): Message {
  return row as Message;
}

export function messagesRepository(session: Session, userId: string) {
  async function requireConversation(conversationId: string): Promise<void> {
    await session.one('GetConversation', cq.getConversation, { id: conversationId }, 'conversation', conversationId);
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
    const rows = await session.many(
      'AppendMessages',
      q.appendMessages,
      { conversationId, messages: JSON.stringify(payload) },
      'conversation',
    );
    return rows.map(asMessage).sort((a, b) => compareSeq(a.seq, b.seq));
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
        : LAST_SEQ;
      const newestFirst = await session.many('ListRecentMessages', q.listRecentMessages, {
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
      const items = newestFirst.slice(0, options.limit).reverse().map(asMessage);
      const first = items[0]!;
      if (first.role === 'tool') {
        const start = await session.maybeOne('GetTurnStart', q.getTurnStart, { userId, conversationId, seq: first.seq });
        if (start) {
          const earlier = await session.many('ListMessagesBetween', q.listMessagesBetween, {
            userId,
            conversationId,
            fromSeq: start.seq,
            toSeq: first.seq,
          });
          items.unshift(...earlier.map(asMessage));
          const older = await session.many('ListRecentMessages', q.listRecentMessages, {
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
      const rows = await session.many('ListMessages', q.listMessages, { userId, conversationId });
      if (rows.length === 0) await requireConversation(conversationId);
      return rows.map(asMessage);
    },

    /** Full-text search over the current user's messages, best match first. */
    async search(rawQuery: string, rawOptions: SearchOptions = {}): Promise<SearchHit[]> {
      const query = parseInput(storableSearchText, rawQuery, 'search query');
      const options = parseInput(SearchOptions, rawOptions, 'search options');
      const rows = await session.many('SearchMessages', q.searchMessages, {
        userId,
        query,
        conversationId: options.conversationId ?? null,
        limit: options.limit,
      });
      return rows.map(({ rank, ...message }) => ({ message: asMessage(message), rank: Number(rank) }));
    },
  };
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export type MessagesRepository = ReturnType<typeof messagesRepository>;
