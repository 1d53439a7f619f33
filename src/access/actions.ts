/**
 * The actions a role can be granted on a collection's records. `shred` destroys a subject's key
 * and with it every record of the subject (see vault/subjects).
 */
export const ACTIONS = ['create', 'read', 'update', 'delete', 'search', 'detokenize', 'shred'] as const;
export type Action = (typeof ACTIONS)[number];

/** Who is asking: an API key's id and role, or the operator at the command line. */
export interface Principal {
  /** `key:<api key id>` or `cli:<os user>`; recorded in the audit trail. */
  id: string;
  role: string;
  /** The local operator (CLI, library) holds the master key already and is not policy-checked. */
  operator?: true;
}

/** Why and on whose behalf an operation runs; every PHI operation takes one. */
export interface RequestContext {
  principal: Principal;
  /** The stated purpose of use (`Ward-Purpose`), required to touch identifier or clinical fields. */
  purpose?: string | undefined;
  requestId?: string | undefined;
  /** Client address, for the audit trail. */
  client?: string | undefined;
  /**
   * The break-glass use this request declared (`Ward-Break-Glass`, checked and opened at
   * authentication): the role's break-glass rules apply, and every audit row names the use.
   */
  breakGlass?: { use: string } | undefined;
}

export const OPERATOR_PURPOSE = 'operations';

export function operatorContext(user = process.env.USER ?? 'operator'): RequestContext {
  return { principal: { id: `cli:${user}`, role: 'operator', operator: true }, purpose: OPERATOR_PURPOSE };
}
