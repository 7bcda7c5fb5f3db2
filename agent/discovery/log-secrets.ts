// Secrets out of log text before it leaves the agent: every value equal to a
// secret the host is known to use, and every value shaped like a credential,
// is replaced by its fingerprint. The gateway redacts its own file log, but
// not its console (launchd's stdout file, the journal), and a config error
// quotes the offending value verbatim ("gateway.bind: Invalid input … got:
// "<the token>"", seen from the real 2026.9.6 gateway).
import type { Fingerprinter } from "../../shared/fingerprint.ts";

/** Shorter known values match ordinary words by accident. */
export const MIN_KNOWN_SECRET_LENGTH = 8;

/** Credential shapes, the value in the capture group named `v` (the rest of the match stays). */
const SECRET_SHAPES: readonly RegExp[] = [
  // Authorization: Bearer <token>
  /\bBearer\s+(?<v>[A-Za-z0-9._~+/=-]{8,})/g,
  // scheme://user:password@host
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:(?<v>[^\s/@]+)@/gi,
  // token=…, "apiKey": "…", password: …, OPENCLAW_GATEWAY_TOKEN=… (names as service-environment.ts's isSecretName)
  /(?:token|key|secret|password|passwd|passphrase|credential|cookie)[A-Za-z0-9_]*["']?\s*[:=]\s*["']?(?<v>[^\s"',;}]{6,})/gi,
  // Well-known key prefixes.
  /(?<v>\b(?:sk-|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-)[A-Za-z0-9_-]{8,}|\bAKIA[0-9A-Z]{12,})/g,
  // Long hex, or a long word mixing upper case, lower case and digits (random tokens).
  /(?<v>\b[0-9a-fA-F]{32,}\b)/g,
  // (`=` only as base64 padding: `NAME=value` is two words, or the name would take the fingerprint too;
  // two digits at least, or a path component such as `clawfleet-oFQV6B` would pass for one.)
  /(?<![A-Za-z0-9_+/-])(?<v>(?=[A-Za-z0-9_+/-]*[a-z])(?=[A-Za-z0-9_+/-]*[A-Z])(?=[A-Za-z0-9_+/-]*\d[A-Za-z_+/-]*\d)[A-Za-z0-9_+/-]{24,}={0,2})(?![A-Za-z0-9_+/=-])/g,
];

/** Replaces known secrets (longest first, so a secret containing another goes whole) and credential shapes by fingerprints. */
export function createLogScrubber(knownSecrets: Iterable<string>, fingerprint: Fingerprinter): (text: string) => string {
  const known = [...new Set([...knownSecrets].filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  const isFingerprint = (value: string) => /^(?:sha256|hmac):[0-9a-f]+$/.test(value);
  return (text) => {
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(fingerprint(secret));
    for (const shape of SECRET_SHAPES) {
      out = out.replace(shape, (whole: string, ...rest: unknown[]) => {
        const groups = rest.at(-1) as { v?: string } | undefined;
        const value = groups?.v;
        if (!value || isFingerprint(value) || value.startsWith("sha256:") || value.startsWith("hmac:")) return whole;
        // `gateway.auth.token: Invalid input` names a secret's key, not its value: a plain word is not a credential.
        if (/^[A-Za-z]+$/.test(value) && value.length < 16) return whole;
        // A path (`/tmp/clawfleet-x1Y2z3/`) is where things are, not a secret.
        if (value.startsWith("/") || value.endsWith("/")) return whole;
        const at = whole.lastIndexOf(value);
        return whole.slice(0, at) + fingerprint(value) + whole.slice(at + value.length);
      });
    }
    return out;
  };
}
