// The fleet page's filters live in the query string (`/?layer=tunnel&state=failing&node=mini-*`),
// so a link pasted into a chat reproduces the view, and a refresh keeps it.
import { isCode, isLayer } from "../../shared/taxonomy.ts";
import { NODE_STATES } from "../classify/node-state.ts";
import type { NodeFilter } from "../query/fleet-view.ts";

export interface PageFilter {
  state?: string;
  layer?: string;
  code?: string;
  node?: string;
}

export interface ParsedFilter {
  filter: PageFilter;
  /** Values that were ignored, said on the page so a bad link does not silently show everything. */
  ignored: string[];
}

/** Glob over node ids: the id alphabet plus `*` and `?`, bounded. */
const NODE_GLOB = /^[a-z0-9._*?-]{1,64}$/;

export function parseFilter(query: URLSearchParams): ParsedFilter {
  const filter: PageFilter = {};
  const ignored: string[] = [];
  const state = query.get("state")?.trim();
  if (state) (NODE_STATES as readonly string[]).includes(state) ? (filter.state = state) : ignored.push(`state "${state.slice(0, 40)}"`);
  const layer = query.get("layer")?.trim();
  if (layer) isLayer(layer) ? (filter.layer = layer) : ignored.push(`layer "${layer.slice(0, 40)}"`);
  const code = query.get("code")?.trim();
  if (code) isCode(code) ? (filter.code = code) : ignored.push(`code "${code.slice(0, 40)}"`);
  const node = query.get("node")?.trim().toLowerCase();
  if (node) NODE_GLOB.test(node) ? (filter.node = node) : ignored.push(`node "${node.slice(0, 40)}"`);
  return { filter, ignored };
}

export function toNodeFilter(filter: PageFilter): NodeFilter {
  return { state: filter.state, layer: filter.layer, code: filter.code, nodeGlob: filter.node };
}

export function isFiltered(filter: PageFilter): boolean {
  return Boolean(filter.state || filter.layer || filter.code || filter.node);
}

/** `?layer=tunnel&…` (or "" without filters), with `overrides` applied; undefined removes a key. */
export function filterQuery(filter: PageFilter, overrides: PageFilter = {}): string {
  const merged: PageFilter = { ...filter, ...overrides };
  const params = new URLSearchParams();
  for (const key of ["state", "layer", "code", "node"] as const) {
    const value = merged[key];
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
