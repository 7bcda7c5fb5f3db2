// The collector's fleet page in a real headless Chromium, against a real
// collector fed by a real `clawfleet agent run` and simulated agents (one of
// them hostile). Screenshots land in test-artifacts/screenshots/ for CI.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type Browser, type Page, type Viewport } from "../helpers/browser.ts";
import { REPO_ROOT, runClawfleet } from "../helpers/processes.ts";
import { problem } from "../../shared/finding.ts";
import { healthyFindings } from "../helpers/agent-simulator.ts";
import {
  CREDENTIAL_NODE,
  CREDENTIAL_SECRET,
  HEALTHY_NODES,
  HOSTILE,
  HOSTILE_NODE,
  IMG_PAYLOAD,
  REAL_NODE,
  SCRIPT_PAYLOAD,
  SLEEPY_NODE,
  startFleetWorld,
  TUNNEL_NODE,
  type FleetWorld,
} from "./fleet-world.ts";
import { FLAPPING_NODE, FLAPPING_TOKEN, FLAPS, ROTATED_HOURS_AGO, SLEPT_HOURS_AGO, UNREACHABLE_HOURS_AGO } from "./fleet-history.ts";

const SCREENSHOT_DIR = join(REPO_ROOT, "test-artifacts", "screenshots");

const ALL_NODES = [REAL_NODE, HOSTILE_NODE, TUNNEL_NODE, SLEEPY_NODE, CREDENTIAL_NODE, ...HEALTHY_NODES];
const DESKTOP: Viewport = { width: 1280, height: 900, colorScheme: "dark" };
const PHONE: Viewport = { width: 375, height: 812, mobile: true, colorScheme: "dark" };

interface Row {
  node: string;
  state: string;
  layer: string;
  code: string;
  age: string;
  action: string;
}

// Page-side code is written as strings: the tree type-checks without the DOM lib.

/** The node table as the browser rendered it, top to bottom. */
const rowsOf = (page: Page) =>
  page.evaluate<Row[]>(`[...document.querySelectorAll("table.nodes tbody tr")].map((tr) => {
    const cell = (name) => tr.querySelector("td." + name)?.innerText.trim() ?? "";
    return { node: tr.querySelector("td.node a")?.textContent ?? "", state: cell("state").toLowerCase(), layer: cell("layer"), code: cell("code"), age: cell("age"), action: cell("action") };
  })`);

interface Strip {
  label: string;
  segments: { state: string; from: number; to: number; title: string; fill: string }[];
  marks: { kind: string; at: number; title: string }[];
}

/** Each row's 24 h strip as drawn: its bars (with the fill the stylesheet gave them), marks and summary. */
const stripsOf = (page: Page, scope = "table.nodes tbody tr") =>
  page.evaluate<Record<string, Strip>>(`Object.fromEntries([...document.querySelectorAll(${JSON.stringify(scope)})].map((row) => {
    const svg = row.querySelector("svg.strip");
    return [row.dataset.node ?? row.dataset.lane, svg && {
      label: svg.getAttribute("aria-label"),
      segments: [...svg.querySelectorAll("rect.tl")].map((r) => ({ state: r.dataset.state, from: Number(r.dataset.from), to: Number(r.dataset.to), title: r.querySelector("title").textContent, fill: getComputedStyle(r).fill })).sort((a, b) => a.from - b.from),
      marks: [...svg.querySelectorAll("[data-mark]")].map((m) => ({ kind: m.dataset.mark, at: Number(m.dataset.at), title: m.querySelector("title").textContent })),
    }];
  }))`);

const H = 3_600_000;

const innerText = (page: Page, selector: string) => page.evaluate<string>(`document.querySelector(${JSON.stringify(selector)})?.innerText ?? ""`);

/** Errors the browser logged: a CSP violation (blocked inline script or style) would show here. */
const problemsIn = (page: Page) => page.log.filter((e) => e.level === "error" || e.source === "exception" || /Content Security Policy/i.test(e.text));

describe("the fleet page at / in a real browser", () => {
  let world: FleetWorld;
  let browser: Browser;
  const pages: Page[] = [];
  const open = async (path: string, viewport: Viewport) => {
    const page = await browser.newPage(viewport);
    pages.push(page);
    await page.goto(new URL(path, world.pageUrl).href);
    return page;
  };

  beforeAll(async () => {
    [world, browser] = await Promise.all([startFleetWorld(), launchChromium()]);
    const type = (await fetch(world.pageUrl)).headers.get("content-type");
    if (!type?.startsWith("text/html")) throw new Error(`/ answered ${type}, not the fleet page: collector/collector.ts must pass its Fleet to createHttpServer(registry, metrics, fleet)`);
  });
  afterAll(async () => {
    await Promise.all(pages.map((p) => p.close()));
    await browser?.close();
    await world?.stop();
  });

  it("answers with a CSP that allows only its own script and style, nosniff and no referrer", async () => {
    const response = await fetch(world.pageUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const body = await response.text();
    expect(body).not.toMatch(/<script(?![^>]*\bsrc="\/app\.js\?v=[0-9a-f]+")/); // no inline script at all
    expect((await fetch(new URL("/app.js", world.pageUrl))).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(new URL("/node/no-such-node", world.pageUrl))).status).toBe(404);
  });

  it("lists failing nodes first, each with its layer, code, report age and the action to take (1280x900)", async () => {
    const page = await open("/", DESKTOP);
    // Screenshots first, so a failing run still leaves them for whoever reads the CI artifacts.
    await page.screenshot(join(SCREENSHOT_DIR, "fleet-1280x900.png"));
    await page.setViewport({ ...DESKTOP, colorScheme: "light" });
    await page.screenshot(join(SCREENSHOT_DIR, "fleet-1280x900-light.png"));
    const rows = await rowsOf(page);
    expect(rows.map((r) => r.node).sort()).toEqual([...ALL_NODES].sort());
    // Failing first: no failing row after a row that is not failing.
    const states = rows.map((r) => r.state);
    expect(states[0]).toMatch(/failing/);
    expect(states.findIndex((s) => !s.includes("failing"))).toBe(states.filter((s) => s.includes("failing")).length);
    // The real agent on a host without a gateway.
    const real = rows.find((r) => r.node === REAL_NODE)!;
    expect(real).toMatchObject({ layer: "gateway", code: "not_running" });
    expect(real.state).toContain("failing");
    expect(real.action).toContain("Start the gateway (openclaw gateway start for the service");
    expect(real.age).toMatch(/^\d+s ago$/);
    expect(rows.find((r) => r.node === TUNNEL_NODE)).toMatchObject({ layer: "tunnel", code: "tailscale_needs_login", action: expect.stringContaining("tailscale up") });
    // The laptop that went silent says so, and what to do, instead of its stale last report.
    expect(rows.find((r) => r.node === SLEEPY_NODE)).toMatchObject({ state: expect.stringContaining("asleep"), code: "silent_asleep", action: expect.stringContaining("disable sleep") });
    expect(rows.find((r) => r.node === "mini-01")).toMatchObject({ state: expect.stringContaining("healthy"), action: expect.stringContaining("Nothing to do") });
    // Counts by state and by layer, each a link that filters.
    const tiles = await page.evaluate<Record<string, string>>(`Object.fromEntries([...document.querySelectorAll(".tiles a")].map((a) => [a.getAttribute("href"), a.innerText.replace(/\\s+/g, " ").trim()]))`);
    expect(tiles["/?state=failing"]).toBe("2 ✖ failing");
    expect(tiles["/?state=asleep"]).toBe("1 ☾ asleep");
    expect(tiles["/?layer=tunnel"]).toBe("1 tunnel fail");
    expect(await page.evaluate("document.title")).toBe("2 failing · clawfleet");
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(1280);
    expect(problemsIn(page)).toEqual([]);
  });

  it("says what `collector query nodes` says about every node: one headline (layer, code, action), silent nodes included", async () => {
    const page = await open("/", DESKTOP);
    const rows = await rowsOf(page);
    const cli = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", world.collector.grpcAddress, "--json"]);
    const nodes = (JSON.parse(cli.stdout) as { nodes: { id: string; state: string; primary: { layer: string; code: string; action: string } | null }[] }).nodes;
    expect(nodes.map((n) => n.id).sort()).toEqual(rows.map((r) => r.node).sort());
    const plain = (text: string) => text.replace(/`/g, "").replace(/\s+/g, " ").trim();
    for (const node of nodes) {
      const row = rows.find((r) => r.node === node.id)!;
      expect(row.state, node.id).toContain(node.state);
      expect(row.code || "–", node.id).toBe(node.primary?.code || "–");
      if (node.primary?.code) {
        expect(row.layer, node.id).toBe(node.primary.layer);
        expect(plain(row.action), node.id).toContain(plain(node.primary.action));
      }
    }
    // The case that disagreed: a node gone silent leads with its silence in both, not with its stale last report.
    expect(nodes.find((n) => n.id === SLEEPY_NODE)!.primary).toMatchObject({ layer: "power", code: "silent_asleep" });
    const table = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", world.collector.grpcAddress, "--node", SLEEPY_NODE]);
    expect(table.stdout).toMatch(new RegExp(`${SLEEPY_NODE}\\s+asleep\\s+power\\s+silent_asleep`));
  });

  it("shows a hostile agent's <script> and <img onerror> as text and runs none of it", async () => {
    let node: Page | undefined;
    for (const path of ["/", `/node/${HOSTILE_NODE}`, `/?code=multiple_binaries`]) {
      const page = await open(path, DESKTOP);
      if (path.startsWith("/node/")) node = page;
      const seen = await page.evaluate<{ pwned: unknown; scripts: string[]; imgs: number; handlers: number; autofocus: number; text: string }>(`({
        pwned: window.__clawfleetPwned ?? null,
        scripts: [...document.scripts].map((s) => s.getAttribute("src") ?? "inline"),
        imgs: document.images.length,
        handlers: [...document.querySelectorAll("*")].filter((el) => [...el.attributes].some((a) => a.name.startsWith("on"))).length,
        autofocus: document.querySelectorAll("[autofocus]").length,
        text: document.body.innerText,
      })`);
      expect(seen.pwned, path).toBeNull();
      expect(seen.scripts, path).toEqual([expect.stringMatching(/^\/app\.js\?v=[0-9a-f]+$/)]);
      expect(seen.imgs, path).toBe(0);
      expect(seen.handlers, path).toBe(0);
      expect(seen.autofocus, path).toBe(0);
      // The payload is there, character for character, as text.
      expect(seen.text, path).toContain(SCRIPT_PAYLOAD);
      expect(seen.text, path).toContain(IMG_PAYLOAD);
      expect(problemsIn(page), path).toEqual([]);
    }
    // In the hello (platform), in the finding's summary, action and evidence.
    const texts = await node!.evaluate<string[]>(`[...document.querySelectorAll(".facts dd, .findings li div, .evidence dd")].map((el) => el.textContent ?? "")`);
    expect(texts.filter((t) => t.includes(HOSTILE)).length).toBeGreaterThanOrEqual(4);
    // Evidence under a secret-sounding key that is not a fingerprint is withheld.
    const body = await node!.evaluate<string>("document.body.innerText");
    expect(body).not.toContain("plain-secret-value-123");
    expect(body).toMatch(/gatewayToken\s+\(withheld: not a fingerprint\)/);
  });

  it("fits a 375 px phone without horizontal scrolling, on the fleet and the node pages (375x812)", async () => {
    const opened = new Map<string, Page>();
    for (const path of ["/", `/node/${REAL_NODE}`, `/node/${HOSTILE_NODE}`, `/node/${CREDENTIAL_NODE}`, `/node/${SLEEPY_NODE}`, `/node/${FLAPPING_NODE}`]) {
      const page = await open(path, PHONE);
      opened.set(path, page);
      if (path === "/") await page.screenshot(join(SCREENSHOT_DIR, "fleet-375x812.png"));
      if (path === `/node/${REAL_NODE}`) await page.screenshot(join(SCREENSHOT_DIR, "node-375x812.png"));
      if (path === `/node/${FLAPPING_NODE}`) await page.screenshot(join(SCREENSHOT_DIR, "node-history-375x812.png"));
      const width = await page.evaluate<{ scroll: number; inner: number }>("({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })");
      expect(width.inner, path).toBe(375);
      expect(width.scroll, path).toBeLessThanOrEqual(375);
      // Every history strip scales into the screen, and is still wide enough to read.
      const strips = await page.evaluate<{ left: number; right: number; height: number }[]>(`[...document.querySelectorAll("svg.strip")].map((s) => { const r = s.getBoundingClientRect(); return { left: r.left, right: r.right, height: r.height }; })`);
      expect(strips.length, path).toBeGreaterThan(0);
      for (const strip of strips) {
        expect(strip.left, path).toBeGreaterThanOrEqual(0);
        expect(strip.right, path).toBeLessThanOrEqual(375);
        expect(strip.right - strip.left, path).toBeGreaterThanOrEqual(300);
        expect(strip.height, path).toBeGreaterThanOrEqual(12);
      }
      expect(problemsIn(page), path).toEqual([]);
    }
    const fleet = opened.get("/")!;
    // The first phone screen shows the failing node and the start of its action, not just counts and filters.
    const first = await fleet.evaluate<{ node: string; actionTop: number }>(`(() => {
      const row = document.querySelector("table.nodes tbody tr");
      return { node: row.querySelector("td.node a").textContent, actionTop: row.querySelector("td.action .do").getBoundingClientRect().top };
    })()`);
    expect(first.node).toBe(REAL_NODE);
    expect(first.actionTop).toBeLessThan(812);
    await fleet.setViewport({ ...PHONE, colorScheme: "light" });
    await fleet.screenshot(join(SCREENSHOT_DIR, "fleet-375x812-light.png"));
  });

  it("shows a node's findings, events, sleep history and credential fingerprints, never the secret", async () => {
    const real = await open(`/node/${REAL_NODE}`, DESKTOP);
    await real.screenshot(join(SCREENSHOT_DIR, "node-1280x900.png"));
    const sections = await real.evaluate<{ h2: string[]; findings: string[] }>(`({
      h2: [...document.querySelectorAll("main section > h2")].map((h) => h.innerText),
      findings: [...document.querySelectorAll("#findings > ul.findings > li")].map((li) => li.innerText),
    })`);
    expect(sections.h2.map((h) => h.replace(/\s*\(.*\)$/, ""))).toEqual(["Active findings", "Last 24 hours", "Recent events", "Sleep and wake", "Credentials"]);
    expect(await innerText(real, ".findings.next")).toMatch(/Do this first: gateway \/ not_running[\s\S]*Start the gateway/);
    expect(sections.findings.some((f) => f.includes("not_running") && f.includes("No gateway process is running"))).toBe(true);
    expect(await innerText(real, "#events table")).toMatch(/finding raised\s+gateway \/ not_running/);

    const runner = await open(`/node/${CREDENTIAL_NODE}`, DESKTOP);
    const credentials = await runner.evaluate<string[][]>(`[...document.querySelectorAll("#credentials tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))`);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]![0]).toMatch(/^hmac:[0-9a-f]{16}$/);
    expect(credentials[0]!.slice(1, 3)).toEqual(["gateway token", "config gateway.auth.token"]);
    expect(await runner.evaluate<string>("document.documentElement.outerHTML")).not.toContain(CREDENTIAL_SECRET);

    const sleepy = await open(`/node/${SLEEPY_NODE}`, DESKTOP);
    const sleep = await innerText(sleepy, "#sleep");
    expect(sleep).toMatch(/May sleep\s+yes/);
    expect(sleep).toMatch(/still silent\s+\S+\s+asleep/);
  });

  it("draws each node's last 24 h from the event log: the laptop's night asleep with sleep and wake marked, the hourly flap, the hour off the network", async () => {
    const page = await open("/", DESKTOP);
    const strips = await stripsOf(page);
    const now = world.historyNowMs;
    // Bars are coloured by the stylesheet's classes (the CSP allows no inline style), so the fill is the state's, not SVG's black.
    const fills = new Map(Object.values(strips).flatMap((s) => s?.segments ?? []).map((g) => [g.state, g.fill]));
    expect(new Set(fills.values()).size).toBe(fills.size);
    expect([...fills.values()]).not.toContain("rgb(0, 0, 0)");

    const laptop = strips[SLEEPY_NODE]!;
    const night = laptop.segments.find((g) => g.state === "asleep" && g.from === now - SLEPT_HOURS_AGO.from * H)!;
    expect(night).toMatchObject({ to: now - SLEPT_HOURS_AGO.to * H, title: expect.stringMatching(/^asleep from \d{4}-\d\d-\d\d \d\d:\d\d UTC until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(7h\)$/) });
    expect(laptop.marks.filter((m) => m.at === night.from || m.at === night.to).map((m) => m.kind)).toEqual(["sleep", "wake"]);
    expect(laptop.marks[0]!.title).toMatch(/^went to sleep at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    // Healthy either side of the night, and asleep now (it dropped its stream during the test), until now.
    expect(laptop.segments.find((g) => g.to === night.from)!.state).toBe("healthy");
    expect(laptop.segments.at(-1)).toMatchObject({ state: "asleep", title: expect.stringContaining("until now") });
    expect(laptop.label).toMatch(new RegExp(`^${SLEEPY_NODE}, last 24h: .*asleep 7h.*; went to sleep \\d+×, woke \\d+×$`));

    const flapping = strips[FLAPPING_NODE]!;
    const failures = flapping.segments.filter((g) => g.state === "failing");
    expect(failures).toHaveLength(FLAPS);
    expect(failures.map((g) => (g.to - g.from) / 60_000)).toEqual(Array(FLAPS).fill(10));
    expect(failures.map((g) => Math.round((now - g.from) / H))).toEqual(Array.from({ length: FLAPS }, (_, i) => FLAPS - i));

    const tunnel = strips[TUNNEL_NODE]!;
    expect(tunnel.segments.find((g) => g.state === "unreachable" && g.from === now - UNREACHABLE_HOURS_AGO.from * H)).toMatchObject({ to: now - UNREACHABLE_HOURS_AGO.to * H });
    expect(tunnel.segments.find((g) => g.to === now - UNREACHABLE_HOURS_AGO.from * H)!.state).toBe("degraded");
    expect(tunnel.segments.at(-1)!.state).toBe("failing");

    // The real agent came up during the test: nothing is known before, and it fails since its first report.
    const real = strips[REAL_NODE]!;
    expect(real.segments[0]).toMatchObject({ state: "unknown", title: expect.stringMatching(/^no data from /) });
    expect(real.segments.at(-1)!.state).toBe("failing");
    expect((await innerText(page, ".tl-legend")).replace(/\s+/g, " ")).toBe("Last 24 h, oldest on the left: failing unreachable degraded healthy asleep no data ▼ went to sleep ▲ woke");
    expect(problemsIn(page)).toEqual([]);
  });

  it("shows a node's findings raised and cleared, one lane per code, and its credential rotation, over 24 h", async () => {
    const page = await open(`/node/${FLAPPING_NODE}`, DESKTOP);
    await page.screenshot(join(SCREENSHOT_DIR, "node-history-1280x900.png"));
    const lanes = await page.evaluate<Record<string, { label: string; titles: string[] }>>(`Object.fromEntries([...document.querySelectorAll("#history .lane[data-lane]")].map((lane) => [lane.dataset.lane, {
      label: lane.querySelector("svg").getAttribute("aria-label"),
      titles: [...lane.querySelectorAll("svg > rect:not(.lane-track) > title, svg > polygon > title")].map((t) => t.textContent),
    }]))`);
    expect(Object.keys(lanes)).toEqual(["state", "session/token_mismatch", "credentials"]);
    const mismatch = lanes["session/token_mismatch"]!;
    expect(mismatch.titles).toHaveLength(FLAPS);
    expect(mismatch.titles[0]).toMatch(/^session\/token_mismatch \(fail\): raised \d{4}-\d\d-\d\d \d\d:\d\d UTC, cleared \d{4}-\d\d-\d\d \d\d:\d\d UTC \(10m\)$/);
    expect(lanes.credentials!.label).toBe("credentials: 1 rotation, 0 other changes in the last 24 h");
    expect(lanes.credentials!.titles).toEqual([expect.stringMatching(/^gateway token rotated at .* UTC \(config gateway\.auth\.token\): changed from hmac:[0-9a-f]{16} to hmac:[0-9a-f]{16}$/)]);
    // Placed by time: x is the share of the 24 h, in percent.
    const rotation = await page.evaluate<string>(`document.querySelector("#history [data-change=rotated]").getAttribute("x")`);
    expect(rotation).toMatch(/^[\d.]+%$/);
    expect(Math.abs(parseFloat(rotation) - 100 * (1 - ROTATED_HOURS_AGO / 24))).toBeLessThan(0.2);
    const markup = await page.evaluate<string>("document.documentElement.outerHTML");
    expect(markup).not.toContain(FLAPPING_TOKEN.old);
    expect(markup).not.toContain(FLAPPING_TOKEN.current);
    expect(await innerText(page, "#history .axis")).toMatch(/24 h ago\s+18 h ago\s+12 h ago\s+6 h ago\s+now/);
    expect(problemsIn(page)).toEqual([]);
  });

  it("takes its filters from the query string, so a link reproduces the view", async () => {
    const page = await open("/?layer=tunnel&state=failing", DESKTOP);
    expect((await rowsOf(page)).map((r) => r.node)).toEqual([TUNNEL_NODE]);
    const form = await page.evaluate<Record<string, string>>(`Object.fromEntries(new FormData(document.querySelector("form.filters")))`);
    expect(form).toMatchObject({ state: "failing", layer: "tunnel", code: "", node: "" });
    expect(await innerText(page, ".showing")).toBe(`Showing 1 of ${ALL_NODES.length}: state failing, layer tunnel. Show all`);

    const glob = await open("/?node=mini-0*", DESKTOP);
    expect((await rowsOf(glob)).map((r) => r.node)).toEqual(HEALTHY_NODES.filter((n) => n.startsWith("mini-0")));

    const bogus = await open("/?layer=%3Cscript%3E", DESKTOP);
    expect(await innerText(bogus, ".notice")).toBe('Ignored unknown filter layer "<script>": showing results without it.');
    expect((await rowsOf(bogus)).length).toBe(ALL_NODES.length);
  });

  it("works without JavaScript: the whole list is in the HTML", async () => {
    const page = await open("/", { ...PHONE, javaScript: false });
    expect((await rowsOf(page))[0]).toMatchObject({ node: REAL_NODE, code: "not_running" });
    expect(await innerText(page, "#refresh-status")).toContain("reload to update");
  });

  it("refreshes in place: new state appears, scroll position and filters stay", async () => {
    const page = await open("/?node=mini-*&refresh=2", PHONE);
    await page.evaluate("window.__sameDocument = true");
    const before = await rowsOf(page);
    expect(before.map((r) => r.node)).toContain("mini-07");
    expect(before.find((r) => r.node === "mini-07")!.state).toContain("healthy");
    const scrolled = await page.evaluate<number>("window.scrollTo(0, 700), window.scrollY");
    expect(scrolled).toBe(700);

    // mini-07's gateway starts rejecting its token: the page must show it without a reload.
    world.agents.get("mini-07")!.report([...healthyFindings().filter((f) => f.layer !== "session"), problem("session", "token_mismatch", "Gateway rejects the client's token.", { fingerprint: "sha256:0123456789ab", source: "env OPENCLAW_GATEWAY_TOKEN" })]);
    await page.waitFor("[...document.querySelectorAll('tr[data-node=\"mini-07\"]')].some((tr) => tr.dataset.state === 'failing')", 15_000);

    const after = await page.evaluate<{ same: boolean; scrollY: number; search: string; node: string; navigations: number }>(`({
      same: window.__sameDocument === true,
      scrollY: window.scrollY,
      search: location.search,
      node: document.querySelector("form.filters input[name=node]").value,
      navigations: performance.getEntriesByType("navigation").length,
    })`);
    expect(after).toEqual({ same: true, scrollY: 700, search: "?node=mini-*&refresh=2", node: "mini-*", navigations: 1 });
    const rows = await rowsOf(page);
    // Failing first, then by layer in dependency order: gateway, session, tunnel.
    expect(rows.slice(0, 3).map((r) => r.node)).toEqual([REAL_NODE, "mini-07", TUNNEL_NODE]);
    expect(rows[1]).toMatchObject({ layer: "session", code: "token_mismatch", action: expect.stringContaining("is not the one the gateway loaded") });
    expect(rows.every((r) => r.node.startsWith("mini-"))).toBe(true);
    expect(await innerText(page, "#refresh-status")).toMatch(/^live · updated \d/);
    expect(problemsIn(page)).toEqual([]);
    world.agents.get("mini-07")!.report(healthyFindings());
  }, 30_000);

  it("says so, in the header and the title, when the collector stops answering (last: it stops the collector)", async () => {
    const page = await open("/?refresh=2", DESKTOP);
    await page.waitFor("document.getElementById('refresh-status').textContent.startsWith('live')");
    // An open tab that refreshes holds keep-alive connections: the collector must still stop at once.
    const stopping = Date.now();
    expect(await world.collector.process.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5000);
    await page.waitFor("document.getElementById('refresh-status').className === 'stale'", 10_000);
    expect(await innerText(page, "#refresh-status")).toMatch(/^NOT UPDATING: data from \d/);
    expect(await page.evaluate<string>("document.title")).toMatch(/^\(stale\) /);
    // The last good data stays on screen.
    expect((await rowsOf(page)).length).toBe(ALL_NODES.length);
  }, 20_000);
});
