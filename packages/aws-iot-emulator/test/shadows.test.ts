import { test } from "node:test";
import * as s from "./scenarios/shadows.ts";
import { run } from "./support/harness.ts";

test(
  "UpdateThingShadow merges at every level and a null value deletes the key",
  run(s.updateMergesAtEveryLevelAndNullDeletesAKey),
);
test("desired: null removes the desired section", run(s.desiredNullRemovesTheSection));
test(
  "every accepted update increments the version, reported-only ones included",
  run(s.everyAcceptedUpdateIncrementsTheVersion),
);
test("an update with a stale version is ConflictException (409)", run(s.aStaleVersionIsConflict));
test(
  "the delta holds only differing leaf paths and compares arrays as whole values",
  run(s.deltaHoldsOnlyDifferingLeavesAndWholeArrays),
);
test(
  "metadata has a timestamp per leaf and an update echoes only the leaves it wrote",
  run(s.metadataHasATimestampPerLeafAndUpdatesEchoOnlyTheWrittenLeaves),
);
test(
  "metadata stamps each leaf with the epoch seconds of its last update",
  run(s.metadataStampsEachLeafWithItsUpdateTime),
);
test(
  "a merged desired+reported state over 8 KB is RequestEntityTooLargeException (413)",
  run(s.theMergedStateOver8KbIsRequestEntityTooLarge),
);
test(
  "nesting deeper than 6 levels is InvalidRequestException",
  run(s.nestingDeeperThanSixLevelsIsInvalidRequest),
);
test(
  "a payload that is not a state document is InvalidRequestException",
  run(s.aPayloadThatIsNotAStateDocumentIsInvalidRequest),
);
test("null inside an array is InvalidRequestException", run(s.nullInsideAnArrayIsInvalidRequest));
test("the clientToken of an update is echoed in the response", run(s.theClientTokenIsEchoed));
test(
  "GetThingShadow of a missing or deleted shadow is ResourceNotFoundException",
  run(s.getOfAMissingOrDeletedShadowIsNotFound),
);
test(
  "DeleteThingShadow of a deleted shadow is ResourceNotFoundException",
  run(s.deleteOfADeletedShadowIsNotFound),
);
test(
  "DeleteThingShadow answers the version of the deleted document",
  run(s.deleteAnswersTheVersionOfTheDeletedDocument),
);
test("a re-created shadow continues the version", run(s.aRecreatedShadowContinuesTheVersion));
test(
  "a shadow re-created within 48 hours follows the deleted version",
  run(s.aShadowRecreatedWithin48HoursFollowsTheDeletedVersion),
);
test(
  "a shadow re-created after 48 hours starts over at version 1",
  run(s.aShadowRecreatedAfter48HoursStartsOver),
);
test("a shadow outlives its registry thing", run(s.aShadowOutlivesItsRegistryThing));
test(
  "the bridge's shadow sync round trip: reported, desired, delta, version",
  run(s.theBridgeShadowSyncRoundTrip),
);
test(
  "named shadows are separate documents listed by ListNamedShadowsForThing",
  run(s.namedShadowsAreSeparateAndListed),
);
