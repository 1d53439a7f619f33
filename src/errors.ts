/**
 * Ward's one error type. Every failure a caller can see carries a `code` from the closed
 * registry below, which also fixes its HTTP status and default title. Messages name settings,
 * fields and rules; they never contain a submitted or stored value.
 */

export const ERROR_CODES = {
  config_invalid: { status: 500, title: 'Configuration is invalid' },
  unsafe_production: { status: 500, title: 'Unsafe setting for a production space' },
  master_key_invalid: { status: 500, title: 'Master key is missing or malformed' },
  master_key_mismatch: { status: 500, title: 'Master key does not match this database' },
  schema_outdated: { status: 503, title: 'Database schema is not up to date' },
  migration_changed: { status: 500, title: 'An applied migration was changed' },
  integrity_error: { status: 500, title: 'Stored data failed its integrity check' },
  unknown_collection: { status: 404, title: 'Unknown collection' },
  unknown_field: { status: 422, title: 'Unknown field' },
  validation_failed: { status: 422, title: 'Validation failed' },
  not_searchable: { status: 422, title: 'Field is not searchable' },
  not_found: { status: 404, title: 'Record not found' },
  record_held: { status: 409, title: 'The record is under a legal hold' },
  record_expired: { status: 410, title: 'The record has passed its retention period and is no longer served' },
  source_unavailable: { status: 503, title: 'The sync source could not be read' },
  source_auth_failed: { status: 503, title: 'The sync source refused its credentials' },
  source_budget_exhausted: { status: 503, title: "The sync source's API budget for the day is spent" },
  subject_shredded: { status: 410, title: "The record's subject was crypto-shredded: its data can no longer be read" },
  key_in_use: { status: 409, title: 'Records still use this data key version' },
  unique_violation: { status: 409, title: 'Unique field already holds this value' },
  invalid_token: { status: 422, title: 'Token is malformed or unknown' },
  invalid_request: { status: 400, title: 'Request is malformed' },
  database_error: { status: 503, title: 'Database operation failed' },
  unauthenticated: { status: 401, title: 'Missing, wrong, expired or revoked API key' },
  forbidden: { status: 403, title: 'Not permitted for this role' },
  purpose_required: { status: 403, title: 'A purpose of use is required' },
  purpose_not_permitted: { status: 403, title: 'Purpose of use not permitted for this role' },
  audit_failed: { status: 503, title: 'The audit trail could not be written; nothing was done' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Request body must be application/json' },
  route_not_found: { status: 404, title: 'No such endpoint' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  internal_error: { status: 500, title: 'Internal error' },
  shutting_down: { status: 503, title: 'The server is shutting down; retry the request' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  too_many_connections: { status: 503, title: 'Too many connections from this client' },
  too_many_requests: { status: 429, title: 'Too many requests; retry after the time in Retry-After' },
  too_many_failures: { status: 429, title: 'Too many failed authentications; retry after the time in Retry-After' },
  unknown_purpose: { status: 403, title: 'Unknown purpose of use' },
  event_invalid: { status: 500, title: 'A change event did not match its topic schema; nothing was written' },
  unknown_topic: { status: 404, title: 'Unknown event topic' },
  after_out_of_range: { status: 400, title: 'The position to read after is out of range' },
  broker_unavailable: { status: 503, title: 'The event broker cannot be reached' },
  space_destroyed: { status: 410, title: 'This space was destroyed (ward destroy); its data cannot be read' },
  space_mismatch: { status: 500, title: 'The database belongs to another space or tier' },
  ingress_denied: { status: 403, title: 'Requests from this address are not accepted' },
  egress_denied: {
    status: 403,
    title: 'Outbound request refused: not HTTPS, not covered by a Business Associate Agreement, or to an address not allowed',
  },
  break_glass_not_allowed: { status: 403, title: 'This role may not use break-glass access' },
  break_glass_reason_invalid: {
    status: 400,
    title: 'Ward-Break-Glass must give the reason for emergency access in 20 to 500 printable characters',
  },
  break_glass_review_pending: {
    status: 403,
    title: 'Too many unreviewed break-glass uses for this API key; an auditor must review them first',
  },
  egress_failed: { status: 502, title: 'Outbound request failed (connection, TLS or timeout)' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A problem with one field of a submitted record: the field's name and the rule it broke. */
export interface FieldIssue {
  field: string;
  reason: string;
}

export class WardError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly FieldIssue[];

  constructor(code: ErrorCode, message?: string, issues: readonly FieldIssue[] = []) {
    super(message ?? ERROR_CODES[code].title);
    this.name = 'WardError';
    this.code = code;
    this.issues = issues;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isWardError(e: unknown, code?: ErrorCode): e is WardError {
  return e instanceof WardError && (code === undefined || e.code === code);
}
