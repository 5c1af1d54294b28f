import { test } from "node:test";
import * as s from "./scenarios/things.ts";
import { run } from "./support/harness.ts";

test(
  "CreateThing twice with the same configuration succeeds with the same thing",
  run(s.createThingTwiceWithSameConfigurationSucceeds),
);
test(
  "CreateThing with a different configuration is ResourceAlreadyExistsException",
  run(s.createThingWithDifferentConfigurationIsAlreadyExists),
);
test(
  "DescribeThing returns attributes, default client id and version",
  run(s.describeThingReturnsAttributesAndVersion),
);
test("DescribeThing of a missing thing is ResourceNotFoundException", run(s.describeMissingThingIsNotFound));
test(
  "a thing name outside [a-zA-Z0-9:_-] is InvalidRequestException",
  run(s.invalidThingNameIsInvalidRequest),
);
test(
  "UpdateThing merges attributes, drops empty ones and increments the version",
  run(s.updateThingMergesAttributesAndIncrementsVersion),
);
test(
  "UpdateThing with a stale expectedVersion is VersionConflictException",
  run(s.updateThingWithStaleExpectedVersionIsVersionConflict),
);
test("DeleteThing of a missing thing succeeds", run(s.deleteMissingThingSucceeds));
test(
  "DeleteThing of a thing still attached to a principal is InvalidRequestException",
  run(s.deleteThingStillAttachedToAPrincipalIsInvalidRequest),
);
test(
  "DeleteThing with a stale expectedVersion is VersionConflictException",
  run(s.deleteThingWithStaleExpectedVersionIsVersionConflict),
);
test("ListThings pages with nextToken and filters by attribute", run(s.listThingsPagesAndFiltersByAttribute));
test(
  "DescribeEndpoint answers the emulator's host for every endpoint type",
  run(s.describeEndpointAnswersAHostForEveryEndpointType),
);
