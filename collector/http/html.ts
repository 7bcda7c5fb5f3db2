// HTML that is safe by construction: every value interpolated into an `html`
// template is escaped unless it is already SafeHtml (the output of another
// `html` template, or a constant the code itself marks as trusted). Agent-supplied
// text (hostnames, summaries, actions, evidence, event details) can therefore
// only ever become text, never markup, wherever a page puts it: element content
// or a double-quoted attribute value.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/**
 * C0/C1 controls and Unicode bidirectional overrides: a hostile agent could use
 * them to make a node name or action read differently from what it is
 * ("‮lmth.exe"); shown as U+FFFD instead. Tab, newline and carriage return stay.
 */
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeHtml(text: string): string {
  return text.replace(INVISIBLE, "\ufffd").replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export class SafeHtml {
  readonly #html: string;
  private constructor(markup: string) {
    this.#html = markup;
  }
  /** Only for markup the code wrote itself (constants), never for data. */
  static trusted(markup: string): SafeHtml {
    return new SafeHtml(markup);
  }
  toString(): string {
    return this.#html;
  }
}

export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** `html\`<td>${agentText}</td>\``: interpolations are escaped, nested templates are not. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return SafeHtml.trusted(out);
}
