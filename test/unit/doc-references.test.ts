// Nothing in the repo may point at a document that is not in it: every
// Markdown link in a tracked document, and every repo path a document, comment
// or generated file names (docs/…, deploy/…, test/… and the other top-level
// folders), must exist in the checkout. A newcomer following a reference must
// land on something.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/processes.ts";

const TEXT = /\.(md|ts|js|yml|yaml|json|proto|plist|service|sh)$/;
const TOP_LEVEL = ["agent", "bench", "bin", "cli", "collector", "deploy", "docs", "proto", "scripts", "shared", "test", ".ci"];
/** A repo path as prose and comments write it: a top-level folder, then path segments, ending in a file extension. */
const REPO_PATH = new RegExp(`(?<![\\w./-])(?:\\.\\./)*((?:${TOP_LEVEL.map((d) => d.replace(".", "\\.")).join("|")})/[\\w.-]+(?:/[\\w.-]+)*\\.(?:md|ts|yml|yaml|json|proto|plist|service|png|binpb|sh))(?![\\w-]|\\.\\w)`, "g");
/** Markdown link targets, relative ones only (not URLs, not anchors). */
const MD_LINK = /\]\((?!https?:|mailto:|#)([^)\s#]+)(?:#[^)]*)?\)/g;

function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && TEXT.test(f) && !f.startsWith("shared/gen/") && !f.includes("package-lock") && !f.startsWith("test/fixtures/"));
}

/** Paths that name a file the code creates at run time or a placeholder, not a document in the repo. */
const NOT_DOCUMENTS = [/\*/, /^test\/openclaw\/node_modules\//, /<[^>]*>/, /\bNAME\b|\bNODE\b|\bX\b/];

/** A path git ignores is an output the code writes when it runs (bench/results/…), not a document to ship. */
function producedAtRunTime(path: string): boolean {
  try {
    execFileSync("git", ["check-ignore", "-q", "--no-index", path], { cwd: REPO_ROOT });
    return true;
  } catch {
    return false;
  }
}

describe("references to documents", () => {
  const files = trackedFiles();

  it("scans the repo's documents, code comments and generated files", () => {
    expect(files.length).toBeGreaterThan(200);
    expect(files).toContain("README.md");
    expect(files).toContain("docs/architecture.md");
  });

  it("every Markdown link in a document resolves to a file in the repo", () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => f.endsWith(".md"))) {
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      for (const [, target] of text.matchAll(MD_LINK)) {
        const path = normalize(join(dirname(file), decodeURIComponent(target!)));
        if (!existsSync(join(REPO_ROOT, path))) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every repo path named anywhere exists, and nothing points outside the repo", () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      for (const match of text.matchAll(REPO_PATH)) {
        const path = match[1]!;
        if (NOT_DOCUMENTS.some((p) => p.test(path))) continue;
        if (match[0].startsWith("../") && !existsSync(join(REPO_ROOT, dirname(file), match[0]))) {
          broken.push(`${file}: ${match[0]} (outside or missing)`);
          continue;
        }
        if (!existsSync(join(REPO_ROOT, path)) && !producedAtRunTime(path)) broken.push(`${file}: ${path}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
