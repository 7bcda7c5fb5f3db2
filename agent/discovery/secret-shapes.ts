// What a secret looks like, in one place: the names that hold credentials by
// convention and the shapes of credential values. The service installer uses
// them on whole variables (never copy a secret into a unit file), the log
// reader on text (fingerprint it before a line leaves the host).

/** Names that hold credentials by convention (OPENCLAW_GATEWAY_TOKEN, ANTHROPIC_API_KEY, CF_ACCESS_CLIENT_SECRET, GITHUB_PAT…). */
const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|COOKIE|PRIVATE|(?:^|_)PAT(?:_|$)|(?:^|_)AUTH(?:_|$)/i;

/** Well-known key prefixes (OpenAI/Anthropic, GitHub, GitLab, Slack, AWS). */
const KEY_PREFIX = String.raw`(?:sk-|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-)`;
const AWS_KEY_ID = String.raw`AKIA[0-9A-Z]{12,}`;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A value that carries a credential whatever its name: a URL with user:pass@
 * (proxies, database URLs), a well-known key prefix, a long hex string, or a
 * long base64-like word mixing upper case, lower case and digits. Paths,
 * PATH-like lists and flags (`--max-old-space-size=4096`) do not qualify.
 */
export function looksLikeCredential(value: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) return true;
  if (new RegExp(`^(?:${KEY_PREFIX}|${AWS_KEY_ID})`).test(value)) return true;
  if (/^[0-9a-f]{32,}$/i.test(value)) return true;
  return value.length >= 24 && /^[A-Za-z0-9_+=.-]+$/.test(value) && !value.startsWith("-") && /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value);
}

/** The same shapes found inside text (a log line), the value in the capture group named `v`. */
export const CREDENTIALS_IN_TEXT: readonly RegExp[] = [
  // Authorization: Bearer <token>
  /\bBearer\s+(?<v>[A-Za-z0-9._~+/=-]{8,})/g,
  // scheme://user:password@host
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:(?<v>[^\s/@]+)@/gi,
  // token=…, "apiKey": "…", password: …, OPENCLAW_GATEWAY_TOKEN=… (the words of SECRET_NAME)
  /(?:token|key|secret|password|passwd|passphrase|credential|cookie)[A-Za-z0-9_]*["']?\s*[:=]\s*["']?(?<v>[^\s"',;}]{6,})/gi,
  new RegExp(String.raw`(?<v>\b${KEY_PREFIX}[A-Za-z0-9_-]{8,}|\b${AWS_KEY_ID})`, "g"),
  // Long hex, or a long word mixing upper case, lower case and digits (random tokens).
  /(?<v>\b[0-9a-fA-F]{32,}\b)/g,
  // (`=` only as base64 padding: `NAME=value` is two words, or the name would take the fingerprint too;
  // two digits at least, or a path component such as `clawfleet-oFQV6B` would pass for one.)
  /(?<![A-Za-z0-9_+/-])(?<v>(?=[A-Za-z0-9_+/-]*[a-z])(?=[A-Za-z0-9_+/-]*[A-Z])(?=[A-Za-z0-9_+/-]*\d[A-Za-z_+/-]*\d)[A-Za-z0-9_+/-]{24,}={0,2})(?![A-Za-z0-9_+/=-])/g,
];
