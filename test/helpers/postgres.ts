// A throwaway PostgreSQL server (Debian's `postgresql` package) for one test
// file: its own data directory under the temp dir, listening on 127.0.0.1 only
// (a free port; the unix socket stays in that directory), password (SCRAM)
// authentication for generated roles. PostgreSQL refuses to run as root, so as
// root initdb and the server run as the `postgres` user (Debian's package makes
// it) through setpriv, which also kills the server should the test process die.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresServerBinDir } from "../../scripts/postgres-server-bin.ts";
import { freePort } from "./ports.ts";
import { spawnProcess, type Spawned } from "./processes.ts";

const run = promisify(execFile);

const INSTALL_HINT = "install it with `apt-get install -y postgresql` (Debian; `npm test` does this), which puts initdb and postgres in /usr/lib/postgresql/<major>/bin";
const INITDB_TIMEOUT_MS = 60_000;
const READY = /database system is ready to accept connections/;

export interface TestPostgres {
  host: string;
  port: number;
  /** The role the stores connect as: owns the databases createDatabase makes, not a superuser. */
  role: string;
  password: string;
  /** The server's process id (the postmaster). */
  pid: number;
  /** Its directory: data, socket, log; removed by stop(). */
  dir: string;
  /** A connection URL without the password, as `--db` takes it. */
  url(database: string): string;
  /** A new empty database owned by `role`; returns its URL. */
  createDatabase(): Promise<string>;
  /** A session as the superuser, for what a test must see behind the store's back. */
  admin<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Off by default: a test's data is thrown away, and fsync makes every commit wait for the disk. */
  fsync?: boolean;
  startTimeoutMs?: number;
}

/** Who runs the server: this process, or the `postgres` user when this process is root. */
function serverUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error(`tests run as root, and PostgreSQL refuses root, but there is no \`postgres\` user to run it as: ${INSTALL_HINT}`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid), name: "postgres" };
}

/** The command line that runs `program` as `user` (and dies with this process). */
function asUser(user: ReturnType<typeof serverUser>, program: string, args: string[]): [string, string[]] {
  if (!user) return [program, args];
  return ["setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--pdeathsig=SIGKILL", "--", program, ...args]];
}

/** Process ids whose parent is `pid` (the server's backends and helpers), read from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: fields follow the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid && fields[0] !== "Z") children.push(Number(entry));
    } catch {
      // Gone while reading.
    }
  }
  return children;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<TestPostgres> {
  const binDir = postgresServerBinDir();
  if (!binDir) throw new Error(`PostgreSQL's server (initdb, postgres) is not installed: ${INSTALL_HINT}`);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-postgres-"));
  const dataDir = join(dir, "data");
  const superuser = "clawfleet_admin";
  const superPassword = randomBytes(18).toString("base64url");
  const role = `clawfleet_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  const env = { PATH: process.env.PATH ?? "", HOME: dir, LC_ALL: "C", LANG: "C", TZ: "UTC" };
  let server: Spawned | undefined;
  const cleanUp = async () => {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const pwfile = join(dir, "superuser-password");
    writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    const [initdb, initdbArgs] = asUser(user, join(binDir, "initdb"), [
      "-D", dataDir, "-U", superuser, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
      "--encoding=UTF8", "--locale=C", "--no-instructions", ...(options.fsync ? [] : ["--no-sync"]),
    ]);
    await run(initdb, initdbArgs, { env, cwd: dir, timeout: INITDB_TIMEOUT_MS, killSignal: "SIGKILL" }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed (${error.message.split("\n")[0]}):\n${error.stderr ?? ""}`);
    });
    unlinkSync(pwfile);

    const port = await freePort();
    const [postgres, serverArgs] = asUser(user, join(binDir, "postgres"), [
      "-D", dataDir, "-p", String(port),
      "-c", "listen_addresses=127.0.0.1",
      "-c", `unix_socket_directories=${dir}`,
      "-c", `fsync=${options.fsync ? "on" : "off"}`,
      "-c", "logging_collector=off",
      "-c", "max_connections=40",
      "-c", "shared_buffers=32MB",
    ]);
    server = spawnProcess(postgres, serverArgs, env, dir);
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    await server.waitFor(READY, startTimeoutMs).catch((error: Error) => {
      throw new Error(`PostgreSQL did not become ready on 127.0.0.1:${port} within ${startTimeoutMs} ms: ${error.message}`);
    });

    const admin = async <T>(work: (client: pg.Client) => Promise<T>, database = "postgres"): Promise<T> => {
      const client = new pg.Client({ host: "127.0.0.1", port, user: superuser, password: superPassword, database });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    // The password travels as a literal in one statement on loopback: CREATE ROLE takes no parameters.
    await admin((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`));
    let databases = 0;
    const started = server;
    return {
      host: "127.0.0.1",
      port,
      role,
      password,
      pid: started.child.pid!,
      dir,
      url: (database) => `postgres://${role}@127.0.0.1:${port}/${database}`,
      async createDatabase() {
        const name = `clawfleet_test_${++databases}`;
        await admin((c) => c.query(`CREATE DATABASE ${name} OWNER ${role}`));
        return `postgres://${role}@127.0.0.1:${port}/${name}`;
      },
      admin,
      async stop() {
        await cleanUp();
      },
    };
  } catch (error) {
    const log = server?.stderr.slice(-3000) ?? "";
    await cleanUp();
    throw new Error(`${(error as Error).message}${log ? `\nserver log:\n${log}` : ""}`);
  }
}

/**
 * A fast shutdown (SIGINT: sessions are ended, not waited for; spawnProcess
 * sends SIGKILL after 10 s), then the server's own children, which a killed
 * server would leave behind.
 */
async function stopServer(server: Spawned): Promise<void> {
  const pid = server.child.pid;
  const children = pid ? childPids(pid) : [];
  await server.stop("SIGINT");
  for (const child of children) {
    try {
      if (isAlive(child)) process.kill(child, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
