/**
 * tx.conversations: the current user's chat threads.
 */
import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { ConversationStatus, ConversationTitle, Id, parseInput } from '../schemas.js';
import type { Session } from '../session.js';
import * as q from '../queries/conversations.queries.js';
import { decodeCursor, encodeCursor, type Page } from './cursor.js';

/** A conversation as stored (the generated row type of GetConversation, status narrowed). */
export type Conversation = Omit<q.IGetConversationResult, 'status'> & { status: z.infer<typeof ConversationStatus> };

export const CreateConversationInput = z.strictObject({
  id: Id.optional(),
  title: ConversationTitle.nullable().optional(),
});
export type CreateConversationInput = z.input<typeof CreateConversationInput>;

export const ListConversationsOptions = z.strictObject({
  status: ConversationStatus.optional(),
  limit: z.number().int().min(1).max(LIMITS.page.maxLimit).default(LIMITS.page.defaultLimit),
  // An empty cursor is refused rather than read as "first page": a client that
  // turned a null nextCursor into "" would otherwise loop forever.
  cursor: z.string().min(1).max(512).optional(),
});
export type ListConversationsOptions = z.input<typeof ListConversationsOptions>;

const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

function asConversation(row: q.IGetConversationResult): Conversation {
  return row as Conversation;
}

export function conversationsRepository(session: Session, userId: string) {
  async function setStatus(rawId: string, status: 'active' | 'archived'): Promise<Conversation> {
    const id = parseInput(Id, rawId, 'conversation id');
    return asConversation(
      await session.one('SetConversationStatus', q.setConversationStatus, { id, status }, 'conversation', id),
    );
  }

  return {
    /** Starts a conversation, optionally titled and with a caller-chosen id. */
    async create(input: CreateConversationInput = {}): Promise<Conversation> {
      const conversation = parseInput(CreateConversationInput, input, 'conversation');
      return asConversation(
        await session.one(
          'CreateConversation',
          q.createConversation,
          { id: conversation.id ?? null, title: conversation.title ?? null },
          'user',
        ),
      );
    },

    /** One conversation; NotFoundError when it does not exist or belongs to another user. */
    async get(rawId: string): Promise<Conversation> {
      const id = parseInput(Id, rawId, 'conversation id');
      return asConversation(await session.one('GetConversation', q.getConversation, { id }, 'conversation', id));
    },

    /** A page of conversations, most recently updated first, optionally by status; keyset-paginated. */
    async list(rawOptions: ListConversationsOptions = {}): Promise<Page<Conversation>> {
      const options = parseInput(ListConversationsOptions, rawOptions, 'list options');
      const kind = `conversations:${options.status ?? 'all'}`;
      const [at, id] = options.cursor
        ? (decodeCursor(kind, options.cursor, ['date', 'string']) as [Date, string])
        : ['infinity', MAX_UUID];
      const limit = options.limit + 1;
      const rows =
        options.status === undefined
          ? await session.many('ListConversations', q.listConversations, { userId, beforeUpdatedAt: at, beforeId: id, limit })
          : await session.many('ListConversationsByStatus', q.listConversationsByStatus, {
              userId,
              status: options.status,
              beforeUpdatedAt: at,
              beforeId: id,
              limit,
            });
      const hasMore = rows.length > options.limit;
      const items = (hasMore ? rows.slice(0, options.limit) : rows).map(asConversation);
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: hasMore && last ? encodeCursor(kind, [last.updatedAt.toISOString(), last.id]) : null,
      };
    },

    /** Sets the title; null removes it. */
    async rename(rawId: string, rawTitle: string | null): Promise<Conversation> {
      const id = parseInput(Id, rawId, 'conversation id');
      const title = parseInput(ConversationTitle.nullable(), rawTitle, 'conversation title');
      return asConversation(await session.one('RenameConversation', q.renameConversation, { id, title }, 'conversation', id));
    },

    /** Archives a conversation (it stays readable). */
    async archive(id: string): Promise<Conversation> {
      return setStatus(id, 'archived');
    },

    /** Makes an archived conversation active again. */
    async unarchive(id: string): Promise<Conversation> {
      return setStatus(id, 'active');
    },

    /** Deletes a conversation and all of its messages. */
    async delete(rawId: string): Promise<void> {
      const id = parseInput(Id, rawId, 'conversation id');
      await session.one('DeleteConversation', q.deleteConversation, { id }, 'conversation', id);
    },
  };
}

export type ConversationsRepository = ReturnType<typeof conversationsRepository>;
