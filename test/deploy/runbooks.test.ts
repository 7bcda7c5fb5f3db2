// The runbooks the rules link to: one per alert, a section per code the alert
// covers, every runbook_url and every link between runbooks landing on a
// heading that exists (GitHub's anchor for a heading), escalation named after
// the Alertmanager receiver that gets the alert.
import { describe, expect, it } from "vitest";
import { ALERTS } from "../../deploy/generate/alert-catalog.ts";
import { alertRuleGroups, codesOf } from "../../deploy/generate/alert-rules.ts";
import { generatedFiles } from "../../deploy/generate/outputs.ts";
import { isCredentialCode } from "../../deploy/generate/runbooks.ts";
import { CODES, renderAction } from "../../shared/taxonomy.ts";

const files = new Map(generatedFiles().map((f) => [f.path, f.content]));

/** GitHub's anchor for a Markdown heading: lower case, punctuation other than - and _ dropped, spaces as -. */
function anchors(markdown: string): Set<string> {
  const headings = [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map(([, text]) => text!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-"));
  return new Set(headings);
}

/** A link `path#anchor` (relative to `from`'s directory, or absolute from the repository root) as [file, anchor]. */
function resolve(from: string, link: string): [string, string] {
  const [file, anchor = ""] = link.split("#");
  const dir = from.slice(0, from.lastIndexOf("/") + 1);
  return [file === "" ? from : file!.startsWith("docs/") ? file! : dir + file, anchor];
}

describe("runbooks", () => {
  it("exist for every alert, with the alert's about, for: and a section per code with its title and generic action", () => {
    for (const alert of ALERTS) {
      const runbook = files.get(`docs/runbooks/${alert.name}.md`);
      expect(runbook, alert.name).toBeDefined();
      expect(runbook).toContain(alert.about);
      expect(runbook).toMatch(/^- `for:` \d+[smh]$/m);
      expect(runbook).toContain("clawfleet collector query node NODE");
      expect(runbook).toContain("clawfleet agent check --verbose");
      // The runbook's "freeze the state first", before any change.
      expect(runbook).toContain("clawfleet agent check --ticket > ticket.md");
      const credential = codesOf(alert).some(isCredentialCode);
      expect(runbook!.includes("clawfleet collector query tokens --ticket"), alert.name).toBe(credential);
      for (const code of codesOf(alert)) {
        expect(runbook).toContain(`### ${code}\n\n**${CODES[code].title}.**`);
        expect(runbook).toContain(`Action: ${renderAction(code, {})}`);
      }
    }
  });

  it("give every rule a runbook_url landing on its code's section", () => {
    const rules = alertRuleGroups().groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(40);
    for (const rule of rules) {
      expect(rule.annotations.runbook_url).toBe(`docs/runbooks/${rule.alert}.md#${rule.labels.code}`);
      const [file, anchor] = resolve("", rule.annotations.runbook_url);
      expect(anchors(files.get(file)!), rule.annotations.runbook_url).toContain(anchor);
    }
  });

  it("link only to runbooks and sections that exist", () => {
    let links = 0;
    for (const [path, content] of files) {
      if (!path.startsWith("docs/runbooks/")) continue;
      for (const [, link] of content.matchAll(/\]\(([^)]+)\)/g)) {
        const [file, anchor] = resolve(path, link!);
        expect(files.has(file), `${path} links to ${link}`).toBe(true);
        if (anchor) expect(anchors(files.get(file)!), `${path} links to ${link}`).toContain(anchor);
        links++;
      }
    }
    expect(links).toBeGreaterThan(50);
  });

  it("name a cause to fix first for every code that depends on one", () => {
    const drift = files.get("docs/runbooks/ClawfleetDrift.md")!;
    const section = drift.slice(drift.indexOf("### config_invalid"), drift.indexOf("### config_not_applied"));
    expect(section).toContain("fix it first");
    expect(section).toContain("[`openclaw_downgraded`](ClawfleetGatewayDown.md#openclaw_downgraded)");
    expect(section).toContain("[`config_refused`](ClawfleetGatewayDown.md#config_refused)");
    const session = files.get("docs/runbooks/ClawfleetSessionAuthFailing.md")!;
    expect(session).toContain("- the gateway layer failing ([ClawfleetGatewayDown](ClawfleetGatewayDown.md))");
  });

  it("escalate to the receiver Alertmanager routes the alert to, and say which codes page", () => {
    const escalation = (alert: string) => files.get(`docs/runbooks/${alert}.md`)!.split("## When to escalate")[1]!;
    expect(escalation("ClawfleetGatewayDown")).toContain("receiver `gateway-owners`");
    expect(escalation("ClawfleetTunnelDown")).toContain("receiver `network-owners`");
    expect(escalation("ClawfleetNodeUnreachable")).toContain("receiver `fleet-oncall`");
    expect(escalation("ClawfleetDrift")).toContain("receiver `tickets`");
    expect(escalation("ClawfleetDrift")).toMatch(/^A ticket: no one is woken/m);
    expect(escalation("ClawfleetSessionAuthFailing")).toMatch(/Pages for `token_missing`.*Tickets \(no one is woken\) for `rate_limited`/);
    expect(escalation("ClawfleetGatewayDown")).toContain("If it still fires 2m (its `for:`) after the action was applied");
  });

  it("put a base URL in front of every runbook_url, in the rules and in the promtool expectations alike", () => {
    const base = "https://git.example.invalid/fleet/clawfleet/blob/main/";
    const rebased = new Map(generatedFiles({ runbookBaseUrl: base.slice(0, -1) }).map((f) => [f.path, f.content]));
    for (const path of ["deploy/prometheus/clawfleet-alerts.rules.yml", "deploy/prometheus/tests/codes.test.yml", "deploy/prometheus/tests/behaviour.test.yml"]) {
      const urls = [...rebased.get(path)!.matchAll(/runbook_url: '?([^'\n]+)/g)].map(([, url]) => url!);
      expect(urls.length, path).toBeGreaterThan(5);
      for (const url of urls) expect(url).toMatch(new RegExp(`^${base.replaceAll(".", "\\.")}docs/runbooks/Clawfleet\\w+\\.md#[a-z_]+$`));
      expect(rebased.get(path)!.replaceAll(base, "")).toBe(files.get(path));
    }
    expect(files.get("docs/runbooks/README.md")).toContain("--runbook-base-url");
  });
});
