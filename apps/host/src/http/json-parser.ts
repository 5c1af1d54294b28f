/**
 * The API reads JSON only: every other content type (Fastify also accepts `text/plain` by default)
 * is answered 415. An empty body sent as `application/json` means "no body" (a bodiless
 * `POST /{id}/activate` from a client that always sets the header), not a 400; anything else goes
 * through Fastify's own parser, which refuses prototype-poisoning keys.
 */
import type { FastifyInstance } from "fastify";

export function installJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if ((body as string).length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}
