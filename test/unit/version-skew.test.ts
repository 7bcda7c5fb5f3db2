import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { versionLine, versionSkew } from "../../collector/query/nodes-command.ts";
import { NodeSummarySchema } from "../../shared/gen/clawfleet/v1/query_pb.ts";

const node = (nodeId: string, openclawVersion: string, agentVersion = "0.1.0") => create(NodeSummarySchema, { node: { nodeId, openclawVersion, agentVersion } });

describe("version skew across the fleet", () => {
  it("counts versions per component and names the skew, most common first", () => {
    const versions = versionSkew([node("a", "2026.9.6"), node("b", "2026.9.6"), node("c", "2026.8.1"), node("d", "")]);
    expect(versions).toEqual({ openclaw: { "2026.9.6": 2, "2026.8.1": 1 }, agent: { "0.1.0": 4 } });
    expect(versionLine(versions)).toBe("\nVersion skew: openclaw 2026.9.6 ×2, 2026.8.1 ×1\n");
  });

  it("says nothing when the fleet runs one version", () => {
    expect(versionLine(versionSkew([node("a", "2026.9.6"), node("b", "2026.9.6")]))).toBe("");
  });
});
