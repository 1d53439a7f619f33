/** Client addresses as Ward counts them (connection caps, log-in monitoring). */
import { isIP, isIPv6 } from 'node:net';

/** The address a client is counted under: IPv4 as it is (IPv4-mapped IPv6 too), IPv6 by its /64. */
export function clientKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return v4;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

const RANGE = /^(.+)\/(\d{1,3})$/;
/** Whether `text` is an IP address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `203.0.113.7`). */
export function isAddressOrRange(text: string): boolean {
  const m = RANGE.exec(text);
  const family = isIP(m ? (m[1] as string) : text);
  return family !== 0 && (!m || Number(m[2]) <= (family === 4 ? 32 : 128));
}
