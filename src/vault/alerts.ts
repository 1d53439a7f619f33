/**
 * Alerts: events an operator must hear of at once (a lockout starting, a break-glass use opening) posted to the
 * configured HTTPS endpoint through egress, signed as webhooks are (`Ward-Webhook-*` headers,
 * `verifyWebhook`). An alert names what happened and when, never PHI: a lockout names the client
 * address or the API key's prefix. Sent in the background with three attempts; every attempt is
 * audited by egress.
 */
import { newRecordId } from '../crypto/derive.js';
import type { Egress } from '../egress/client.js';
import { signedHeaders } from '../events/webhooks.js';

export interface AlertSettings {
  url: string;
  secret: string;
}

export interface Alert {
  type: 'lockout' | 'break_glass' | 'sync';
  detail: Record<string, string | number>;
}

export class Alerts {
  /** Deliveries in progress (tests wait for them; shutdown does not). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly settings: AlertSettings | undefined,
    private readonly space: string,
    private readonly egress: () => Egress,
  ) {}

  /** Posts an alert in the background; failures are audited by egress and retried twice. */
  raise(alert: Alert): void {
    const s = this.settings;
    if (!s) return;
    const id = newRecordId();
    const body = JSON.stringify({ id, type: alert.type, space: this.space, at: new Date().toISOString(), ...alert.detail });
    const p = (async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          const res = await this.egress().send({
            url: s.url,
            body,
            headers: signedHeaders(s.secret, id, body),
            purpose: 'alert',
            scope: 'no-phi',
          });
          if (res.status >= 200 && res.status < 300) return;
        } catch {
          // egress audited it; try again
        }
        await new Promise((done) => setTimeout(done, 1000 * 2 ** attempt));
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Waits for the alerts in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
