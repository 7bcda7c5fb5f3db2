// The committed JSON Schema of clawfleet.check.v1 against what the real
// `clawfleet agent check --json` prints: a healthy real gateway, the same
// gateway refusing the client's token, and no gateway at all. And the schema
// rejects what the contract excludes (unknown codes, missing fields).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK_SCHEMA_PATH } from "../../deploy/generate/check-schema.ts";
import { noGateway } from "../helpers/no-gateway.ts";
import { createGateway, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll, type CheckDocument } from "../helpers/processes.ts";

const TOKEN = "cf-schema-token-7d3f1a9c5e2b4d6f";
const WRONG_TOKEN = "cf-schema-wrong-token-1b3d5f7a9c2e";

const schema = JSON.parse(readFileSync(join(REPO_ROOT, CHECK_SCHEMA_PATH), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

function expectValid(doc: unknown): void {
  const valid = validate(doc);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  expect(valid).toBe(true);
}

describe("the clawfleet.check.v1 JSON Schema", () => {
  let gateway: TestGateway;
  let emptyHome: string;
  const docs: CheckDocument[] = [];
  const check = async (env: NodeJS.ProcessEnv) => {
    const { doc } = await agentCheckJson({ PATH: `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`, ...env });
    docs.push(doc);
    return doc;
  };

  beforeAll(async () => {
    emptyHome = mkdtempSync(join(tmpdir(), "clawfleet-schema-"));
    gateway = await createGateway({ token: TOKEN, config: { gateway: { mode: "local" } } });
  });
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(emptyHome, { recursive: true, force: true });
  });

  it("validates the document of a healthy gateway", async () => {
    const doc = await check(gateway.clientEnv());
    expect(doc.verdict).toBe("ok");
    expect(doc.primary).toBeNull();
    expect(doc.credentials.length).toBeGreaterThan(0);
    expectValid(doc);
  });

  it("validates the document of a gateway refusing the client's token (a primary, problem codes)", async () => {
    const doc = await check(gateway.clientEnv(WRONG_TOKEN));
    expect(doc.verdict).toBe("fail");
    expect(doc.primary).toMatchObject({ layer: "session", code: "token_mismatch" });
    expectValid(doc);
  });

  it("validates the document of a host with no gateway", async () => {
    const doc = await check(await noGateway(emptyHome));
    expect(doc.verdict).toBe("fail");
    expect(doc.primary).toMatchObject({ layer: "gateway", code: "not_running" });
    expectValid(doc);
  });

  it("rejects a document with an unknown code, a missing field, an unknown layer or status, or an extra field", () => {
    expect(docs.length).toBe(3);
    const broken = docs.find((d) => d.primary)!;
    const mutated = (change: (doc: any) => void) => {
      const copy = structuredClone(broken);
      change(copy);
      return copy;
    };
    const cases = {
      "unknown finding code": mutated((d) => (d.findings.find((f: any) => f.code).code = "token_mismtach")),
      "unknown primary code": mutated((d) => (d.primary.code = "not_a_code")),
      "unknown depends_on": mutated((d) => (d.findings[0].depends_on = "layer:gateway")),
      "missing duration_ms": mutated((d) => delete d.duration_ms),
      "missing finding summary": mutated((d) => delete d.findings[0].summary),
      "missing node id": mutated((d) => delete d.node.id),
      "unknown layer": mutated((d) => (d.findings[0].layer = "network")),
      "unknown status": mutated((d) => (d.findings[0].status = "failed")),
      "unknown verdict": mutated((d) => (d.verdict = "critical")),
      "evidence that is not text": mutated((d) => (d.findings[0].evidence = { port: 18789 })),
      "a credential's secret instead of its fingerprint": mutated((d) => d.credentials.push({ kind: "gateway_token", source: "env", fingerprint: TOKEN, subject: "gateway" })),
      "a field the contract does not have": mutated((d) => (d.findings[0].secret = TOKEN)),
      "another schema": mutated((d) => (d.schema = "clawfleet.check.v2")),
    };
    for (const [name, doc] of Object.entries(cases)) {
      expect(validate(doc), name).toBe(false);
    }
    expectValid(broken);
  });
});
