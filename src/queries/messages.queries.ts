/** Types generated for queries found in "sql/messages.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type NumberOrString = number | string;

/** 'AppendMessages' parameters type */
export interface IAppendMessagesParams {
  conversationId: string;
  messages: Json;
}

/** 'AppendMessages' return type */
export interface IAppendMessagesResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'AppendMessages' query type */
export interface IAppendMessagesQuery {
  params: IAppendMessagesParams;
  result: IAppendMessagesResult;
}

const appendMessagesIR: any = {"usedParamSet":{"conversationId":true,"messages":true},"params":[{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":158,"b":173}]},{"name":"messages","required":true,"transform":{"type":"scalar"},"locs":[{"a":345,"b":354}]}],"statement":"insert into todo_chat.messages (id, conversation_id, role, content, tool_calls, tool_call_id)\nselect coalesce((m.value ->> 'id')::uuid, gen_random_uuid()),\n  :conversationId!::uuid,\n  m.value ->> 'role',\n  coalesce(m.value ->> 'content', ''),\n  nullif(m.value -> 'toolCalls', 'null'::jsonb),\n  m.value ->> 'toolCallId'\nfrom jsonb_array_elements(:messages!::jsonb) with ordinality as m(value, ordinal)\norder by m.ordinal\nreturning id, conversation_id as \"conversationId\", seq, role, content, tool_calls as \"toolCalls\",\n  tool_call_id as \"toolCallId\", created_at as \"createdAt\"                                                                                                                                                                                                                                                                   "};

/**
 * Query generated from SQL:
 * ```
 * insert into todo_chat.messages (id, conversation_id, role, content, tool_calls, tool_call_id)
 * select coalesce((m.value ->> 'id')::uuid, gen_random_uuid()),
 *   :conversationId!::uuid,
 *   m.value ->> 'role',
 *   coalesce(m.value ->> 'content', ''),
 *   nullif(m.value -> 'toolCalls', 'null'::jsonb),
 *   m.value ->> 'toolCallId'
 * from jsonb_array_elements(:messages!::jsonb) with ordinality as m(value, ordinal)
 * order by m.ordinal
 * returning id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
 *   tool_call_id as "toolCallId", created_at as "createdAt"                                                                                                                                                                                                                                                                   
 * ```
 */
export const appendMessages = new PreparedQuery<IAppendMessagesParams,IAppendMessagesResult>(appendMessagesIR);


/** 'ListRecentMessages' parameters type */
export interface IListRecentMessagesParams {
  beforeSeq: NumberOrString;
  conversationId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListRecentMessages' return type */
export interface IListRecentMessagesResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListRecentMessages' query type */
export interface IListRecentMessagesQuery {
  params: IListRecentMessagesParams;
  result: IListRecentMessagesResult;
}

const listRecentMessagesIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"beforeSeq":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":193,"b":200}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":226,"b":241}]},{"name":"beforeSeq","required":true,"transform":{"type":"scalar"},"locs":[{"a":255,"b":265}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":299,"b":305}]}],"statement":"select id, conversation_id as \"conversationId\", seq, role, content, tool_calls as \"toolCalls\",\n  tool_call_id as \"toolCallId\", created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and seq < :beforeSeq!::bigint\norder by seq desc\nlimit :limit!                                                                                                                                                                                                                                                                                       "};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
 *   tool_call_id as "toolCallId", created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and seq < :beforeSeq!::bigint
 * order by seq desc
 * limit :limit!                                                                                                                                                                                                                                                                                       
 * ```
 */
export const listRecentMessages = new PreparedQuery<IListRecentMessagesParams,IListRecentMessagesResult>(listRecentMessagesIR);


/** 'GetTurnStart' parameters type */
export interface IGetTurnStartParams {
  conversationId: string;
  seq: NumberOrString;
  userId: string;
}

/** 'GetTurnStart' return type */
export interface IGetTurnStartResult {
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
}

/** 'GetTurnStart' query type */
export interface IGetTurnStartQuery {
  params: IGetTurnStartParams;
  result: IGetTurnStartResult;
}

const getTurnStartIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"seq":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":51,"b":58}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":84,"b":99}]},{"name":"seq","required":true,"transform":{"type":"scalar"},"locs":[{"a":114,"b":118}]}],"statement":"select seq\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and seq <= :seq!::bigint\n  and role <> 'tool'\norder by seq desc\nlimit 1                                                                                                                                 "};

/**
 * Query generated from SQL:
 * ```
 * select seq
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and seq <= :seq!::bigint
 *   and role <> 'tool'
 * order by seq desc
 * limit 1                                                                                                                                 
 * ```
 */
export const getTurnStart = new PreparedQuery<IGetTurnStartParams,IGetTurnStartResult>(getTurnStartIR);


/** 'ListMessagesBetween' parameters type */
export interface IListMessagesBetweenParams {
  conversationId: string;
  fromSeq: NumberOrString;
  toSeq: NumberOrString;
  userId: string;
}

/** 'ListMessagesBetween' return type */
export interface IListMessagesBetweenResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListMessagesBetween' query type */
export interface IListMessagesBetweenQuery {
  params: IListMessagesBetweenParams;
  result: IListMessagesBetweenResult;
}

const listMessagesBetweenIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"fromSeq":true,"toSeq":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":193,"b":200}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":226,"b":241}]},{"name":"fromSeq","required":true,"transform":{"type":"scalar"},"locs":[{"a":256,"b":264}]},{"name":"toSeq","required":true,"transform":{"type":"scalar"},"locs":[{"a":286,"b":292}]}],"statement":"select id, conversation_id as \"conversationId\", seq, role, content, tool_calls as \"toolCalls\",\n  tool_call_id as \"toolCallId\", created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and seq >= :fromSeq!::bigint\n  and seq < :toSeq!::bigint\norder by seq                                                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
 *   tool_call_id as "toolCallId", created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and seq >= :fromSeq!::bigint
 *   and seq < :toSeq!::bigint
 * order by seq                                                                                                                            
 * ```
 */
export const listMessagesBetween = new PreparedQuery<IListMessagesBetweenParams,IListMessagesBetweenResult>(listMessagesBetweenIR);


/** 'ListMessages' parameters type */
export interface IListMessagesParams {
  conversationId: string;
  userId: string;
}

/** 'ListMessages' return type */
export interface IListMessagesResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListMessages' query type */
export interface IListMessagesQuery {
  params: IListMessagesParams;
  result: IListMessagesResult;
}

const listMessagesIR: any = {"usedParamSet":{"userId":true,"conversationId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":193,"b":200}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":226,"b":241}]}],"statement":"select id, conversation_id as \"conversationId\", seq, role, content, tool_calls as \"toolCalls\",\n  tool_call_id as \"toolCallId\", created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\norder by seq                                                                                                                                                                                                                                           "};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
 *   tool_call_id as "toolCallId", created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 * order by seq                                                                                                                                                                                                                                           
 * ```
 */
export const listMessages = new PreparedQuery<IListMessagesParams,IListMessagesResult>(listMessagesIR);


/** 'SearchMessages' parameters type */
export interface ISearchMessagesParams {
  conversationId?: string | null | void;
  limit: NumberOrString;
  query: string;
  userId: string;
}

/** 'SearchMessages' return type */
export interface ISearchMessagesResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  rank: number | null;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'SearchMessages' query type */
export interface ISearchMessagesQuery {
  params: ISearchMessagesParams;
  result: ISearchMessagesResult;
}

const searchMessagesIR: any = {"usedParamSet":{"query":true,"userId":true,"conversationId":true,"limit":true},"params":[{"name":"query","required":true,"transform":{"type":"scalar"},"locs":[{"a":286,"b":292}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":325,"b":332}]},{"name":"conversationId","required":false,"transform":{"type":"scalar"},"locs":[{"a":374,"b":388},{"a":427,"b":441}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":487,"b":493}]}],"statement":"select m.id, m.conversation_id as \"conversationId\", m.seq, m.role, m.content,\n  m.tool_calls as \"toolCalls\", m.tool_call_id as \"toolCallId\", m.created_at as \"createdAt\",\n  ts_rank(m.search_vector, q.query) as rank\nfrom todo_chat.messages m,\n  websearch_to_tsquery('english'::regconfig, :query!) as q(query)\nwhere m.user_id = :userId!\n  and m.search_vector @@ q.query\n  and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)\norder by rank desc, m.seq desc\nlimit :limit!                                                                                                                                         "};

/**
 * Query generated from SQL:
 * ```
 * select m.id, m.conversation_id as "conversationId", m.seq, m.role, m.content,
 *   m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.created_at as "createdAt",
 *   ts_rank(m.search_vector, q.query) as rank
 * from todo_chat.messages m,
 *   websearch_to_tsquery('english'::regconfig, :query!) as q(query)
 * where m.user_id = :userId!
 *   and m.search_vector @@ q.query
 *   and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)
 * order by rank desc, m.seq desc
 * limit :limit!                                                                                                                                         
 * ```
 */
export const searchMessages = new PreparedQuery<ISearchMessagesParams,ISearchMessagesResult>(searchMessagesIR);


/** 'ExportMessages' parameters type */
export interface IExportMessagesParams {
  userId: string;
}

/** 'ExportMessages' return type */
export interface IExportMessagesResult {
  content: string;
  conversationId: string;
  createdAt: Date;
  id: string;
  role: string;
  /** insertion order across the whole table; history is ordered by it, never by created_at. */
  seq: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ExportMessages' query type */
export interface IExportMessagesQuery {
  params: IExportMessagesParams;
  result: IExportMessagesResult;
}

const exportMessagesIR: any = {"usedParamSet":{"userId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":193,"b":200}]}],"statement":"select id, conversation_id as \"conversationId\", seq, role, content, tool_calls as \"toolCalls\",\n  tool_call_id as \"toolCallId\", created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\norder by conversation_id, seq"};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
 *   tool_call_id as "toolCallId", created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 * order by conversation_id, seq
 * ```
 */
export const exportMessages = new PreparedQuery<IExportMessagesParams,IExportMessagesResult>(exportMessagesIR);


