/**
 * Change events as outbox rows: for a committed create, update or delete, one row per topic that
 * carries that collection and action, holding ids, the version, the names of the fields that
 * changed, deterministic tokens of the topic's key fields and the values of its public fields;
 * never a value of an identifier or clinical field. Each event is checked against its topic's
 * schema before it is written: one that does not fit fails the operation (`event_invalid`).
 */
import { WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import type { OutboxRow } from '../store/events.js';
import type { EventAction, Topic } from './topics.js';

/** One committed change, as the pipeline knows it (tokens and public values after it; before it, for a delete). */
export interface Change {
  collection: Collection;
  action: EventAction;
  recordId: string;
  version: number;
  /** Names of the fields set or removed. */
  fields: readonly string[];
  tokens: Readonly<Record<string, string>>;
  public: Readonly<Record<string, unknown>>;
}

export class EventWriter {
  private readonly routes = new Map<string, Topic[]>();
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly topics: ReadonlyMap<string, Topic>,
    private readonly space: string,
    /** Event ids: UUIDv7, time-ordered. */
    private readonly newId: () => string,
  ) {
    for (const t of topics.values())
      for (const c of t.collections) for (const a of t.actions) this.routes.set(`${c}\0${a}`, [...this.topicsOf(c, a), t]);
  }

  /** The topics that carry this collection's changes of this kind. */
  topicsOf(collection: string, action: EventAction): readonly Topic[] {
    return this.routes.get(`${collection}\0${action}`) ?? [];
  }

  /** Calls `listener` each time this process commits events (the relay wakes on it); returns how to stop. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Says that events of this process just committed. */
  committed(rows: readonly unknown[]): void {
    if (rows.length) for (const l of this.listeners) l();
  }

  /** Whether any topic carries this collection's changes of this kind. */
  carries(collection: string, action: EventAction): boolean {
    return this.topicsOf(collection, action).length > 0;
  }

  /** The outbox rows of a change (none when no topic carries it), each checked against its schema. */
  rows(change: Change, at = new Date()): OutboxRow[] {
    const topics = this.topicsOf(change.collection.name, change.action);
    if (!topics.length) return [];
    return topics.map((t) => {
      const keys: Record<string, string> = {};
      for (const k of t.keys) {
        const token = change.tokens[k];
        if (token !== undefined) keys[k] = token;
      }
      const values: Record<string, unknown> = {};
      for (const p of t.public) if (change.public[p] !== undefined) values[p] = change.public[p];
      const body = {
        id: this.newId(),
        topic: t.name,
        space: this.space,
        collection: change.collection.name,
        recordId: change.recordId,
        version: change.version,
        action: change.action,
        fields: [...new Set(change.fields)].sort(),
        keys,
        public: values,
        at: at.toISOString(),
      };
      if (!t.validate(body)) {
        // The schema's complaint names a property path and a rule, never the value.
        const first = t.validate.errors?.[0];
        throw new WardError(
          'event_invalid',
          `an event of topic ${t.name} does not match its schema (${first?.instancePath || '/'} ${first?.keyword ?? ''}); nothing was written`,
        );
      }
      return { id: body.id, topic: t.name, recordId: change.recordId, body };
    });
  }
}
