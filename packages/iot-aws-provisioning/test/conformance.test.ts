/**
 * Conformance: the happy path and the decommission against the emulator and against moto
 * (`moto_server`, when installed), checked through the AWS APIs themselves (moto has no inventory
 * endpoint): the thing, its one certificate (ACTIVE, attached, with the policy), the secret whose key
 * matches the certificate; after decommission none of them. Where moto behaves differently from AWS,
 * the test says so and why.
 */
import assert from "node:assert/strict";
import { createPublicKey, X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  CreateCertificateFromCsrCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
} from "@aws-sdk/client-iot";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { type AwsBackend, awsTargets } from "@granit/aws-iot-emulator/testing";
import { ThingName } from "@granit/iot-aws";
import { IOTAWS_MIGRATIONS } from "@granit/iot-aws-postgres";
import {
  devicePolicyDocument,
  ensureDevicePolicy,
  isCompleteDeviceCredentials,
  parseDeviceCredentials,
} from "@granit/iot-aws-provisioning";
import { IOT_MIGRATIONS } from "@granit/iot-postgres";
import { databaseTargets, type TestDatabase } from "@granit/iot-postgres/testing";
import { csrWithKey } from "./support/csr.ts";
import { keyMatchesCertificate } from "./support/inventory.ts";
import { buildStack, POLICY_NAME, type Stack, TENANT_A } from "./support/stack.ts";

async function notFound(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return false;
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return true;
    throw error;
  }
}

const [pglite] = databaseTargets();

for (const target of awsTargets()) {
  describe(`conformance against ${target.name}`, { skip: target.skip }, () => {
    let backend: AwsBackend;
    let tdb: TestDatabase;
    let stack: Stack;

    before(async () => {
      backend = await target.start();
      if (!pglite) throw new Error("no database target");
      tdb = await pglite.open({ migrations: [IOT_MIGRATIONS, IOTAWS_MIGRATIONS] });
      stack = buildStack({
        database: tdb.database,
        aws: backend.clientConfig(),
        // moto detaches synchronously; the emulator after its propagation delay: both within this bound.
        provisioning: { TeardownMaxWaitSeconds: 20 },
      });
      const accountId = target.name === "moto" ? "123456789012" : "000000000000";
      await ensureDevicePolicy(
        { iot: stack.iot, callPolicy: stack.policy },
        POLICY_NAME,
        devicePolicyDocument({ region: backend.clientConfig().region, accountId }),
      );
    });
    after(async () => {
      stack?.iot.destroy();
      stack?.secrets.destroy();
      await tdb?.dispose();
      await backend?.stop();
    });

    let deviceId = "";
    let thingName = "";
    let csrKeyHonoured = true;

    it("issues certificates from a CSR with the CSR's public key (else: the saga must refuse them)", async (t) => {
      const { csr, publicKeyPem } = await csrWithKey("probe-thing");
      const probe = await stack.iot.send(
        new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr }),
      );
      const issuedKey = new X509Certificate(probe.certificatePem ?? "").publicKey.export({
        type: "spki",
        format: "pem",
      });
      csrKeyHonoured = issuedKey === createPublicKey(publicKeyPem).export({ type: "spki", format: "pem" });
      await stack.iot.send(new DeleteCertificateCommand({ certificateId: probe.certificateId }));
      if (!csrKeyHonoured) {
        t.diagnostic(
          `${target.name} deviates from AWS: CreateCertificateFromCsr signs a freshly generated RSA key instead of the CSR's public key ` +
            "(moto/iot/models.py create_certificate_from_csr). The saga refuses such a certificate, so the happy path below checks that refusal instead.",
        );
      }
      assert.equal(csrKeyHonoured || target.name === "moto", true, "AWS and the emulator keep the CSR's key");
    });

    it("provisions a device: the thing, one ACTIVE certificate with the policy, a secret whose key matches it", async (t) => {
      const device = await stack.addDevice(`CONF-${target.name}`);
      deviceId = device.id;
      thingName = ThingName.from(device.tenantId, device.serialNumber).value;

      const outcome = await stack.provisioning.provision(device.id);

      const view = await stack.provisioning.describeBinding(device.id, TENANT_A);
      if (!csrKeyHonoured) {
        t.diagnostic(
          `${target.name}: the saga ran DescribeThing, CreateThing, GetSecretValue, CreateSecret and CreateCertificateFromCsr, then refused the certificate`,
        );
        assert.equal(outcome, "failed");
        assert.equal(view?.failedFromStatus, "KeyEscrowed");
        assert.match(view?.failureReason ?? "", /does not carry the escrowed key/);
        const principals = await stack.iot.send(new ListThingPrincipalsCommand({ thingName }));
        assert.deepEqual(principals.principals ?? [], [], "the refused certificate was never attached");
        assert.equal(view?.certificateArn, null, "no binding records the refused certificate");
        const certificates = (await stack.iot.send(new ListCertificatesCommand({}))).certificates ?? [];
        if (certificates.some((c) => c.status === "ACTIVE")) {
          t.diagnostic(
            `${target.name} deviates from AWS: CreateCertificateFromCsr with setAsActive=false creates an ACTIVE certificate ` +
              "(moto reads the query string 'false' as a truthy value); against AWS it is INACTIVE.",
          );
        }
        return;
      }
      assert.equal(outcome, "activated", `${view?.failureReason}`);
      assert.equal(view?.status, "Active");
      const thing = await stack.iot.send(new DescribeThingCommand({ thingName }));
      assert.equal(thing.thingArn, view?.thingArn);
      const principals = await stack.iot.send(new ListThingPrincipalsCommand({ thingName }));
      assert.deepEqual(principals.principals, [view?.certificateArn]);
      const certificateId = view?.certificateArn?.split("/").pop() ?? "";
      const described = await stack.iot.send(new DescribeCertificateCommand({ certificateId }));
      assert.equal(described.certificateDescription?.status, "ACTIVE");
      const policies = await stack.iot.send(
        new ListAttachedPoliciesCommand({ target: view?.certificateArn ?? "" }),
      );
      assert.deepEqual(
        policies.policies?.map((p) => p.policyName),
        [POLICY_NAME],
      );
      const secret = await stack.secrets.send(
        new GetSecretValueCommand({ SecretId: view?.certificateSecretArn ?? "" }),
      );
      const payload = parseDeviceCredentials(secret.SecretString ?? null);
      assert.ok(isCompleteDeviceCredentials(payload));
      assert.equal(payload.certificateArn, view?.certificateArn);
      assert.ok(
        keyMatchesCertificate(payload.privateKeyPem, described.certificateDescription?.certificatePem ?? ""),
      );
    });

    it("decommissions it: no thing, no certificate, no secret, and a second decommission changes nothing", async () => {
      assert.ok(deviceId, "the previous test provisioned a device");
      const view = await stack.provisioning.describeBinding(deviceId, TENANT_A);
      const listed = (await stack.iot.send(new ListCertificatesCommand({}))).certificates ?? [];
      assert.equal(listed.length, 1, "the device's one certificate");

      assert.equal(await stack.provisioning.decommission(deviceId), "decommissioned");

      assert.ok(await notFound(stack.iot.send(new DescribeThingCommand({ thingName }))), "thing deleted");
      for (const { certificateId } of listed) {
        assert.ok(
          await notFound(stack.iot.send(new DescribeCertificateCommand({ certificateId }))),
          "certificate deleted",
        );
      }
      assert.deepEqual((await stack.iot.send(new ListCertificatesCommand({}))).certificates ?? [], []);
      assert.ok(
        await notFound(
          stack.secrets.send(new GetSecretValueCommand({ SecretId: view?.certificateSecretArn ?? "" })),
        ),
        "secret deleted",
      );
      assert.equal(await stack.provisioning.describeBinding(deviceId, TENANT_A), null);
      assert.equal(await stack.provisioning.decommission(deviceId), "no-binding");
    });
  });
}
