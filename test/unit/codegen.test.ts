// Generated code is committed (so running clawfleet needs no codegen); this
// proves it is what `npm run generate` makes from the .proto files today, and
// that the schema passes buf lint. buf runs offline from node_modules.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/processes.ts";

const BUF = join(REPO_ROOT, "node_modules", ".bin", "buf");
const env = { ...process.env, PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH}` };

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  }
  return out;
}

describe("protobuf codegen", () => {
  it("committed shared/gen matches a fresh buf generate", () => {
    const out = mkdtempSync(join(tmpdir(), "clawfleet-gen-"));
    try {
      const template = readFileSync(join(REPO_ROOT, "buf.gen.yaml"), "utf8").replace("out: shared/gen", `out: ${out}`);
      const templatePath = join(out, "..", `${out.split("/").pop()}.gen.yaml`);
      writeFileSync(templatePath, template);
      execFileSync(BUF, ["generate", "--template", templatePath], { cwd: REPO_ROOT, env, stdio: "pipe" });
      rmSync(templatePath);
      const fresh = files(out);
      const committed = files(join(REPO_ROOT, "shared", "gen"));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [path, text] of fresh) expect(committed.get(path), `${path} is stale: run npm run generate`).toBe(text);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("passes buf lint", () => {
    expect(() => execFileSync(BUF, ["lint"], { cwd: REPO_ROOT, env, stdio: "pipe" })).not.toThrow();
  });

  // proto/released.binpb is the schema agents in the field speak; refresh it
  // (`buf build -o proto/released.binpb`) only when releasing.
  it("makes no breaking change against the released schema (buf breaking)", () => {
    expect(() => execFileSync(BUF, ["breaking", "--against", "proto/released.binpb"], { cwd: REPO_ROOT, env, stdio: "pipe" })).not.toThrow();
  });
});
