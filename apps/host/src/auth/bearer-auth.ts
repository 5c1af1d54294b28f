/**
 * Bearer-token authentication for a Fastify scope (RFC 6750). `useBearerAuth(scope, { tokens })`
 * makes every route registered in `scope` require `Authorization: Bearer <token>`:
 *
 * - no or malformed header → 401 with `WWW-Authenticate: Bearer realm="granit-iot"`;
 * - unknown token → 401 with `error="invalid_token"`;
 * - a token without one of the route's `config.scopes` → 403 with `error="insufficient_scope"`.
 *
 * Deny by default: a route in the scope that does not declare `config: { scopes: [...] }` is
 * refused at registration (an empty list means "any valid token"). The check runs in `onRequest`,
 * before the body is read, so anonymous callers cannot make the host parse large bodies.
 * The principal (tenant, actor, scopes) is on `request.principal`; the tenant comes only from it.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpProblem } from "../http/problem-details.ts";
import type { Scope } from "./scopes.ts";
import type { Principal, TokenRegistry } from "./token-registry.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `useBearerAuth` for routes in an authenticated scope; `null` elsewhere. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Scopes a token needs for this route (all of them). Required in a `useBearerAuth` scope. */
    scopes?: readonly Scope[];
  }
}

export interface BearerAuthOptions {
  readonly tokens: TokenRegistry;
  /** @default "granit-iot" */
  readonly realm?: string;
}

const BEARER = /^Bearer[ ]+([\x21-\x7E]+)[ ]*$/i;

export function useBearerAuth(scope: FastifyInstance, options: BearerAuthOptions): void {
  const realm = options.realm ?? "granit-iot";
  if (!scope.hasRequestDecorator("principal")) scope.decorateRequest("principal", null);

  scope.addHook("onRoute", (route) => {
    const scopes = (route.config as { scopes?: unknown } | undefined)?.scopes;
    if (!Array.isArray(scopes)) {
      throw new TypeError(
        `Route ${route.method} ${route.url} is in an authenticated scope but declares no config.scopes ` +
          "(use [] for any valid token).",
      );
    }
  });

  scope.addHook("onRequest", async (request) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      throw new HttpProblem("unauthorized", "Send an operator token as 'Authorization: Bearer <token>'.", {
        headers: { "WWW-Authenticate": `Bearer realm="${realm}"` },
      });
    }
    const principal = options.tokens.authenticate(match[1]);
    if (!principal) {
      throw new HttpProblem("unauthorized", "The bearer token is not valid.", {
        headers: { "WWW-Authenticate": `Bearer realm="${realm}", error="invalid_token"` },
      });
    }
    const needed = request.routeOptions.config.scopes ?? [];
    const missing = needed.filter((s) => !principal.scopes.has(s));
    if (missing.length > 0) {
      throw new HttpProblem(
        "forbidden",
        `The token '${principal.name}' lacks the scope ${missing.join(", ")}.`,
        {
          headers: {
            "WWW-Authenticate": `Bearer realm="${realm}", error="insufficient_scope", scope="${needed.join(" ")}"`,
          },
        },
      );
    }
    request.principal = principal;
  });
}

/** The caller of an authenticated route (throws if the route is not behind `useBearerAuth`). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`${request.method} ${request.url} is not behind useBearerAuth.`);
  return request.principal;
}
