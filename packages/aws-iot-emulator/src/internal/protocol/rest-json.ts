/**
 * restJson1 routing for the three IoT planes: a route is an HTTP method plus a path template with
 * `{label}` segments, exactly as the SDK's operation schemas declare them (`GET /things/{thingName}`).
 * Labels are percent-decoded per segment, so a certificate ARN in `/attached-policies/{target}`
 * (sent as `arn%3Aaws%3Aiot...cert%2F...`) arrives whole.
 */
import type { Handler, Operation, ResolvedOperation } from "../operation.ts";

type Segment = string | { readonly label: string };

interface Route {
  readonly segments: readonly Segment[];
  readonly operation: Operation;
}

export interface RouteOptions {
  readonly readOnly?: boolean;
}

export class RestJsonRouter {
  readonly #routes = new Map<string, Route[]>();

  /** Registers `operation` for `method` + `template` (e.g. `"/things/{thingName}/principals"`). */
  add(method: string, template: string, name: string, handler: Handler, options: RouteOptions = {}): this {
    const segments: Segment[] = template
      .split("/")
      .slice(1)
      .map((s) => (s.startsWith("{") && s.endsWith("}") ? { label: s.slice(1, -1) } : s));
    const key = `${method} ${segments.length}`;
    const list = this.#routes.get(key) ?? [];
    const readOnly = options.readOnly ?? /^(Get|Describe|List)/.test(name);
    list.push({ segments, operation: { name, handler, readOnly } });
    // Literal segments win over labels (`/things/{thingName}/jobs/$next` before `/things/{t}/jobs/{jobId}`).
    list.sort((a, b) => literalCount(b) - literalCount(a));
    this.#routes.set(key, list);
    return this;
  }

  match(method: string, path: string): ResolvedOperation | undefined {
    const parts = path.split("/").slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    const candidates = this.#routes.get(`${method} ${parts.length}`);
    if (!candidates) return undefined;
    outer: for (const route of candidates) {
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const segment = route.segments[i];
        const part = parts[i] ?? "";
        if (typeof segment === "string") {
          if (segment !== part) continue outer;
        } else if (segment !== undefined) {
          if (part === "") continue outer;
          params[segment.label] = decode(part);
        }
      }
      return { operation: route.operation, params };
    }
    return undefined;
  }
}

function literalCount(route: Route): number {
  return route.segments.filter((s) => typeof s === "string").length;
}

function decode(value: string): string {
  if (!value.includes("%") && !value.includes("+")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Parses a query string (without `?`) into a map, percent-decoding names and values. */
export function parseQuery(search: string): Map<string, string> {
  const query = new Map<string, string>();
  if (search === "") return query;
  for (const pair of search.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1).replaceAll("+", "%20"));
    query.set(name, value);
  }
  return query;
}
