/** Network and machine identifiers: e-mail addresses, URLs, IPv6 and MAC addresses. */
import type { Findings } from './patterns.js';

const EMAIL_RE = /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w-])/g;
const URL_RE = /\b(?:(?:https?|ftp|sftp|wss?):\/\/|www\.)[^\s"'<>`]+/gi;
const URL_TRAIL = /[.,;:!?)\]}]+$/;
const LOCAL_HOST = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\])(?:[:/]|$)/i;
// A path segment right after one of these names a person: /patients/jwhitaker, /u/ada.
const PERSONAL_PATH = /\/(?:patients?|users?|members?|people|persons?|profiles?|u|~)\/[^/?#]+|\/~[^/?#]+/i;
const IPV6_CANDIDATE_RE = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;
// Bare domain names ("stmarys-clinic.org", "mail.northwell.edu"): only real top-level domains,
// not file names ("README.md", "app.py", "index.js"), "Node.js", "req.body" or java packages.
// Lower case only: "home.It was" is a missing space. No "info" (log.info), "in", "no" (Ref.No).
const TLDS = 'com|org|net|edu|gov|mil|biz|health|clinic|hospital|io|co|us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|dk|fi|pl|pt|gb';
/** A top-level domain after a dot, for the prefilter and as the scan for bare domains. */
export const DOMAIN_TRIGGER = String.raw`\.(?:${TLDS})(?![\w-]|\.[a-z0-9])`;
const TLD_RE = new RegExp(DOMAIN_TRIGGER, 'g');
const DOMAIN_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[a-z]+$/;
// Services and examples, not the domain of a clinic or a person.
const SERVICE_DOMAIN =
  /(?:^|\.)(?:example|stripe|amazonaws|github|githubusercontent|google|googleapis|gstatic|cloudflare|npmjs|sentry|datadoghq|microsoft|azure|apple|slack|twilio|sendgrid|w3|schema|mozilla|nodejs|docker|pypi|python|socket|localhost|ward)\.[a-z.]+$/i;
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

/** Bare domain names: "contact stmarys-clinic.org", "email from mail.northwell.edu" → URL. */
export function detectDomains(text: string, out: Findings): void {
  TLD_RE.lastIndex = 0;
  for (let m = TLD_RE.exec(text); m; m = TLD_RE.exec(text)) {
    // Walk back over the labels; not inside an e-mail address, a URL, a path or a key.
    let start = m.index;
    while (start > 0 && /[A-Za-z0-9.-]/.test(text.charAt(start - 1))) start--;
    // A URL's host ("https://stjudes.org/contact"): the whole URL, as it names the clinic.
    const url = text.slice(Math.max(0, start - 3), start) === '://';
    if (!url && start > 0 && /[\w@/:%+]/.test(text.charAt(start - 1))) continue;
    const domain = text.slice(start, m.index + m[0].length);
    const first = domain.slice(0, domain.indexOf('.'));
    if (!DOMAIN_RE.test(domain) || first.length < 2 || /^\d+$/.test(first) || SERVICE_DOMAIN.test(domain)) continue;
    if (!url && !domain.startsWith('www.')) out.add('URL', start, start + domain.length, 0.85);
    else {
      const scheme = /[a-z]+:\/\/$/i.exec(text.slice(Math.max(0, start - 10), start));
      const rest = /^[^\s"'<>`]*/.exec(text.slice(start))?.[0].replace(URL_TRAIL, '') ?? domain;
      out.add('URL', start - (scheme?.[0].length ?? 0), start + rest.length, 0.85);
    }
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
