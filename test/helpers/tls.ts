// A throwaway PKI for tests, made with the `openssl` CLI (in the Debian base
// image): a CA that a child process trusts through NODE_EXTRA_CA_CERTS, server
// certificates it signed, and a self-signed one nobody trusts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA certificate, for NODE_EXTRA_CA_CERTS. */
  caPath: string;
  ca: string;
  /** A leaf signed by the CA for these subjectAltNames ("DNS:localhost", "IP:127.0.0.2"). */
  issue(name: string, altNames: string[]): TestCert;
  /** A self-signed leaf: valid names, untrusted issuer. */
  selfSigned(name: string, altNames: string[]): TestCert;
  cleanup(): void;
}

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-pki-"));
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 15_000 });
  const caPath = join(dir, "ca.crt");
  openssl(["req", "-x509", ...KEY_ARGS, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=clawfleet test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  const leafExtensions = (altNames: string[]) => [
    `subjectAltName=${altNames.join(",")}`,
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth",
  ];
  const read = (name: string): TestCert => {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    return { certPath, keyPath, cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
  };
  return {
    dir,
    caPath,
    ca: readFileSync(caPath, "utf8"),
    issue(name, altNames) {
      writeFileSync(join(dir, `${name}.ext`), leafExtensions(altNames).join("\n") + "\n");
      openssl(["req", ...KEY_ARGS, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", `${name}.crt`, "-extfile", `${name}.ext`]);
      return read(name);
    },
    selfSigned(name, altNames) {
      openssl(["req", "-x509", ...KEY_ARGS, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${name}`,
        ...leafExtensions(altNames).flatMap((e) => ["-addext", e])]);
      return read(name);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
