// The NATS JetStream tier itself: the run's server dedupes by message id (what the outbox relies
// on to publish at least once without duplicates), and a throwaway server keeps a file-stored
// stream across restart() (what the crash tests rely on).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { describeNats, natsUrl } from '../helpers.js';
import { natsServerOnPath, startNats } from '../nats-server.js';

/**
 * A stream of its own for one test: unique name and subject, file storage, a 2 min duplicate
 * window, and a max age of 2 min too (the server refuses a duplicate window longer than max_age).
 */
function uniqueStream() {
  const tag = randomBytes(6).toString('hex');
  return {
    name: `WARD_TIER_${tag}`,
    subject: `ward-tier.${tag}`,
    config: { storage: StorageType.File, max_age: nanos(120_000), duplicate_window: nanos(120_000) },
  };
}

describeNats('NATS tier: JetStream', () => {
  it('acks a second publish with the same msgID as a duplicate, stored once', async () => {
    const s = uniqueStream();
    const nc = await connect({ servers: natsUrl(), timeout: 3000 });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: s.name, subjects: [s.subject], ...s.config });
      try {
        const js = jetstream(nc);
        const msgID = `ward-tier-${randomBytes(4).toString('hex')}`;
        const first = await js.publish(s.subject, 'event one', { msgID });
        const second = await js.publish(s.subject, 'event one', { msgID });
        expect(first.duplicate).toBe(false);
        expect(second.duplicate).toBe(true);
        expect(second.seq).toBe(first.seq);
        expect((await jsm.streams.info(s.name)).state.messages).toBe(1);
      } finally {
        await jsm.streams.delete(s.name);
      }
    } finally {
      await nc.close();
    }
  });
});

describe('NATS tier: throwaway nats-server', () => {
  it.skipIf(!natsServerOnPath())('keeps a file-stored stream across restart(), and dispose() removes its store', async () => {
    const server = await startNats();
    try {
      const s = uniqueStream();
      const before = await connect({ servers: server.url, timeout: 3000 });
      try {
        const jsm = await jetstreamManager(before);
        await jsm.streams.add({ name: s.name, subjects: [s.subject], ...s.config });
        const ack = await jetstream(before).publish(s.subject, 'survives', { msgID: 'restart-1' });
        expect(ack.seq).toBe(1);
      } finally {
        await before.close();
      }

      await server.restart();

      const after = await connect({ servers: server.url, timeout: 3000 });
      try {
        const jsm = await jetstreamManager(after);
        expect((await jsm.streams.info(s.name)).state.messages).toBe(1);
        const stored = await jsm.streams.getMessage(s.name, { seq: 1 });
        expect(stored?.subject).toBe(s.subject);
        expect(stored?.string()).toBe('survives');
      } finally {
        await after.close();
      }
    } finally {
      await server.dispose();
    }
    expect(existsSync(server.storeDir)).toBe(false);
  });
});
