// The check of a connector's ctx.reply() against its type's replySchema, shared by the runner and
// the SDK test harness so that both refuse the same replies with the same words. A reply that
// does not match would reach the requester as the gateway's 502 INVALID_REPLY naming no field,
// while the message counted as delivered: refused here, it is dead-lettered at once (a retry
// would map it the same way), naming the fields for the connector's maintainer.
import type { ValidateFunction } from 'ajv';
import { PermanentError } from './delivery.js';

/** Throws a PermanentError naming the failing fields when `reply` does not match `validate`. */
export function checkReply(type: string, validate: ValidateFunction, reply: unknown): void {
  if (validate(reply)) return;
  const details = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
  throw new PermanentError(`the ${type} reply does not match its reply schema: ${details}`);
}
