/**
 * Secrets Manager, as AWS documents it:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
 */
import assert from "node:assert/strict";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { type Clients, rejectsWith, type TimeControl } from "../support/harness.ts";

const TOKEN_A = "11111111-1111-4111-8111-111111111111";
const TOKEN_B = "22222222-2222-4222-8222-222222222222";
const DAY = 86_400_000;

/** Same ClientRequestToken and same value: "the request is ignored" — same ARN and VersionId. */
export async function createSecretReplayedWithTheSameTokenAndValueIsANoOp({ secrets }: Clients) {
  const first = await secrets.send(
    new CreateSecretCommand({ Name: "iot/devices/t1/key", SecretString: "K1", ClientRequestToken: TOKEN_A }),
  );
  const again = await secrets.send(
    new CreateSecretCommand({ Name: "iot/devices/t1/key", SecretString: "K1", ClientRequestToken: TOKEN_A }),
  );
  assert.equal(again.ARN, first.ARN);
  assert.equal(again.VersionId, TOKEN_A);
  assert.match(
    first.ARN ?? "",
    /^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:iot\/devices\/t1\/key-[A-Za-z0-9]{6}$/,
  );
}

/**
 * Same token, different value: "the request fails because you cannot modify an existing version" —
 * with ResourceExistsException, a declared error of CreateSecret.
 */
export async function createSecretReplayedWithTheSameTokenAndAnotherValueIsResourceExists({
  secrets,
}: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1", ClientRequestToken: TOKEN_A }));
  const act = secrets.send(
    new CreateSecretCommand({ Name: "k", SecretString: "K2", ClientRequestToken: TOKEN_A }),
  );
  const error = await rejectsWith(act, ResourceExistsException);
  assert.match((error as unknown as Error).message, /ClientRequestToken .* already in use/);
  const value = await secrets.send(new GetSecretValueCommand({ SecretId: "k" }));
  assert.equal(value.SecretString, "K1");
}

export async function createSecretWithAnExistingNameAndAnotherTokenIsResourceExists({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1", ClientRequestToken: TOKEN_A }));
  await rejectsWith(
    secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1", ClientRequestToken: TOKEN_B })),
    ResourceExistsException,
  );
}

/**
 * A secret scheduled for deletion refuses reads (InvalidRequestException: "The secret is scheduled for
 * deletion") and DescribeSecret shows when it was deleted.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
 */
export async function aSecretScheduledForDeletionRefusesReadsAndShowsItsDeletedDate({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  const deleted = await secrets.send(new DeleteSecretCommand({ SecretId: "k", RecoveryWindowInDays: 7 }));
  assert.ok(deleted.DeletionDate instanceof Date);
  await rejectsWith(secrets.send(new GetSecretValueCommand({ SecretId: "k" })), InvalidRequestException);
  const described = await secrets.send(new DescribeSecretCommand({ SecretId: "k" }));
  assert.ok(described.DeletedDate instanceof Date);
}

/** CreateSecret with the name of a secret scheduled for deletion is InvalidRequestException. */
export async function createSecretWithANameScheduledForDeletionIsInvalidRequest({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  await secrets.send(new DeleteSecretCommand({ SecretId: "k", RecoveryWindowInDays: 7 }));
  const error = await rejectsWith(
    secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K2" })),
    InvalidRequestException,
  );
  assert.match((error as unknown as Error).message, /scheduled for deletion/);
}

/** A name scheduled for deletion stays blocked until the recovery window ends. */
export async function aNameScheduledForDeletionIsBlockedUntilTheWindowEnds(
  { secrets }: Clients,
  time: TimeControl,
) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  const deleted = await secrets.send(new DeleteSecretCommand({ SecretId: "k", RecoveryWindowInDays: 7 }));
  const described = await secrets.send(new DescribeSecretCommand({ SecretId: "k" }));
  assert.equal(described.DeletedDate?.getTime(), deleted.DeletionDate?.getTime());
  time.advance(7 * DAY - 1000);
  await rejectsWith(
    secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K2" })),
    InvalidRequestException,
  );
  time.advance(1001);
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K2" }));
  assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: "k" }))).SecretString, "K2");
}

export async function restoreSecretCancelsAScheduledDeletion({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  await secrets.send(new DeleteSecretCommand({ SecretId: "k" }));
  await secrets.send(new RestoreSecretCommand({ SecretId: "k" }));
  assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: "k" }))).SecretString, "K1");
}

/** GetSecretValue by name, full ARN or partial ARN; AWSCURRENT by default. */
export async function getSecretValueFindsTheSecretByNameOrArn({ secrets }: Clients) {
  const created = await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  const arn = created.ARN ?? "";
  for (const id of ["k", arn, arn.slice(0, -7)]) {
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: id }));
    assert.equal(value.SecretString, "K1");
    assert.deepEqual(value.VersionStages, ["AWSCURRENT"]);
    assert.equal(value.ARN, arn);
  }
  await rejectsWith(
    secrets.send(new GetSecretValueCommand({ SecretId: "ghost" })),
    ResourceNotFoundException,
  );
}

export async function binarySecretsRoundTrip({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "bin", SecretBinary: new Uint8Array([1, 2, 250]) }));
  const value = await secrets.send(new GetSecretValueCommand({ SecretId: "bin" }));
  assert.deepEqual([...(value.SecretBinary ?? [])], [1, 2, 250]);
}

/** PutSecretValue moves AWSCURRENT to the new version and AWSPREVIOUS to the old one. */
export async function putSecretValueMovesTheStagingLabels({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "v1", ClientRequestToken: TOKEN_A }));
  const put = await secrets.send(
    new PutSecretValueCommand({ SecretId: "k", SecretString: "v2", ClientRequestToken: TOKEN_B }),
  );
  assert.deepEqual(put.VersionStages, ["AWSCURRENT"]);
  const current = await secrets.send(new GetSecretValueCommand({ SecretId: "k" }));
  const previous = await secrets.send(
    new GetSecretValueCommand({ SecretId: "k", VersionStage: "AWSPREVIOUS" }),
  );
  assert.equal(current.SecretString, "v2");
  assert.equal(previous.SecretString, "v1");
  const described = await secrets.send(new DescribeSecretCommand({ SecretId: "k" }));
  assert.deepEqual(described.VersionIdsToStages, { [TOKEN_A]: ["AWSPREVIOUS"], [TOKEN_B]: ["AWSCURRENT"] });
}

export async function putSecretValueReplayedIsIdempotentButNotWithAnotherValue({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "v1", ClientRequestToken: TOKEN_A }));
  await secrets.send(
    new PutSecretValueCommand({ SecretId: "k", SecretString: "v2", ClientRequestToken: TOKEN_B }),
  );
  const replay = await secrets.send(
    new PutSecretValueCommand({ SecretId: "k", SecretString: "v2", ClientRequestToken: TOKEN_B }),
  );
  assert.equal(replay.VersionId, TOKEN_B);
  const act = secrets.send(
    new PutSecretValueCommand({ SecretId: "k", SecretString: "v3", ClientRequestToken: TOKEN_B }),
  );
  await rejectsWith(act, ResourceExistsException);
  assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: "k" }))).SecretString, "v2");
}

/**
 * What the provisioning saga does with a device key: create it under the binding's token, read it,
 * rotate it with PutSecretValue, and force-delete it at decommission.
 */
export async function aDeviceKeySecretIsCreatedReadRotatedAndForceDeleted({ secrets }: Clients) {
  const created = await secrets.send(
    new CreateSecretCommand({
      Name: "iot/devices/t1/key",
      SecretString: "PEM-1",
      ClientRequestToken: TOKEN_A,
    }),
  );
  assert.equal(created.VersionId, TOKEN_A);
  assert.equal(created.Name, "iot/devices/t1/key");
  const read = await secrets.send(new GetSecretValueCommand({ SecretId: created.ARN }));
  assert.equal(read.SecretString, "PEM-1");
  assert.equal(read.VersionId, TOKEN_A);
  await secrets.send(
    new PutSecretValueCommand({ SecretId: created.ARN, SecretString: "PEM-2", ClientRequestToken: TOKEN_B }),
  );
  const rotated = await secrets.send(new GetSecretValueCommand({ SecretId: "iot/devices/t1/key" }));
  assert.equal(rotated.SecretString, "PEM-2");
  assert.equal(rotated.VersionId, TOKEN_B);
  const deleted = await secrets.send(
    new DeleteSecretCommand({ SecretId: created.ARN, ForceDeleteWithoutRecovery: true }),
  );
  assert.equal(deleted.ARN, created.ARN);
  await rejectsWith(
    secrets.send(new GetSecretValueCommand({ SecretId: "iot/devices/t1/key" })),
    ResourceNotFoundException,
  );
}

/** "If you forcibly delete an already deleted or nonexistent secret, the operation does not return ResourceNotFoundException." */
export async function forceDeleteRemovesTheSecretAtOnceAndToleratesMissingOnes({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  await secrets.send(new DeleteSecretCommand({ SecretId: "k", ForceDeleteWithoutRecovery: true }));
  await rejectsWith(secrets.send(new DescribeSecretCommand({ SecretId: "k" })), ResourceNotFoundException);
  await secrets.send(new DeleteSecretCommand({ SecretId: "k", ForceDeleteWithoutRecovery: true }));
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K2" }));
  await rejectsWith(secrets.send(new DeleteSecretCommand({ SecretId: "ghost" })), ResourceNotFoundException);
}

export async function aRecoveryWindowOutside7To30DaysIsInvalidParameter({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "k", SecretString: "K1" }));
  await rejectsWith(
    secrets.send(new DeleteSecretCommand({ SecretId: "k", RecoveryWindowInDays: 3 })),
    InvalidParameterException,
  );
  const both = secrets.send(
    new DeleteSecretCommand({ SecretId: "k", RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true }),
  );
  await rejectsWith(both, InvalidParameterException);
}

/** ListSecrets leaves out secrets scheduled for deletion unless IncludePlannedDeletion. */
export async function listSecretsHidesScheduledDeletionsUnlessAsked({ secrets }: Clients) {
  await secrets.send(new CreateSecretCommand({ Name: "a", SecretString: "1" }));
  await secrets.send(new CreateSecretCommand({ Name: "b", SecretString: "2" }));
  await secrets.send(new DeleteSecretCommand({ SecretId: "b" }));
  const visible = await secrets.send(new ListSecretsCommand({}));
  assert.deepEqual(
    visible.SecretList?.map((s) => s.Name),
    ["a"],
  );
  const all = await secrets.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
  assert.deepEqual(
    all.SecretList?.map((s) => s.Name),
    ["a", "b"],
  );
  const filtered = await secrets.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["a"] }] }));
  assert.deepEqual(
    filtered.SecretList?.map((s) => s.Name),
    ["a"],
  );
}
