/**
 * `granit-iot` without a host: help, version, usage errors (exit 2, no request sent), unreachable
 * hosts (exit 3 naming the URL), server failures (exit 5) and a missing token (exit 4). Each test
 * runs the CLI as a child process.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { closedPort, granitIot, removeTempDirs, startStubServer, tempDir } from "./cli-fixtures/run-cli.ts";

const TOKEN = ["--token", "cli-test-token-0001"];
const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

after(removeTempDirs);

describe("granit-iot help and version", () => {
  it("lists every command, the global options and the exit codes with --help, exit 0", async () => {
    const result = await granitIot(["--help"]);

    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    for (const command of [
      "devices create",
      "devices list",
      "devices show",
      "devices activate",
      "devices suspend",
      "devices reactivate",
      "devices decommission",
      "devices import",
      "bindings show",
      "bindings retry",
      "reconcile",
      "shadow get",
      "shadow set-desired",
      "commands send",
      "commands status",
      "commands cancel",
      "policy print",
      "policy ensure",
      "claim-certs add",
      "claim-certs list",
    ]) {
      assert.match(result.stdout, new RegExp(`^  ${command} `, "m"), `help lists ${command}`);
    }
    assert.match(result.stdout, /--url <url>/);
    assert.match(result.stdout, /--json/);
    assert.match(result.stdout, /^ {2}3 {3}the host is unreachable/m);
  });

  it("prints one command's usage, options and example with <command> --help or help <command>", async () => {
    const flagForm = await granitIot(["devices", "list", "--help"]);
    const wordForm = await granitIot(["help", "devices", "list"]);

    assert.equal(flagForm.code, 0);
    assert.match(flagForm.stdout, /^Usage: granit-iot devices list \[options\]$/m);
    assert.match(
      flagForm.stdout,
      /--status <status> +Only this status: Provisioning, Active, Suspended, Decommissioned/,
    );
    assert.match(flagForm.stdout, /^Example/m);
    assert.equal(wordForm.stdout, flagForm.stdout);
  });

  it("lists a group's subcommands with <group> --help", async () => {
    const result = await granitIot(["devices", "--help"]);

    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Subcommands:$/m);
    assert.match(result.stdout, /^ {2}devices import +Create devices from a CSV file/m);
  });

  it("prints the package version with --version (JSON with --json)", async () => {
    const human = await granitIot(["--version"]);
    const json = await granitIot(["--version", "--json"]);

    assert.equal(human.code, 0);
    assert.equal(human.stdout, `granit-iot ${VERSION}\n`);
    assert.deepEqual(json.json(), { version: VERSION });
  });
});

describe("granit-iot usage errors (exit 2, nothing sent)", { concurrency: true }, () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  before(async () => {
    stub = await startStubServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  after(() => stub.close());

  const cases: readonly { name: string; args: string[]; stderr: RegExp }[] = [
    { name: "no command", args: [], stderr: /^error: a command is required; run 'granit-iot --help'/ },
    { name: "an unknown command", args: ["gadgets"], stderr: /^error: unknown command 'gadgets'/ },
    {
      name: "a group without subcommand",
      args: ["devices"],
      stderr: /^error: 'devices' needs a subcommand: create, list, show, activate/,
    },
    {
      name: "an unknown subcommand",
      args: ["devices", "explode"],
      stderr: /^error: unknown subcommand 'devices explode'; expected one of create, list/,
    },
    {
      name: "an unknown flag",
      args: ["devices", "list", "--colour"],
      stderr:
        /^error: unknown option '--colour' for 'devices list'\nusage: granit-iot devices list \[options\]\n/,
    },
    {
      name: "a flag without its value",
      args: ["devices", "list", "--status"],
      stderr: /^error: option --status needs a value/,
    },
    {
      name: "a missing argument",
      args: ["devices", "show"],
      stderr: /^error: 'devices show' needs <deviceId>/,
    },
    {
      name: "an extra argument",
      args: ["devices", "list", "extra"],
      stderr: /^error: 'devices list' takes no arguments \(unexpected: extra\)/,
    },
    {
      name: "a device id that is not a UUID",
      args: ["devices", "show", "not-a-uuid"],
      stderr: /^error: deviceId must be a UUID \(got 'not-a-uuid'\)/,
    },
    {
      name: "an unknown status",
      args: ["devices", "list", "--status", "Sleeping"],
      stderr:
        /^error: --status must be one of Provisioning, Active, Suspended, Decommissioned \(got 'Sleeping'\)/,
    },
    {
      name: "a limit out of range",
      args: ["devices", "list", "--limit", "5000"],
      stderr: /^error: --limit must be an integer from 1 to 1000/,
    },
    {
      name: "a required flag missing",
      args: ["devices", "create", "--serial", "A1", "--model", "M"],
      stderr: /^error: --firmware is required/,
    },
    {
      name: "a malformed tag",
      args: ["devices", "create", "--serial", "A1", "--model", "M", "--firmware", "1.0.0", "--tag", "site"],
      stderr: /^error: --tag takes key=value \(got 'site'\)/,
    },
    {
      name: "suspend without a reason",
      args: ["devices", "suspend", "0194a5e0-1234-7abc-8def-0123456789ab"],
      stderr: /^error: --reason is required/,
    },
    {
      name: "a missing CSV file",
      args: ["devices", "import", "nowhere.csv"],
      stderr: /^error: cannot read nowhere.csv: no such file/,
    },
    {
      name: "a bad --timeout",
      args: ["devices", "list", "--timeout", "soon"],
      stderr: /^error: --timeout must be an integer from 1 to 3600/,
    },
  ];
  for (const { name, args, stderr } of cases) {
    it(`refuses ${name} with exit 2 and sends no request`, async () => {
      const result = await granitIot([...args, "--url", stub.url, ...TOKEN]);

      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, stderr);
      assert.equal(result.stdout, "");
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      assert.deepEqual(stub.requests, []);
    });
  }

  it("refuses a URL that is not http(s) with exit 2", async () => {
    const result = await granitIot(["devices", "list", "--url", "ftp://example.org", ...TOKEN]);

    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^error: --url must be an http:\/\/ or https:\/\/ URL \(got 'ftp:\/\/example.org'\)/,
    );
  });

  it("prints a usage error as a JSON document on stderr with --json", async () => {
    const result = await granitIot(["devices", "show", "nope", "--json", "--url", stub.url, ...TOKEN]);

    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.deepEqual(result.errorJson(), {
      type: "urn:granit:iot:cli:usage",
      title: "deviceId must be a UUID (got 'nope')",
      exitCode: 2,
    });
  });
});

describe("granit-iot connection failures", () => {
  it("says which URL is unreachable and exits 3 when nothing listens", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    const result = await granitIot(["devices", "list", "--url", url, ...TOKEN]);

    assert.equal(result.code, 3);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `error: cannot reach the host at ${url}: connection refused (is the host running? check --url or GRANIT_URL)\n`,
    );
  });

  it("takes the URL from GRANIT_URL and reports it as a JSON document with --json", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    const result = await granitIot(["devices", "list", "--json", ...TOKEN], { env: { GRANIT_URL: url } });

    assert.equal(result.code, 3);
    assert.equal(result.errorJson().type, "urn:granit:iot:cli:unreachable");
    assert.match(
      result.errorJson().title,
      new RegExp(`^cannot reach the host at ${url}: connection refused`),
    );
  });

  it("gives up after --timeout seconds on a host that never answers, exit 3", async () => {
    const silent = await startStubServer(() => {
      /* never answers */
    });
    try {
      const result = await granitIot(["devices", "list", "--timeout", "1", "--url", silent.url, ...TOKEN]);

      assert.equal(result.code, 3);
      assert.equal(
        result.stderr,
        `error: cannot reach the host at ${silent.url}: no answer within 1 s (--timeout)\n`,
      );
    } finally {
      await silent.close();
    }
  });

  it("exits 5 on a server error and prints its problem detail", async () => {
    const failing = await startStubServer((request, response) => {
      response.writeHead(500, { "content-type": "application/problem+json" }).end(
        JSON.stringify({
          type: "urn:granit:iot:problem:internal",
          title: "An unexpected error occurred.",
          status: 500,
          detail: "The host could not complete the request; quote request id req-7.",
          instance: request.url,
        }),
      );
    });
    try {
      const result = await granitIot(["devices", "list", "--url", failing.url, ...TOKEN]);

      assert.equal(result.code, 5);
      assert.equal(
        result.stderr,
        "error: An unexpected error occurred. (HTTP 500, GET /api/iot/devices)\n" +
          "  The host could not complete the request; quote request id req-7.\n",
      );
    } finally {
      await failing.close();
    }
  });

  it("exits 5 on a proxy's HTML 502 and shows what it answered", async () => {
    const proxy = await startStubServer((_request, response) => {
      response.writeHead(502, { "content-type": "text/html" }).end("<html><body>Bad Gateway</body></html>");
    });
    try {
      const result = await granitIot(["devices", "list", "--url", proxy.url, ...TOKEN]);

      assert.equal(result.code, 5);
      assert.match(
        result.stderr,
        /^error: Bad Gateway \(HTTP 502, GET \/api\/iot\/devices\)\n {2}<html><body>Bad Gateway<\/body><\/html>\n$/,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe("granit-iot operator token", () => {
  let stub: Awaited<ReturnType<typeof startStubServer>>;
  const seen: (string | undefined)[] = [];
  before(async () => {
    stub = await startStubServer((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(200, { "content-type": "application/json" }).end('{"items":[],"nextCursor":null}');
    });
  });
  after(() => stub.close());

  it("exits 4 with a hint when no token is given, set or stored, and sends nothing", async () => {
    const result = await granitIot(["devices", "list", "--url", stub.url], { cwd: tempDir() });

    assert.equal(result.code, 4);
    assert.equal(
      result.stderr,
      "error: no operator token: pass --token, set GRANIT_TOKEN, or run from the directory holding .data/operator-token\n",
    );
    assert.deepEqual(stub.requests, []);
  });

  it("sends --token, else GRANIT_TOKEN, else ./.data/operator-token as the bearer token", async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, ".data"));
    writeFileSync(join(cwd, ".data", "operator-token"), "token-from-the-file-0001\n");
    seen.length = 0;

    const byFile = await granitIot(["devices", "list", "--url", stub.url], { cwd });
    const byEnv = await granitIot(["devices", "list", "--url", stub.url], {
      cwd,
      env: { GRANIT_TOKEN: "token-from-the-env-0001" },
    });
    const byFlag = await granitIot(
      ["devices", "list", "--url", stub.url, "--token", "token-from-the-flag-01"],
      {
        cwd,
        env: { GRANIT_TOKEN: "token-from-the-env-0001" },
      },
    );

    assert.deepEqual([byFile.code, byEnv.code, byFlag.code], [0, 0, 0]);
    assert.equal(byFile.stdout, "No devices.\n");
    assert.deepEqual(seen, [
      "Bearer token-from-the-file-0001",
      "Bearer token-from-the-env-0001",
      "Bearer token-from-the-flag-01",
    ]);
  });
});
