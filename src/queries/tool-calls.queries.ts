/** Types generated for queries found in "sql/tool-calls.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type DateOrString = Date | string;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type NumberOrString = number | string;

/** 'ListConversationToolCalls' parameters type */
export interface IListConversationToolCallsParams {
  afterOrdinal: number;
  conversationId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListConversationToolCalls' return type */
export interface IListConversationToolCallsResult {
  /** the arguments exactly as the sdk gave them (an object for chat and the ai sdk, a json string for the agents sdk). */
  arguments: Json | null;
  callId: string;
  conversationId: string;
  createdAt: Date;
  format: string;
  /** the message that made the call (it may since have been popped or replaced). */
  messageId: string;
  name: string;
  /** number of the audit record within its conversation (calls and results together), in the order written. */
  ordinal: number;
  results: Json | null;
}

/** 'ListConversationToolCalls' query type */
export interface IListConversationToolCallsQuery {
  params: IListConversationToolCallsParams;
  result: IListConversationToolCallsResult;
}

const listConversationToolCallsIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"afterOrdinal":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":625,"b":632}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":660,"b":675}]},{"name":"afterOrdinal","required":true,"transform":{"type":"scalar"},"locs":[{"a":695,"b":708}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":744,"b":750}]}],"statement":"select t.conversation_id as \"conversationId\", t.ordinal, t.message_id as \"messageId\", t.call_id as \"callId\", t.name,\n  t.arguments, t.format, t.created_at as \"createdAt\", r.results\nfrom todo_chat.tool_calls t\ncross join lateral (\n  select coalesce(\n    pg_catalog.json_agg(\n      pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)\n      order by x.ordinal\n    ),\n    '[]'::json\n  ) as results\n  from todo_chat.tool_results x\n  where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal\n) as r\nwhere t.user_id = :userId!\n  and t.conversation_id = :conversationId!\n  and t.ordinal > :afterOrdinal!::integer\norder by t.ordinal\nlimit :limit!                                                                                                                                                                                                                                                                                                                                                                "};

/**
 * Query generated from SQL:
 * ```
 * select t.conversation_id as "conversationId", t.ordinal, t.message_id as "messageId", t.call_id as "callId", t.name,
 *   t.arguments, t.format, t.created_at as "createdAt", r.results
 * from todo_chat.tool_calls t
 * cross join lateral (
 *   select coalesce(
 *     pg_catalog.json_agg(
 *       pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)
 *       order by x.ordinal
 *     ),
 *     '[]'::json
 *   ) as results
 *   from todo_chat.tool_results x
 *   where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal
 * ) as r
 * where t.user_id = :userId!
 *   and t.conversation_id = :conversationId!
 *   and t.ordinal > :afterOrdinal!::integer
 * order by t.ordinal
 * limit :limit!                                                                                                                                                                                                                                                                                                                                                                
 * ```
 */
export const listConversationToolCalls = new PreparedQuery<IListConversationToolCallsParams,IListConversationToolCallsResult>(listConversationToolCallsIR);


/** 'ListUserToolCalls' parameters type */
export interface IListUserToolCallsParams {
  cursorAt: DateOrString;
  cursorConversationId: string;
  cursorOrdinal: number;
  limit: NumberOrString;
  userId: string;
}

/** 'ListUserToolCalls' return type */
export interface IListUserToolCallsResult {
  /** the arguments exactly as the sdk gave them (an object for chat and the ai sdk, a json string for the agents sdk). */
  arguments: Json | null;
  callId: string;
  conversationId: string;
  createdAt: Date;
  format: string;
  /** the message that made the call (it may since have been popped or replaced). */
  messageId: string;
  name: string;
  /** number of the audit record within its conversation (calls and results together), in the order written. */
  ordinal: number;
  results: Json | null;
}

/** 'ListUserToolCalls' query type */
export interface IListUserToolCallsQuery {
  params: IListUserToolCallsParams;
  result: IListUserToolCallsResult;
}

const listUserToolCallsIR: any = {"usedParamSet":{"userId":true,"cursorAt":true,"cursorConversationId":true,"cursorOrdinal":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":625,"b":632}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":688,"b":697}]},{"name":"cursorConversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":713,"b":734}]},{"name":"cursorOrdinal","required":true,"transform":{"type":"scalar"},"locs":[{"a":743,"b":757}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":827,"b":833}]}],"statement":"select t.conversation_id as \"conversationId\", t.ordinal, t.message_id as \"messageId\", t.call_id as \"callId\", t.name,\n  t.arguments, t.format, t.created_at as \"createdAt\", r.results\nfrom todo_chat.tool_calls t\ncross join lateral (\n  select coalesce(\n    pg_catalog.json_agg(\n      pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)\n      order by x.ordinal\n    ),\n    '[]'::json\n  ) as results\n  from todo_chat.tool_results x\n  where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal\n) as r\nwhere t.user_id = :userId!\n  and (t.created_at, t.conversation_id, t.ordinal) > (:cursorAt!::timestamptz, :cursorConversationId!::uuid, :cursorOrdinal!::integer)\norder by t.created_at, t.conversation_id, t.ordinal\nlimit :limit!"};

/**
 * Query generated from SQL:
 * ```
 * select t.conversation_id as "conversationId", t.ordinal, t.message_id as "messageId", t.call_id as "callId", t.name,
 *   t.arguments, t.format, t.created_at as "createdAt", r.results
 * from todo_chat.tool_calls t
 * cross join lateral (
 *   select coalesce(
 *     pg_catalog.json_agg(
 *       pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)
 *       order by x.ordinal
 *     ),
 *     '[]'::json
 *   ) as results
 *   from todo_chat.tool_results x
 *   where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal
 * ) as r
 * where t.user_id = :userId!
 *   and (t.created_at, t.conversation_id, t.ordinal) > (:cursorAt!::timestamptz, :cursorConversationId!::uuid, :cursorOrdinal!::integer)
 * order by t.created_at, t.conversation_id, t.ordinal
 * limit :limit!
 * ```
 */
export const listUserToolCalls = new PreparedQuery<IListUserToolCallsParams,IListUserToolCallsResult>(listUserToolCallsIR);


