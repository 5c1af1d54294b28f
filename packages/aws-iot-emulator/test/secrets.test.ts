import { test } from "node:test";
import * as s from "./scenarios/secrets.ts";
import { run } from "./support/harness.ts";

test(
  "CreateSecret replayed with the same token and value is a no-op with the same ARN and VersionId",
  run(s.createSecretReplayedWithTheSameTokenAndValueIsANoOp),
);
test(
  "CreateSecret replayed with the same token and another value is ResourceExistsException",
  run(s.createSecretReplayedWithTheSameTokenAndAnotherValueIsResourceExists),
);
test(
  "CreateSecret with an existing name and another token is ResourceExistsException",
  run(s.createSecretWithAnExistingNameAndAnotherTokenIsResourceExists),
);
test(
  "a secret scheduled for deletion refuses reads and shows its DeletedDate",
  run(s.aSecretScheduledForDeletionRefusesReadsAndShowsItsDeletedDate),
);
test(
  "CreateSecret with a name scheduled for deletion is InvalidRequestException",
  run(s.createSecretWithANameScheduledForDeletionIsInvalidRequest),
);
test(
  "a secret name scheduled for deletion is blocked until the recovery window ends",
  run(s.aNameScheduledForDeletionIsBlockedUntilTheWindowEnds),
);
test("RestoreSecret cancels a scheduled deletion", run(s.restoreSecretCancelsAScheduledDeletion));
test(
  "GetSecretValue finds the secret by name, full ARN or partial ARN",
  run(s.getSecretValueFindsTheSecretByNameOrArn),
);
test("binary secrets round-trip", run(s.binarySecretsRoundTrip));
test(
  "PutSecretValue moves AWSCURRENT to the new version and AWSPREVIOUS to the old one",
  run(s.putSecretValueMovesTheStagingLabels),
);
test(
  "PutSecretValue replayed is idempotent, but not with another value",
  run(s.putSecretValueReplayedIsIdempotentButNotWithAnotherValue),
);
test(
  "ForceDeleteWithoutRecovery removes the secret at once and tolerates missing secrets",
  run(s.forceDeleteRemovesTheSecretAtOnceAndToleratesMissingOnes),
);
test(
  "a recovery window outside 7-30 days is InvalidParameterException",
  run(s.aRecoveryWindowOutside7To30DaysIsInvalidParameter),
);
test(
  "ListSecrets hides secrets scheduled for deletion unless IncludePlannedDeletion",
  run(s.listSecretsHidesScheduledDeletionsUnlessAsked),
);
test(
  "a device key secret is created, read, rotated and force-deleted, as the provisioning saga does it",
  run(s.aDeviceKeySecretIsCreatedReadRotatedAndForceDeleted),
);
