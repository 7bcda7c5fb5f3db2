// A small YAML writer for the generated Prometheus, promtool and Alertmanager
// files: block style, strings quoted whenever a YAML reader could take them
// for something else, multi-line strings (PromQL) as literal blocks. There is
// no YAML library in the dependency tree, and these files need nothing more.

export type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

/** Renders `value` as a YAML document, with `header` as leading `#` comments. */
export function toYaml(value: YamlValue, header?: string): string {
  const comment = header ? header.split("\n").map((line) => (line ? `# ${line}` : "#")).join("\n") + "\n" : "";
  return comment + block(value, 0).replace(/^\n/, "") + "\n";
}

function block(value: YamlValue, indent: number): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return " []";
    if (value.every(isScalar) && value.map((v) => scalar(v as Scalar, indent)).join(", ").length < 60) {
      return ` [${value.map((v) => scalar(v as Scalar, indent)).join(", ")}]`;
    }
    return value.map((item) => `\n${pad}-${isScalar(item) ? ` ${scalar(item, indent + 2)}` : block(item, indent + 2).replace(/^\n\s*/, " ")}`).join("");
  }
  if (isScalar(value)) return ` ${scalar(value, indent)}`;
  const entries = Object.entries(value as Record<string, YamlValue | undefined>).filter(([, v]) => v !== undefined) as [string, YamlValue][];
  if (entries.length === 0) return " {}";
  return entries.map(([key, v]) => `\n${pad}${key}:${block(v, indent + 2)}`).join("");
}

type Scalar = string | number | boolean | null;

function isScalar(value: YamlValue): value is Scalar {
  return value === null || typeof value !== "object";
}

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const DURATION = /^\d+(ms|s|m|h|d|w|y)$/;
// Words YAML 1.1 readers (Prometheus and Alertmanager use go-yaml) turn into booleans or null.
const RESERVED = /^(y|n|yes|no|on|off|true|false|null|~)$/i;

function scalar(value: Scalar, indent: number): string {
  if (value === null) return "null";
  if (typeof value !== "string") return String(value);
  if (value.includes("\n")) {
    // Literal block: what you read is the expression Prometheus gets.
    const pad = " ".repeat(indent);
    const chomp = value.endsWith("\n") ? "|" : "|-";
    return `${chomp}\n${value.replace(/\n$/, "").split("\n").map((line) => (line ? pad + line : "")).join("\n")}`;
  }
  if ((PLAIN.test(value) || DURATION.test(value)) && !RESERVED.test(value)) return value;
  // Single quotes escape nothing but themselves: PromQL matchers stay readable.
  if (!value.includes("'") && !/[\x00-\x1f]/.test(value)) return `'${value}'`;
  // A JSON string is a valid YAML double-quoted scalar.
  return JSON.stringify(value);
}
