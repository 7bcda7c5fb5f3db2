// `--collector` as operators write it: one address, a list, or srv:NAME; every
// mistake is a usage error that names the flag and the entry.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../shared/cli.ts";
import { MAX_COLLECTORS, parseCollectorSpec } from "../../shared/collector-list.ts";

const parse = (value: string) => parseCollectorSpec("collector", value);
const refused = (value: string): string => {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`"${value}" was accepted`);
};

describe("--collector list", () => {
  it("takes one address, a list (spaces around commas allowed), IPv6 in brackets, and one srv:NAME", () => {
    expect(parse("127.0.0.1:4317")).toEqual({ kind: "list", text: "127.0.0.1:4317", addresses: ["127.0.0.1:4317"] });
    expect(parse("a.ts.net:4317, b.ts.net:4317,[fd7a::1]:4317")).toEqual({ kind: "list", text: "a.ts.net:4317,b.ts.net:4317,[fd7a::1]:4317", addresses: ["a.ts.net:4317", "b.ts.net:4317", "[fd7a::1]:4317"] });
    expect(parse("srv:_clawfleet._tcp.example.ts.net.")).toEqual({ kind: "srv", text: "srv:_clawfleet._tcp.example.ts.net.", name: "_clawfleet._tcp.example.ts.net" });
    expect(parse("SRV:_clawfleet._tcp.example.ts.net").kind).toBe("srv");
  });

  it("refuses bad entries, naming the flag and which entry", () => {
    expect(refused("a:4317,,b:4317")).toMatch(/^--collector: empty entry \(entry 2 of 3\)/);
    expect(refused("a:4317,b")).toMatch(/^--collector must be HOST:PORT .*got "b".*\(entry 2 of 2\)/);
    expect(refused("a:4317,b:99999")).toMatch(/^--collector must be HOST:PORT .*\(entry 2 of 2\)/);
    expect(refused("a:4317,a:4317")).toBe('--collector: "a:4317" is listed twice');
    expect(refused("a:4317,srv:_x._tcp.example")).toMatch(/^--collector: an SRV name cannot be mixed with addresses \(entry 2 of 2\)/);
    expect(refused("srv:_x._tcp.example,b:4317")).toMatch(/^--collector: an SRV name stands alone/);
    expect(refused("srv:")).toMatch(/^--collector: "" is not a DNS name/);
    expect(refused("srv:bad name.example")).toMatch(/is not a DNS name/);
    expect(refused(`srv:${"a".repeat(64)}.example`)).toMatch(/is not a DNS name/);
    expect(refused("")).toMatch(/^--collector: empty entry/);
  });

  it(`takes at most ${MAX_COLLECTORS} collectors`, () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `c${i}.example:4317`).join(",");
    expect(parse(list(MAX_COLLECTORS)).kind).toBe("list");
    expect(refused(list(MAX_COLLECTORS + 1))).toBe(`--collector: at most ${MAX_COLLECTORS} collectors, got ${MAX_COLLECTORS + 1}`);
  });
});
