/**
 * Every limit of the data model, once for TypeScript. The same numbers live in
 * the CHECK constraints of migrations/ (once for SQL); test/schema/limits.test.ts
 * proves the two agree at each boundary. Lengths count Unicode code points,
 * as PostgreSQL's char_length does.
 */
export const LIMITS = {
  taskTitle: { min: 1, max: 500 },
  taskDescription: { max: 5000 },
  conversationTitle: { min: 1, max: 500 },
  messageContent: { max: 10_000 },
  toolCalls: { maxCount: 64, maxJsonBytes: 64 * 1024, maxDepth: 32 },
  toolCallId: { min: 1, max: 128 },
  /** Characters as a regular-expression class body, the same in the CHECK of messages.tool_calls. */
  toolName: { min: 1, max: 128, characters: 'A-Za-z0-9_.:-' },
  page: { defaultLimit: 50, maxLimit: 200 },
  historyPage: { defaultLimit: 50, maxLimit: 500 },
  searchQuery: { min: 1, max: 500 },
} as const;

export const CONVERSATION_STATUSES = ['active', 'archived'] as const;
export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;

/**
 * The white space that titles may not start or end with: exactly the set that
 * String.prototype.trim removes, spelled out again in the CHECK constraints
 * (btrim with these characters).
 */
export const TRIMMED_WHITESPACE =
  ' \t\n\u000b\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
