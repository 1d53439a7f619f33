/** Network and machine identifiers: e-mail addresses, URLs, IPv6 and MAC addresses. */
import type { Findings } from './patterns.js';

const EMAIL_RE = /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])/g;
const URL_RE = /\b(?:(?:https?|ftp|sftp|wss?):\/\/|www\.)[^\s"'<>`]+/gi;
const URL_TRAIL = /[.,;:!?)\]}]+$/;
const LOCAL_HOST = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\])(?:[:/]|$)/i;
// A path segment right after one of these names a person: /patients/jwhitaker, /u/ada.
const PERSONAL_PATH = /\/(?:patients?|users?|members?|people|persons?|profiles?|u|~)\/[^/?#]+|\/~[^/?#]+/i;
const IPV6_CANDIDATE_RE = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;
const MAC_RE = /(?<![\w:-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])/g;

/** E-mail addresses (run only when the text holds an "@"). */
export function detectEmails(text: string, out: Findings): void {
  EMAIL_RE.lastIndex = 0;
  for (let m = EMAIL_RE.exec(text); m; m = EMAIL_RE.exec(text)) out.add('EMAIL', m.index, m.index + m[0].length, 0.95);
}

/**
 * URLs that point at a person: with a query or fragment, credentials, or a per-person path.
 * A bare service endpoint ("https://api.stripe.com/v1/charges") names a service, not a
 * person, and is left alone; so are loopback URLs.
 */
export function detectUrls(text: string, out: Findings): void {
  URL_RE.lastIndex = 0;
  for (let m = URL_RE.exec(text); m; m = URL_RE.exec(text)) {
    const url = m[0].replace(URL_TRAIL, '');
    if (LOCAL_HOST.test(url)) continue;
    const rest = url.replace(/^[a-z]+:\/\//i, '');
    const personal = /[?#]./.test(rest) || /^[^/]*@/.test(rest) || PERSONAL_PATH.test(rest);
    if (personal) out.add('URL', m.index, m.index + url.length, 0.95);
  }
}

/** IPv6 addresses (8 groups, or "::" compression); "::" and "::1" identify nothing. */
export function detectIpv6(text: string, out: Findings): void {
  IPV6_CANDIDATE_RE.lastIndex = 0;
  for (let m = IPV6_CANDIDATE_RE.exec(text); m; m = IPV6_CANDIDATE_RE.exec(text)) {
    const v = m[0];
    const compressed = v.split('::').length - 1;
    const groups = v.split(':');
    const filled = groups.filter((g) => g !== '');
    const ok = compressed === 1 ? filled.length >= 2 && filled.length <= 7 : compressed === 0 && groups.length === 8 && filled.length === 8;
    if (ok && /\d/.test(v)) out.add('IP', m.index, m.index + v.length, 0.9);
  }
}

/** MAC addresses identify a device. */
export function detectMacs(text: string, out: Findings): void {
  MAC_RE.lastIndex = 0;
  for (let m = MAC_RE.exec(text); m; m = MAC_RE.exec(text)) out.add('DEVICE', m.index, m.index + m[0].length, 0.85);
}
