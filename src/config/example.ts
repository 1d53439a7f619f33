/** The commented ward.yaml that `ward init` writes: a nonproduction space with every option shown. */

export const EXAMPLE_KEY_FILE = '.ward/dev-master.key';

export const EXAMPLE_CONFIG = `# ward.yaml: the configuration of one Ward space.
# Every setting is checked when Ward starts; unknown settings are errors.

space:
  name: local-dev            # lowercase letters, digits and dashes
  tier: nonproduction        # production | nonproduction. Production refuses dev keys,
                             # the embedded database and database connections without TLS.

database:
  # A PostgreSQL server. The DATABASE_URL environment variable wins over this setting.
  # Production needs TLS: postgres://ward_app@db.internal:5432/ward?sslmode=verify-full
  # url: postgres://postgres@127.0.0.1:5432/ward
  # With no url (and no DATABASE_URL), Ward uses the embedded database (PGlite) in this
  # directory, relative to this file. For development only.
  embedded: .ward/pgdata

keys:
  # The master key wraps the per-collection data keys stored in the database.
  # WARD_MASTER_KEY (base64 of 32 bytes) wins when set.
  provider: file             # file | env | pkcs11 | aws-kms (see README, "Master key providers")
  file: ${EXAMPLE_KEY_FILE}   # written by \`ward init\`: a development key, refused in production

collections:
  patients:
    description: Synthetic example patients
    retention: 7y            # how long a record is kept: 90d, 12w, 18m, 7y
    fields:
      # type:     string text name ssn mrn date email phone zip icd10 age integer number boolean enum
      # class:    identifier (a HIPAA identifier, encrypted) | clinical (health data,
      #           encrypted, never searchable) | public (not PHI, stored as it is)
      # search:   exact: equality search through a blind index (keyed HMAC)
      # unique:   no two records share the value (needs search: exact)
      # token:    random (a pointer token) | deterministic (same value, same token)
      # mask:     full last4 initials email year zip3: how a masked view shows it
      # required: the field must be present on create
      mrn:
        type: mrn
        class: identifier
        required: true
        search: exact
        unique: true
      name:
        type: name
        class: identifier
        required: true
        search: exact
        mask: initials
      ssn:
        type: ssn
        class: identifier
        token: deterministic
        mask: last4
      dob:
        type: date
        class: identifier
        mask: year
      email:
        type: email
        class: identifier
        search: exact
        token: random
        mask: email
      phone:
        type: phone
        class: identifier
        mask: last4
      zip:
        type: zip
        class: identifier
        mask: zip3
      diagnosis:
        type: string
        class: clinical
        description: ICD-10 code and label (free text, so left out of de-identified views)
      diagnosis_code:
        type: icd10
        class: clinical
        description: ICD-10 code alone (a code carries no identifier, so de-identified views keep it)
      notes:
        type: text
        class: clinical
        mask: full
      plan:
        type: enum
        values: [bronze, silver, gold, medicare, medicaid]
        class: public

# Roles: who may do what, to which fields, and why. Deny by default: an API key's role may
# only do what an allow rule grants, for the purposes (Ward-Purpose header) it lists.
roles:
  clinician:
    description: Care team; every field, every action, for treatment
    allow:
      - collections: [patients]
        actions: [create, read, update, delete, search, detokenize]
        fields: "*"
        purposes: [treatment]
  billing:
    description: Billing office; name, SSN (last four digits only) and plan, for payment
    allow:
      - collections: [patients]
        actions: [read, search]
        fields: [name, ssn, plan]
        masks:
          ssn: last4
        purposes: [payment]
  triage:
    description: Front desk; name, MRN and plan for treatment, and every field in an emergency (break-glass)
    allow:
      - collections: [patients]
        actions: [read, search]
        fields: [name, mrn, plan]
        purposes: [treatment]
    # Emergency access: a request with \`Ward-Break-Glass: <reason, 20+ characters>\` is granted these
    # rules too, for \`window\` from the key's first such request; audited, alerted, and listed by
    # \`ward audit break-glass\` until an auditor reviews it. Past max_unreviewed uses, no new one opens.
    break_glass:
      window: 1h
      max_unreviewed: 3
      allow:
        - collections: [patients]
          actions: [read, search]
          fields: "*"
          purposes: [treatment]
  analytics:
    description: Research; a de-identified view (HIPAA Safe Harbor; dates as years, ZIP as 3 digits, a pseudonym for the id)
    allow:
      - collections: [patients]
        actions: [read]
        view: deidentified
        purposes: [research]
  auditor:
    description: Compliance; the audit trail only, no records
    audit: true
  admin:
    description: Key management; creates, lists and revokes API keys over HTTP, no records
    admin: true

# The audit trail: kept at least six years (Ward never deletes it). ward serve seals new events
# into a signed, verifiable log (ward audit verify) every seal_every.
audit:
  retention: 6y
  seal_every: 10s

# Change events: each committed create, update and delete writes PHI-free events in the same
# transaction (ids, the version, names of the fields that changed, deterministic tokens of key
# fields, values of public fields; never a value of an identifier or clinical field). Consumers
# read a topic over HTTP (GET /v1/events/{topic}, or its /stream) or, with a broker, from NATS
# JetStream. Start-up refuses a topic name or header the PHI detector flags.
events:
  topics:
    - name: local-dev.patients.refs.v1   # <space>.<domain>.<sensitivity>.v<n>; sensitivity: meta | public | refs
      collections: [patients]
      actions: [create, update, delete]
      keys: [ssn]            # tokens of fields with token: deterministic (refs topics only)
      public: [plan]         # values of public fields (not in meta topics)
      retention: 7d          # how long the broker (or, without one, the outbox) keeps events
      compact: false         # true: the broker keeps only each record's newest event
  consumers:                 # who may read which topics; a role reads only its consumers' topics
    - name: billing_sync
      topics: [local-dev.patients.refs.v1]
      role: billing
  # webhooks:                # HTTPS POST of each event, signed (see the README); the host needs an agreement
  #   - name: billing_hook
  #     topic: local-dev.patients.refs.v1
  #     url: https://hooks.example.com/ward
  #     secret_env: BILLING_HOOK_SECRET   # the environment variable holding the signing secret
  #     max_attempts: 8                   # then the event goes to the dead letters
  #     retry_after: 1s                   # the first retry's wait, doubling up to 5m
  # broker:                  # relay events to NATS JetStream (one stream per topic); without it
  #   nats:                  # the outbox is the event log and consumers read over HTTP
  #     url: nats://127.0.0.1:4222
  #     credentials: nats.creds   # or nkey: FILE; tls: { ca, cert, key }
  # relay:
  #   grace: 1h              # delivered events stay this long for HTTP readers
  #   dedupe_window: 2m      # the broker drops a re-sent event within this window

# Outbound requests go only over HTTPS to hosts covered by a Business Associate Agreement in force
# (ward baa add), never to loopback, private or metadata addresses.
# egress:
#   allow_private: false     # nonproduction only: true lets requests reach a local receiver
#   ca_file: ca.pem          # CA certificates of a private PKI, trusted besides the system's

# Alerts (a lockout starting) posted, signed, to an HTTPS endpoint covered by an agreement.
# alerts:
#   url: https://pager.example.com/ward
#   secret_env: WARD_ALERT_SECRET

# Where requests may come from: any other address gets 403 ingress_denied before authentication
# (behind a proxy, the forwarded address counts only from --trust-proxy ranges).
# network:
#   ingress:
#     allow: [10.0.0.0/8, 192.168.0.0/16]
`;

/**
 * The example's production-ready variant (`ward init --production`): the same collections and
 * roles in a production space, on a PostgreSQL server over TLS (DATABASE_URL wins over the URL
 * written here), with the master key from WARD_MASTER_KEY (or switch to aws-kms or pkcs11), and
 * no development key. `ward check --fail-on high` passes on it once the database is reachable.
 */
export const PRODUCTION_EXAMPLE_CONFIG = EXAMPLE_CONFIG.replace('  name: local-dev ', '  name: prod      ')
  .replace('  tier: nonproduction        #', '  tier: production           #')
  .replace('  embedded: .ward/pgdata\n', '  url: postgres://ward_app@db.internal:5432/ward?sslmode=verify-full\n')
  .replace(
    / {2}provider: file( +#[^\n]*)\n {2}file: [^\n]*\n/,
    "  provider: env              # WARD_MASTER_KEY (base64 of 32 bytes), from the platform's secret store; or aws-kms, pkcs11\n",
  )
  .replace(
    '# network:\n#   ingress:\n#     allow: [10.0.0.0/8, 192.168.0.0/16]',
    'network:\n  ingress:\n    allow: [10.0.0.0/8]  # the private network the services calling Ward run in',
  )
  .replaceAll('local-dev.', 'prod.');
