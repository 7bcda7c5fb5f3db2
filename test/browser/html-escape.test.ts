// The escaping the fleet pages rely on, without a browser: fast, and exact about
// every character that could open markup or leave a quoted attribute.
import { describe, expect, it } from "vitest";
import { escapeHtml, html, SafeHtml } from "../../collector/http/html.ts";
import { evidenceText, fingerprintText, withCode } from "../../collector/http/page-format.ts";
import { filterQuery, parseFilter } from "../../collector/http/page-filters.ts";
import { nodeTimeline, stateStrip } from "../../collector/http/history-svg.ts";
import { stateTimeline } from "../../collector/classify/state-timeline.ts";

describe("html escaping for agent-supplied text", () => {
  it("escapes every character that opens markup or ends an attribute", () => {
    expect(escapeHtml(`<script>alert(1)</script>`)).toBe("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(escapeHtml(`<img src=x onerror="alert('x')">`)).toBe("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;");
    expect(escapeHtml("a & b ` c")).toBe("a &amp; b &#96; c");
    expect(escapeHtml("&lt;")).toBe("&amp;lt;"); // already-escaped text is text, not markup
  });

  it("replaces control characters and bidi overrides that could disguise text, keeps tabs and newlines", () => {
    expect(escapeHtml("mini\u202Egnp.exe")).toBe("mini\uFFFDgnp.exe");
    expect(escapeHtml("a\u0000b\u001bc\u2066d")).toBe("a\uFFFDb\uFFFDc\uFFFDd");
    expect(escapeHtml("line\tone\nline two\r")).toBe("line\tone\nline two\r");
    expect(escapeHtml("Zürich 東京 ✔")).toBe("Zürich 東京 ✔");
  });

  it("escapes interpolations in html templates, but not nested templates", () => {
    const name = `"><script>alert(1)</script>`;
    const out = html`<td title="${name}">${name}</td>${html`<b>${"<i>"}</b>`}`.toString();
    expect(out).toBe(`<td title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td><b>&lt;i&gt;</b>`);
  });

  it("renders arrays, numbers and bigints; null, undefined and false render as nothing", () => {
    expect(html`${["<a>", html`<b>`, 1, 2n]}|${null}${undefined}${false}|${0}`.toString()).toBe("&lt;a&gt;<b>12||0");
  });

  it("treats a string that looks like SafeHtml as text: only the code can mark markup as trusted", () => {
    const forged = { toString: () => "<script>" } as unknown as string;
    expect(html`${forged}`.toString()).toBe("&lt;script&gt;");
    expect(html`${SafeHtml.trusted("<hr>")}`.toString()).toBe("<hr>");
  });

  it("shows backtick-quoted commands as code without letting anything else through", () => {
    expect(withCode("Run `tailscale up` then <b>`x<y`</b>").toString()).toBe("Run <code>tailscale up</code> then &lt;b&gt;<code>x&lt;y</code>&lt;/b&gt;");
    expect(withCode("an odd ` backtick").toString()).toBe("an odd &#96; backtick");
  });

  it("shows fingerprints only, withholding anything else in a secret's place", () => {
    expect(fingerprintText("hmac:0123456789abcdef")).toBe("hmac:0123456789abcdef");
    expect(fingerprintText("sk-live-abcdef")).toBe("(withheld: not a fingerprint)");
    expect(evidenceText("gatewayToken", "s3cret")).toBe("(withheld: not a fingerprint)");
    expect(evidenceText("apiKey", "sha256:0123456789ab")).toBe("sha256:0123456789ab");
    expect(evidenceText("source", "env OPENCLAW_GATEWAY_TOKEN")).toBe("env OPENCLAW_GATEWAY_TOKEN");
  });
});

describe("history timelines (inline SVG) with hostile text", () => {
  const HOSTILE = `<script>alert(1)</script><img src=x onerror="alert(2)">" onmouseover="alert(3)`;
  const H = 3_600_000;
  const now = Date.UTC(2026, 11, 5, 12);
  const state = stateTimeline({ fromMs: now - 24 * H, toMs: now, firstSeenMs: 0, currentLayers: new Map([["gateway", "ok"]]), events: [], silences: [{ id: 1, nodeId: "n", startedMs: now - 5 * H, endedMs: now - 4 * H, label: "asleep", relabelled: false }] });
  /** What survives as markup: every tag and attribute name in the output. */
  const tags = (markup: string) => [...markup.matchAll(/<\/?([a-z]+)/g)].map((m) => m[1]!);
  const attributes = (markup: string) => [...markup.matchAll(/\s([a-z-]+)="/g)].map((m) => m[1]!);

  it("escapes a hostile label in the strip's aria-label and adds no tag or attribute of its own", () => {
    const out = stateStrip(state, HOSTILE, now).toString();
    expect(out).toContain(`aria-label="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&quot; onmouseover=&quot;alert(3), last 24h: `);
    expect(new Set(tags(out))).toEqual(new Set(["svg", "line", "rect", "title", "polygon"]));
    expect(attributes(out).filter((a) => a.startsWith("on"))).toEqual([]);
  });

  it("escapes hostile codes, layers and credential sources in the lanes' labels and titles, and withholds what is not a fingerprint", () => {
    const out = nodeTimeline(
      HOSTILE,
      state,
      [{ layer: HOSTILE, code: HOSTILE, spans: [{ fromMs: now - 3 * H, toMs: now - 2 * H, status: HOSTILE, raisedBefore: false, open: false }] }],
      [{ atMs: now - H, change: "rotated", kind: HOSTILE, source: HOSTILE, from: "hmac:0123456789abcdef", to: `sk-live-secret,${HOSTILE}` }],
      now,
    ).toString();
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<img");
    expect(out).not.toContain('" onmouseover');
    expect(new Set(tags(out))).toEqual(new Set(["div", "span", "svg", "line", "rect", "title", "polygon", "code"]));
    expect(attributes(out).filter((a) => a.startsWith("on"))).toEqual([]);
    expect(out).toContain(`data-lane="&lt;script&gt;alert(1)&lt;/script&gt;`);
    expect(out).toContain("changed from hmac:0123456789abcdef to (withheld: not a fingerprint), (withheld: not a fingerprint)");
    expect(out).not.toContain("sk-live-secret");
  });
});

describe("fleet page filters in the query string", () => {
  it("keeps known values, reports unknown ones, and writes them back as a link", () => {
    const { filter, ignored } = parseFilter(new URLSearchParams("layer=tunnel&state=failing&node=Mini-*&code=nope"));
    expect(filter).toEqual({ layer: "tunnel", state: "failing", node: "mini-*" });
    expect(ignored).toEqual(['code "nope"']);
    expect(filterQuery(filter)).toBe("?state=failing&layer=tunnel&node=mini-*");
    expect(filterQuery(filter, { state: undefined })).toBe("?layer=tunnel&node=mini-*");
    expect(parseFilter(new URLSearchParams("node=%3Cb%3E")).filter).toEqual({});
  });
});
