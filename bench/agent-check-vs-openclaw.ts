// `clawfleet agent check` against the peer an operator would otherwise run,
// `openclaw gateway status --json`, on one healthy real gateway in one run.
// Whole-process wall time, alternating A B A B so machine drift hits both.
//   npx node bench/agent-check-vs-openclaw.ts [runs]
import { spawnSync } from "node:child_process";
import { createGateway, OPENCLAW_ENTRY } from "../test/helpers/openclaw-gateway.ts";
import { baseEnv, CLAWFLEET_BIN } from "../test/helpers/processes.ts";

const runs = Number(process.argv[2] ?? 7);
const gateway = await createGateway({ token: "bench-token-3b8f1d0c9a7e5f2b" });
const env = { ...baseEnv(), ...gateway.clientEnv() };

function time(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env, cwd: gateway.home, encoding: "utf8" });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr.slice(-500)}`);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const clawfleet = [CLAWFLEET_BIN, "agent", "check", "--json"];
const openclaw = [OPENCLAW_ENTRY, "gateway", "status", "--json"];
try {
  time(clawfleet); // warm the file cache for both
  time(openclaw);
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(time(clawfleet));
    b.push(time(openclaw));
    ratios.push(a.at(-1)! / b.at(-1)!);
  }
  const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`runs: ${runs}, openclaw ${process.env.npm_package_devDependencies_openclaw ?? "(test/openclaw)"} gateway healthy on 127.0.0.1:${gateway.port}`);
  console.log(`clawfleet agent check --json     ${fmt(a)}`);
  console.log(`openclaw gateway status --json   ${fmt(b)}`);
  console.log(`ratio clawfleet/openclaw         median ${median(ratios).toFixed(3)} (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`);
} finally {
  await gateway.cleanup();
}
