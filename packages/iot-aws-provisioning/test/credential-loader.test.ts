/** The Secrets Manager credential loader of the rotating mode, with the real SDK client on the emulator. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Emulator, startEmulator } from "@granit/aws-iot-emulator";
import { createAwsIoTCredentialProvider, parseAwsIoTCredentialOptions } from "@granit/iot-aws";
import { CredentialSecretInvalidError, SecretsManagerCredentialLoader } from "@granit/iot-aws-provisioning";

let emulator: Emulator;
let secrets: SecretsManagerClient;
before(async () => {
  emulator = await startEmulator({ port: 0 });
  secrets = new SecretsManagerClient({ ...emulator.clientConfig(), maxAttempts: 1 });
});
after(async () => {
  secrets.destroy();
  await emulator.stop();
});

async function secretHolding(name: string, value: string): Promise<string> {
  const out = await secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return out.ARN as string;
}

describe("SecretsManagerCredentialLoader", () => {
  it("returns null when no credential secret is configured, without calling AWS", async () => {
    const calls = emulator.calls().length;
    const loader = new SecretsManagerCredentialLoader({ secrets, secretArn: null });

    assert.equal(await loader.load(new AbortController().signal), null);
    assert.equal(emulator.calls().length, calls);
  });

  it("returns the credentials stored in the secret", async () => {
    const arn = await secretHolding(
      "fleet/keys-1",
      JSON.stringify({ accessKeyId: "AKIAEXAMPLE0001", secretAccessKey: "s3cr3t", sessionToken: "tok" }),
    );
    const loader = new SecretsManagerCredentialLoader({ secrets, secretArn: arn });

    assert.deepEqual(await loader.load(new AbortController().signal), {
      accessKeyId: "AKIAEXAMPLE0001",
      secretAccessKey: "s3cr3t",
      sessionToken: "tok",
    });
  });

  it("throws a clear error naming the missing fields, never their values", async () => {
    const arn = await secretHolding("fleet/keys-2", JSON.stringify({ accessKeyId: "AKIAEXAMPLE0002" }));
    const loader = new SecretsManagerCredentialLoader({ secrets, secretArn: arn });

    await assert.rejects(loader.load(new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof CredentialSecretInvalidError);
      assert.match(error.message, /lacks secretAccessKey/);
      assert.match(error.message, /FleetCredentialSecretArn/);
      assert.doesNotMatch(error.message, /AKIAEXAMPLE0002/);
      return true;
    });
    const notJson = await secretHolding("fleet/keys-3", "not json");
    await assert.rejects(
      new SecretsManagerCredentialLoader({ secrets, secretArn: notJson }).load(new AbortController().signal),
      /does not hold JSON/,
    );
  });

  it("opens the rotating credential provider's gate", async () => {
    const arn = await secretHolding(
      "fleet/keys-4",
      JSON.stringify({ accessKeyId: "AKIAEXAMPLE0004", secretAccessKey: "s3cr3t" }),
    );
    const provider = createAwsIoTCredentialProvider(
      parseAwsIoTCredentialOptions({ FleetCredentialSecretArn: arn }),
      {
        loader: new SecretsManagerCredentialLoader({ secrets, secretArn: arn }),
      },
    );

    await provider.start();
    try {
      assert.equal(provider.isReady(), true);
      assert.equal((await provider.sdkCredentials()?.())?.accessKeyId, "AKIAEXAMPLE0004");
    } finally {
      await provider.stop();
    }
  });
});
