import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { OptionsValidationError } from "@granit/iot";
import { defaultConfigSections } from "../src/config/config-sections.ts";
import { ConfigurationError } from "../src/config/configuration-error.ts";
import { HelpRequested, loadConfig } from "../src/config/load-config.ts";
import { integerSetting, sectionSchema, toOptionsErrors } from "../src/config/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "granit-config-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** The messages of the ConfigurationError `load` throws. */
function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, `expected ConfigurationError, got ${error}`);
    assert.ok(error.errors.every((e) => e instanceof OptionsValidationError));
    return error.errors.map((e) => e.message);
  }
  assert.fail("expected the configuration to be refused");
}

const TOKEN = { Name: "ops", Token: "an-operator-token-123", TenantId: null };

describe("configuration", () => {
  it("starts from the documented defaults", () => {
    const config = loadConfig({ env: {} });

    assert.deepEqual(config.Host, {
      Port: 8080,
      Address: "127.0.0.1",
      DataDir: "./.data",
      BodyLimitBytes: 1_048_576,
      ShutdownTimeoutSeconds: 30,
    });
    assert.deepEqual(config.Database, { Url: null, Schema: "public", PoolSize: 10 });
    assert.deepEqual(config.Auth.Tokens, []);
    assert.equal(config.Logging.Level, "info");
    assert.equal(config.IoT.MessageBus.Concurrency, 16);
    assert.equal(config.configFile, null);
  });

  it("overrides keys from env vars with __ as the separator, case-insensitively, coercing strings", () => {
    const config = loadConfig({
      env: {
        Host__Port: "9090",
        IOT__MESSAGEBUS__CONCURRENCY: "4",
        logging__level: "DEBUG",
        IoT__Aws__Shadow__PollIntervalSeconds: "10",
        PATH: "/usr/bin",
        SOMETHING__ELSE: "ignored",
      },
    });

    assert.equal(config.Host.Port, 9090);
    assert.equal(config.IoT.MessageBus.Concurrency, 4);
    assert.equal(config.Logging.Level, "debug");
    assert.deepEqual(config.sections.get("IoT:Aws:Shadow"), { PollIntervalSeconds: "10" });
  });

  it("reads DATABASE_URL as Database:Url (PostgreSQL) and leaves it null without (PGlite)", () => {
    const withUrl = loadConfig({ env: { DATABASE_URL: "postgres://u@db:5432/iot" } });
    const without = loadConfig({ env: {} });

    assert.equal(withUrl.Database.Url, "postgres://u@db:5432/iot");
    assert.equal(without.Database.Url, null);
  });

  it("reads a JSON file from --config or GRANIT_CONFIG; env beats the file and flags beat env", () => {
    const file = writeJson("granit.json", {
      Host: { Port: 7000, Address: "0.0.0.0" },
      Auth: { Tokens: [TOKEN] },
      IoT: { Aws: { Jobs: { JobIdPrefix: "fleet" } } },
    });

    const fromFlag = loadConfig({ argv: ["--config", file], env: {} });
    const fromEnv = loadConfig({ env: { GRANIT_CONFIG: file, Host__Port: "7001" } });
    const fromCli = loadConfig({
      argv: ["--port", "7002", "--Host:Address=::1"],
      env: { GRANIT_CONFIG: file, Host__Port: "7001" },
    });

    assert.equal(fromFlag.configFile, file);
    assert.equal(fromFlag.Host.Port, 7000);
    assert.equal(fromFlag.Host.Address, "0.0.0.0");
    assert.deepEqual(fromFlag.Auth.Tokens[0]?.Name, "ops");
    assert.deepEqual(fromFlag.sections.get("IoT:Aws:Jobs"), { JobIdPrefix: "fleet" });
    assert.equal(fromEnv.Host.Port, 7001);
    assert.equal(fromCli.Host.Port, 7002);
    assert.equal(fromCli.Host.Address, "::1");
  });

  it("lets env override one field of a token from the file by index, ASP.NET style", () => {
    const file = writeJson("tokens.json", { Auth: { Tokens: [TOKEN] } });

    const config = loadConfig({
      env: {
        GRANIT_CONFIG: file,
        Auth__Tokens__0__TenantId: "0194A5E0-AAAA-7AAA-8AAA-AAAAAAAAAAAA",
        Auth__Tokens__1__Name: "reader",
        Auth__Tokens__1__TokenSha256: "a".repeat(64),
        Auth__Tokens__1__TenantId: "",
        Auth__Tokens__1__Scopes__0: "IoT.Devices.Read",
      },
    });

    assert.deepEqual(config.Auth.Tokens, [
      {
        Name: "ops",
        Token: "an-operator-token-123",
        TokenSha256: null,
        TenantId: "0194a5e0-aaaa-7aaa-8aaa-aaaaaaaaaaaa",
        Scopes: ["IoT.Devices.Read", "IoT.Devices.Manage"],
      },
      {
        Name: "reader",
        Token: null,
        TokenSha256: "a".repeat(64),
        TenantId: null,
        Scopes: ["IoT.Devices.Read"],
      },
    ]);
  });

  it("refuses an out-of-range value with the full key and the allowed range", () => {
    const messages = problems(() =>
      loadConfig({ env: { Host__Port: "70000", IoT__MessageBus__LeaseSeconds: "2" } }),
    );

    assert.deepEqual(messages, [
      "Host:Port: must be between 0 and 65535 (got 70000)",
      "IoT:MessageBus:LeaseSeconds: must be between 5 and 3600 (got 2)",
    ]);
  });

  it("refuses a value of the wrong type and an unknown level, naming each key", () => {
    const messages = problems(() =>
      loadConfig({
        env: { Host__BodyLimitBytes: "lots", Logging__Level: "loud", Database__Url: "mysql://x" },
      }),
    );

    assert.deepEqual(messages, [
      "Host:BodyLimitBytes: must be an integer between 1024 and 104857600 (got lots)",
      "Database:Url: must be a postgres:// or postgresql:// URL (got mysql://x)",
      "Logging:Level: must be one of fatal, error, warn, info, debug, trace, silent (got loud)",
    ]);
  });

  it("refuses a misspelt key, listing the known keys of its section", () => {
    const messages = problems(() => loadConfig({ env: { Host__Prot: "80" } }));

    assert.deepEqual(messages, [
      "Host:Prot: is not a known setting (known settings here: Port, Address, DataDir, BodyLimitBytes, ShutdownTimeoutSeconds)",
    ]);
  });

  it("refuses a token without a tenant decision, without a secret, or with a short secret", () => {
    const messages = problems(() =>
      loadConfig({
        env: {},
        overrides: {
          Auth: {
            Tokens: [
              { Name: "a", Token: "long-enough-token-1" },
              { Name: "b", TenantId: null },
              { Name: "c", Token: "short", TenantId: null },
            ],
          },
        },
      }),
    );

    assert.deepEqual(messages, [
      'Auth:Tokens:0:TenantId: is required: the tenant UUID the token acts for, or null (or "") for the host operator',
      "Auth:Tokens:1:Token: set exactly one of Token (at least 16 characters) or TokenSha256 (hex SHA-256 of the token)",
      "Auth:Tokens:2:Token: must be a string of 16 to 512 characters (got short)",
    ]);
  });

  it("reports a missing or malformed JSON file by name", () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");

    const missing = problems(() => loadConfig({ env: { GRANIT_CONFIG: join(dir, "absent.json") } }));
    const malformed = problems(() => loadConfig({ argv: [`--config=${broken}`], env: {} }));

    assert.match(
      missing[0] ?? "",
      /^GRANIT_CONFIG: cannot read the configuration file .*absent\.json \(ENOENT\)$/,
    );
    assert.match(
      malformed[0] ?? "",
      /^GRANIT_CONFIG: the configuration file .*broken\.json is not valid JSON/,
    );
  });

  it("refuses an unknown flag and answers --help", () => {
    assert.deepEqual(
      problems(() => loadConfig({ argv: ["--prot", "80"], env: {} })).map((m) => m.split(";")[0]),
      ["--prot: is not a known flag"],
    );
    assert.throws(() => loadConfig({ argv: ["--help"], env: {} }), HelpRequested);
  });

  it("plugs a package's section parser in through the registry and reports its keys the same way", () => {
    // Prepare: a parser shaped like the AWS packages' (`(raw) => options`, throwing OptionsValidationError).
    const shadowSchema = sectionSchema({ PollIntervalSeconds: integerSetting(5, 600) });
    const sections = defaultConfigSections().register(
      "IoT:Aws:Shadow",
      (raw, path) => {
        const result = shadowSchema.safeParse(raw);
        if (!result.success) throw new ConfigurationError(toOptionsErrors(result.error, path));
        return { pollIntervalSeconds: result.data.PollIntervalSeconds };
      },
      { PollIntervalSeconds: 30 },
    );

    // Act
    const defaults = loadConfig({ env: {}, sections });
    const overridden = loadConfig({ env: { IoT__Aws__Shadow__PollIntervalSeconds: "10" }, sections });
    const messages = problems(() =>
      loadConfig({
        env: { IoT__Aws__Shadow__PollIntervalSeconds: "2", IoT__Aws__Shadow__Batch: "1" },
        sections,
      }),
    );

    // Assess
    assert.deepEqual(defaults.sections.get("IoT:Aws:Shadow"), { pollIntervalSeconds: 30 });
    assert.deepEqual(overridden.sections.get("IoT:Aws:Shadow"), { pollIntervalSeconds: 10 });
    assert.deepEqual(messages, [
      "IoT:Aws:Shadow:PollIntervalSeconds: must be between 5 and 600 (got 2)",
      "IoT:Aws:Shadow:Batch: is not a known setting (known settings here: PollIntervalSeconds)",
    ]);
  });

  it("prefixes the section path to errors a parser reports with a relative key", () => {
    const sections = defaultConfigSections().register("IoT:Aws:Jobs", () => {
      throw new OptionsValidationError("JobIdPrefix", "must be at most 20 characters");
    });

    assert.deepEqual(
      problems(() => loadConfig({ env: {}, sections })),
      ["IoT:Aws:Jobs:JobIdPrefix: must be at most 20 characters"],
    );
  });
});
