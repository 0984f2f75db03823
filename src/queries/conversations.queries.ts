/** Types generated for queries found in "sql/conversations.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type DateOrString = Date | string;

export type NumberOrString = number | string;

/** 'CreateConversation' parameters type */
export interface ICreateConversationParams {
  id?: string | null | void;
  title?: string | null | void;
}

/** 'CreateConversation' return type */
export interface ICreateConversationResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'CreateConversation' query type */
export interface ICreateConversationQuery {
  params: ICreateConversationParams;
  result: ICreateConversationResult;
}

const createConversationIR: any = {"usedParamSet":{"id":true,"title":true},"params":[{"name":"id","required":false,"transform":{"type":"scalar"},"locs":[{"a":65,"b":67}]},{"name":"title","required":false,"transform":{"type":"scalar"},"locs":[{"a":96,"b":101}]}],"statement":"insert into todo_chat.conversations (id, title)\nvalues (coalesce(:id::uuid, gen_random_uuid()), :title)\non conflict (user_id, id) do nothing\nreturning id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"                                                                                                    "};

/**
 * Query generated from SQL:
 * ```
 * insert into todo_chat.conversations (id, title)
 * values (coalesce(:id::uuid, gen_random_uuid()), :title)
 * on conflict (user_id, id) do nothing
 * returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"                                                                                                    
 * ```
 */
export const createConversation = new PreparedQuery<ICreateConversationParams,ICreateConversationResult>(createConversationIR);


/** 'GetConversation' parameters type */
export interface IGetConversationParams {
  id: string;
}

/** 'GetConversation' return type */
export interface IGetConversationResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'GetConversation' query type */
export interface IGetConversationQuery {
  params: IGetConversationParams;
  result: IGetConversationResult;
}

const getConversationIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":128,"b":131}]}],"statement":"select id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.conversations\nwhere id = :id!                                                                                                                                                                                                                                        "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.conversations
 * where id = :id!                                                                                                                                                                                                                                        
 * ```
 */
export const getConversation = new PreparedQuery<IGetConversationParams,IGetConversationResult>(getConversationIR);


/** 'ListConversations' parameters type */
export interface IListConversationsParams {
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListConversations' return type */
export interface IListConversationsResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'ListConversations' query type */
export interface IListConversationsQuery {
  params: IListConversationsParams;
  result: IListConversationsResult;
}

const listConversationsIR: any = {"usedParamSet":{"userId":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":133,"b":140}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":168,"b":177}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":193,"b":202}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":251,"b":257}]}],"statement":"select id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.conversations\nwhere user_id = :userId!\n  and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by updated_at desc, id desc\nlimit :limit!                                                                                                                                               "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.conversations
 * where user_id = :userId!
 *   and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by updated_at desc, id desc
 * limit :limit!                                                                                                                                               
 * ```
 */
export const listConversations = new PreparedQuery<IListConversationsParams,IListConversationsResult>(listConversationsIR);


/** 'ListConversationsByStatus' parameters type */
export interface IListConversationsByStatusParams {
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  status: string;
  userId: string;
}

/** 'ListConversationsByStatus' return type */
export interface IListConversationsByStatusResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'ListConversationsByStatus' query type */
export interface IListConversationsByStatusQuery {
  params: IListConversationsByStatusParams;
  result: IListConversationsByStatusResult;
}

const listConversationsByStatusIR: any = {"usedParamSet":{"userId":true,"status":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":133,"b":140}]},{"name":"status","required":true,"transform":{"type":"scalar"},"locs":[{"a":157,"b":164}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":192,"b":201}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":217,"b":226}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":275,"b":281}]}],"statement":"select id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.conversations\nwhere user_id = :userId!\n  and status = :status!\n  and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by updated_at desc, id desc\nlimit :limit!                                         "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.conversations
 * where user_id = :userId!
 *   and status = :status!
 *   and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by updated_at desc, id desc
 * limit :limit!                                         
 * ```
 */
export const listConversationsByStatus = new PreparedQuery<IListConversationsByStatusParams,IListConversationsByStatusResult>(listConversationsByStatusIR);


/** 'RenameConversation' parameters type */
export interface IRenameConversationParams {
  id: string;
  title?: string | null | void;
}

/** 'RenameConversation' return type */
export interface IRenameConversationResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'RenameConversation' query type */
export interface IRenameConversationQuery {
  params: IRenameConversationParams;
  result: IRenameConversationResult;
}

const renameConversationIR: any = {"usedParamSet":{"title":true,"id":true},"params":[{"name":"title","required":false,"transform":{"type":"scalar"},"locs":[{"a":43,"b":48}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":61,"b":64}]}],"statement":"update todo_chat.conversations\nset title = :title\nwhere id = :id!\nreturning id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"                                              "};

/**
 * Query generated from SQL:
 * ```
 * update todo_chat.conversations
 * set title = :title
 * where id = :id!
 * returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"                                              
 * ```
 */
export const renameConversation = new PreparedQuery<IRenameConversationParams,IRenameConversationResult>(renameConversationIR);


/** 'SetConversationStatus' parameters type */
export interface ISetConversationStatusParams {
  id: string;
  status: string;
}

/** 'SetConversationStatus' return type */
export interface ISetConversationStatusResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'SetConversationStatus' query type */
export interface ISetConversationStatusQuery {
  params: ISetConversationStatusParams;
  result: ISetConversationStatusResult;
}

const setConversationStatusIR: any = {"usedParamSet":{"status":true,"id":true},"params":[{"name":"status","required":true,"transform":{"type":"scalar"},"locs":[{"a":44,"b":51}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":64,"b":67}]}],"statement":"update todo_chat.conversations\nset status = :status!\nwhere id = :id!\nreturning id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * update todo_chat.conversations
 * set status = :status!
 * where id = :id!
 * returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"                                                                            
 * ```
 */
export const setConversationStatus = new PreparedQuery<ISetConversationStatusParams,ISetConversationStatusResult>(setConversationStatusIR);


/** 'DeleteConversation' parameters type */
export interface IDeleteConversationParams {
  id: string;
}

/** 'DeleteConversation' return type */
export interface IDeleteConversationResult {
  id: string;
}

/** 'DeleteConversation' query type */
export interface IDeleteConversationQuery {
  params: IDeleteConversationParams;
  result: IDeleteConversationResult;
}

const deleteConversationIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":47,"b":50}]}],"statement":"delete from todo_chat.conversations\nwhere id = :id!\nreturning id                                                                                                                                                                                                                                                "};

/**
 * Query generated from SQL:
 * ```
 * delete from todo_chat.conversations
 * where id = :id!
 * returning id                                                                                                                                                                                                                                                
 * ```
 */
export const deleteConversation = new PreparedQuery<IDeleteConversationParams,IDeleteConversationResult>(deleteConversationIR);


/** 'ExportConversations' parameters type */
export interface IExportConversationsParams {
  afterId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ExportConversations' return type */
export interface IExportConversationsResult {
  createdAt: Date;
  id: string;
  status: string;
  title: string | null;
  updatedAt: Date;
  version: number;
}

/** 'ExportConversations' query type */
export interface IExportConversationsQuery {
  params: IExportConversationsParams;
  result: IExportConversationsResult;
}

const exportConversationsIR: any = {"usedParamSet":{"userId":true,"afterId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":133,"b":140}]},{"name":"afterId","required":true,"transform":{"type":"scalar"},"locs":[{"a":153,"b":161}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":187,"b":193}]}],"statement":"select id, title, status, version, created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.conversations\nwhere user_id = :userId!\n  and id > :afterId!::uuid\norder by id\nlimit :limit!"};

/**
 * Query generated from SQL:
 * ```
 * select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.conversations
 * where user_id = :userId!
 *   and id > :afterId!::uuid
 * order by id
 * limit :limit!
 * ```
 */
export const exportConversations = new PreparedQuery<IExportConversationsParams,IExportConversationsResult>(exportConversationsIR);


