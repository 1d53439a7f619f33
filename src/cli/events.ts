/**
 * `ward relay` (the event relay by itself, or one drain with --once) and `ward events ...`: the
 * topics' schemas, declared consumers with their lag and staleness (and --prune), and tail.
 */
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import { intervalMs } from '../util/duration.js';
import type { ConsumerReport } from '../vault/events.js';
import { type Cli, textTable, UsageError } from './run.js';

const DAY = 86_400_000;

export function registerEvents(program: Command, cli: Cli): void {
  program
    .command('relay')
    .description('relay change events to the broker (events.broker.nats) until SIGTERM or SIGINT; one relay is active at a time')
    .option('--once', 'send everything pending, then exit')
    .action((o: { once?: boolean }) =>
      cli.withVault(async (v) => {
        if (!v.events.brokered)
          throw new WardError('config_invalid', 'there is no broker to relay to: set events.broker.nats.url in ward.yaml');
        if (o.once) return cli.printJson({ relayed: await v.events.drain() });
        const log = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
          cli.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra })}\n`);
        await log('info', 'relay started', { topics: v.events.topicNames() });
        await v.events.start({
          relayFailed: (e) =>
            void log('error', 'event relay round failed; retrying with backoff', {
              code: e instanceof WardError ? e.code : 'internal_error',
            }),
        });
        await new Promise<void>((done) => {
          process.once('SIGTERM', done).once('SIGINT', done);
        });
        await v.events.stop();
        await log('info', 'relay stopped');
      }),
    );

  const events = program.command('events').description('change events: schemas, consumers, tail');

  events
    .command('schemas')
    .description("print each declared topic's JSON Schema")
    .action(() => cli.withVault(async (v) => cli.printJson(v.events.schemas())));

  events
    .command('consumers')
    .description('list declared consumers: lag, last acknowledgement or read, last use of their role’s keys')
    .option('--stale <duration>', 'a consumer with no read, acknowledgement or key use for this long is stale (e.g. 30d, 12h)', '30d')
    .option('--json', 'print JSON')
    .option('--prune', 'remove stale consumers from the broker and forget their HTTP positions (audited)')
    .action((o: { stale: string; json?: boolean; prune?: boolean }) =>
      cli.withVault(async (v) => {
        const staleMs = intervalMs(o.stale);
        if (staleMs === null || !/^\d{1,7}(ms|s|m|h|d)$/.test(o.stale))
          throw new UsageError('--stale must be a duration such as 30d, 12h or 90m');
        const broker = await v.events.connectBroker();
        try {
          const report = await v.events.consumerReport(staleMs, broker);
          const pruned = o.prune ? await v.pruneConsumers(report, broker) : [];
          if (o.json) return cli.printJson({ consumers: report, ...(o.prune ? { pruned } : {}) });
          await cli.write(table(report, staleMs));
          if (o.prune) await cli.write(pruned.length ? `pruned: ${pruned.join(', ')}\n` : 'nothing to prune\n');
        } finally {
          await broker?.close();
        }
      }),
    );

  events
    .command('dead-letters')
    .description('list events webhooks gave up on after their attempts (ids and positions, never a body)')
    .action(() => cli.withVault(async (v) => cli.printJson({ deadLetters: await v.events.deadLetters() })));

  events
    .command('tail <topic>')
    .description('print events of a topic as JSON lines as they arrive, until SIGINT (--after N starts after position N)')
    .option('--after <position>', 'start after this position (default: the newest, so only new events)')
    .option('--limit <n>', 'stop after this many events')
    .action((topic: string, o: { after?: string; limit?: string }) =>
      cli.withVault(async (v) => {
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop).once('SIGTERM', stop);
        try {
          if (o.after !== undefined && !/^\d{1,15}$/.test(o.after)) throw new UsageError('--after must be a position (a whole number)');
          if (o.limit !== undefined && !/^[1-9]\d{0,6}$/.test(o.limit)) throw new UsageError('--limit must be a whole number from 1');
          let after = o.after === undefined ? await v.events.head() : Number(o.after);
          let left = o.limit === undefined ? Number.POSITIVE_INFINITY : Number(o.limit);
          while (!ac.signal.aborted && left > 0) {
            const page = await v.readEvents(topic, { after, limit: Math.min(100, left), waitMs: 5_000, signal: ac.signal });
            for (const e of page.events) await cli.write(`${JSON.stringify(e)}\n`);
            left -= page.events.length;
            after = page.next;
          }
        } finally {
          process.off('SIGINT', stop).off('SIGTERM', stop);
        }
      }),
    );
}

function table(rows: readonly ConsumerReport[], staleMs: number): string {
  if (!rows.length) return 'no consumers are declared (events.consumers in ward.yaml)\n';
  const head = ['consumer', 'role', 'topic', 'via', 'lag', 'last ack/read', 'key last used', `stale (${Math.round(staleMs / DAY)}d)`];
  const body = rows.map((r) => [
    r.consumer,
    r.role,
    r.topic,
    r.via,
    String(r.lag),
    r.lastAck ?? '-',
    r.keyLastUsed ?? '-',
    r.stale ? 'STALE' : 'ok',
  ]);
  return textTable(head, body);
}
