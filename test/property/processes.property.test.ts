// Port-owner and process parsers: macOS `lsof -F` / `ps` output and Linux
// /proc (net/tcp, environ, cmdline, stat) on random text, mutated recordings,
// hostile files and ~1 MB inputs. They never throw, stay linear, and the
// address decoder agrees with the platform's own IPv6 canonical form.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsofFiles, parseLsofListeners, parsePsStart, parsePsTable } from "../../agent/platform/darwin-process.ts";
import { decodeAddress, listeningSockets, parseEnviron, procInfo } from "../../agent/platform/linux-procfs.ts";
import { parseSameUserProofLsof } from "../../agent/discovery/tailscale-localapi.ts";
import { expectWithinBudget, fixture, hugeFrom, hugeShapes, inputsFor, parsesOrFailsCleanly } from "./arbitraries.ts";

const lsofListen = fixture("macos-process/lsof-listen.txt");
const lsofOpen = fixture("macos-process/lsof-open.txt");
const psStart = fixture("macos-process/ps-lstart.txt");
const psTable = fixture("macos-process/ps-table.txt");
const netTcp = fixture("procfs/net-tcp.txt");
const netTcp6 = fixture("procfs/net-tcp6.txt");

const LSOF_WORDS = ["p812\n", "copenclaw-gateway\n", "f23\n", "ftxt\n", "n127.0.0.1:18789\n", "n[::1]:18789\n", "n*:18789\n", "n/usr/lib/x.node\n", "p", "n", ":", "[", "]", "\n"];
const PS_WORDS = ["Tue Nov 24 21:04:11 2026", "   501 ", "openclaw-gateway", " ", "\n", "  812   1 ", "node gateway"];
const TCP_WORDS = ["  sl  local_address rem_address   st\n", "   0: ", "0100007F:7075", "00000000000000000000000001000000:4965", " 00000000:0000 ", "0A", "01", " 00000000:00000000 00:00000000 00000000   501        0 ", "41001", " 1 000000003c8ca282 100 0 0 10 0\n", ":", "\n"];

describe("macOS lsof and ps parsers never throw", () => {
  it("`lsof -Fpcn` listeners and `lsof -Ffn` files", () =>
    fc.assert(
      fc.property(inputsFor(LSOF_WORDS, lsofListen, lsofOpen), (text) => {
        for (const l of parsesOrFailsCleanly(text, () => parseLsofListeners(text))!) expect(l.pid).toBeTruthy();
        const files = parsesOrFailsCleanly(text, () => parseLsofFiles(text))!;
        for (const p of files.paths) expect(p.startsWith("/")).toBe(true);
        parsesOrFailsCleanly(text, () => parseSameUserProofLsof(text));
      }),
      { numRuns: 300 },
    ));

  it("`ps -o lstart=,uid=,command=` and `ps -axo pid=,ppid=,command=`", () =>
    fc.assert(
      fc.property(inputsFor(PS_WORDS, psStart, psTable), (text) => {
        const start = parsesOrFailsCleanly(text, () => parsePsStart(text));
        if (start?.startedAtMs !== undefined) expect(Number.isFinite(start.startedAtMs)).toBe(true);
        for (const row of parsesOrFailsCleanly(text, () => parsePsTable(text))!) expect(Number.isNaN(row.pid)).toBe(false);
      }),
      { numRuns: 300 },
    ));

  const parsers: [string, (t: string) => unknown, string[], string[]][] = [
    ["parseLsofListeners", parseLsofListeners, LSOF_WORDS, [lsofListen]],
    ["parseLsofFiles", parseLsofFiles, LSOF_WORDS, [lsofOpen]],
    ["parsePsStart", parsePsStart, PS_WORDS, [psStart]],
    ["parsePsTable", parsePsTable, PS_WORDS, [psTable]],
    ["parseSameUserProofLsof", parseSameUserProofLsof, LSOF_WORDS, [lsofOpen]],
    ["parseEnviron", parseEnviron, ["A=1\0", "\0", "=", "PATH=/usr/bin"], []],
  ];
  for (const [name, parse, words, fixtures] of parsers) {
    it(`${name} stays linear on ~1 MB inputs`, () => {
      for (const huge of hugeShapes(...fixtures)) expectWithinBudget(name, huge, parse);
      fc.assert(fc.property(hugeFrom(words, ...fixtures), (huge) => void expectWithinBudget(name, huge, parse)), { numRuns: 6, endOnFailure: true });
    });
  }
});

describe("/proc/net/tcp address decoding", () => {
  const hexWord = (bytes: number[]) => Buffer.from(bytes).toString("hex").toUpperCase();

  it("any 4 bytes decode to their dotted IPv4 (host order, as the kernel writes them)", () =>
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }), (bytes) => {
        expect(decodeAddress(hexWord([...bytes].reverse()))).toBe(bytes.join("."));
      }),
    ));

  it("any 16 bytes decode to the canonical IPv6 text (WHATWG URL's), or dotted IPv4 when v4-mapped", () =>
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.nat({ max: 255 })), { minLength: 16, maxLength: 16 }), (bytes) => {
        // Four 32-bit words, each in host (little-endian) order.
        const hex = [0, 4, 8, 12].map((i) => hexWord(bytes.slice(i, i + 4).reverse())).join("");
        const decoded = decodeAddress(hex)!;
        const groups = [0, 2, 4, 6, 8, 10, 12, 14].map((i) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
        if (groups.slice(0, 5).every((g) => g === "0") && groups[5] === "ffff") expect(decoded).toBe(bytes.slice(12).join("."));
        else expect(decoded).toBe(new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 300 },
    ));

  it("anything else is not an address (undefined), never a crash", () =>
    fc.assert(fc.property(inputsFor(["0", "F", "7", ":", "0100007F"]), (hex) => void parsesOrFailsCleanly(hex, () => decodeAddress(hex))), { numRuns: 300 }));
});

describe("/proc read from disk", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "clawfleet-props-proc-"));
    mkdirSync(join(root, "net"), { recursive: true });
    mkdirSync(join(root, "4242"), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("listeningSockets never throws on mutated or hostile net/tcp and net/tcp6; what it returns is well-formed", async () => {
    await fc.assert(
      fc.asyncProperty(inputsFor(TCP_WORDS, netTcp, netTcp6), inputsFor(TCP_WORDS, netTcp6), fc.constantFrom(18789, 28789, 30325, 0), async (tcp, tcp6, port) => {
        writeFileSync(join(root, "net", "tcp"), tcp);
        writeFileSync(join(root, "net", "tcp6"), tcp6);
        const sockets = await listeningSockets(port, root);
        for (const s of sockets) {
          expect(s.port).toBe(port);
          expect(typeof s.address).toBe("string");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("procInfo never throws on hostile cmdline, environ, status and stat", async () => {
    const words = ["node\0", "gateway\0", "A=1\0", "\0", "=", "Uid:\t501\t501\n", "4242 (node) S 1 ", "(a) b) ", "9".repeat(30), " ", "NaN", "btime 1700000000\n"];
    await fc.assert(
      fc.asyncProperty(inputsFor(words), inputsFor(words), inputsFor(words), inputsFor(words), async (cmdline, environ, status, stat) => {
        writeFileSync(join(root, "4242", "cmdline"), cmdline);
        writeFileSync(join(root, "4242", "environ"), environ);
        writeFileSync(join(root, "4242", "status"), status);
        writeFileSync(join(root, "4242", "stat"), stat);
        writeFileSync(join(root, "stat"), `cpu 1 2 3\nbtime 1700000000\n`);
        const info = await procInfo(4242, root);
        if (info?.startedAtMs !== undefined) expect(Number.isFinite(info.startedAtMs)).toBe(true);
        if (info?.ppid !== undefined) expect(Number.isSafeInteger(info.ppid)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
