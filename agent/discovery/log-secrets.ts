// Secrets out of log text before it leaves the agent: every value equal to a
// secret the host is known to use, and every value shaped like a credential,
// is replaced by its fingerprint. The gateway redacts its own file log, but
// not its console (launchd's stdout file, the journal), and a config error
// quotes the offending value verbatim ("gateway.bind: Invalid input … got:
// "<the token>"", seen from the real 2026.9.6 gateway).
import { isFingerprint, type Fingerprinter } from "../../shared/fingerprint.ts";
import { CREDENTIALS_IN_TEXT } from "./secret-shapes.ts";

/** Shorter known values match ordinary words by accident. */
export const MIN_KNOWN_SECRET_LENGTH = 8;

/** Replaces known secrets (longest first, so a secret containing another goes whole) and credential shapes by fingerprints. */
export function createLogScrubber(knownSecrets: Iterable<string>, fingerprint: Fingerprinter): (text: string) => string {
  const known = [...new Set([...knownSecrets].filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(fingerprint(secret));
    for (const shape of CREDENTIALS_IN_TEXT) {
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
