/**
 * The bounds the library's prologue sets after the user and the role, with the
 * store's default timeouts: the contenders that write the prologue themselves
 * (pgbench, the pipelined prototypes) send them too, so that every contender
 * opens its transaction with the statement the library sends.
 */
import { transactionPrologue } from '../src/transaction.js';
import { DEFAULTS } from '../src/store-options.js';

const ANY_USER = '00000000-0000-4000-8000-000000000000';

export const TIMEOUTS = transactionPrologue(ANY_USER, 'todo_chat_app', DEFAULTS).slice(transactionPrologue(ANY_USER, 'todo_chat_app').length);
