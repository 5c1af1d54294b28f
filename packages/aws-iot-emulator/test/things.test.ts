import assert from "node:assert/strict";
import { test } from "node:test";
import { DescribeEndpointCommand } from "@aws-sdk/client-iot";
import * as s from "./scenarios/things.ts";
import { run, withEmulator } from "./support/harness.ts";

test(
  "CreateThing twice with the same configuration succeeds with the same thing",
  run(s.createThingTwiceWithSameConfigurationSucceeds),
);
test(
  "CreateThing twice keeps the existing thing (same thingId and version)",
  run(s.createThingTwiceKeepsTheExistingThing),
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
  "UpdateThing merges attributes and an empty value removes one",
  run(s.updateThingMergesAttributesAndAnEmptyValueRemovesOne),
);
test("UpdateThing increments the thing's version", run(s.updateThingIncrementsTheVersion));
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
  "DeleteThing of a thing still attached to a principal answers HTTP 400",
  run(s.deleteThingStillAttachedAnswersHttp400),
);
test(
  "DeleteThing removes the thing from DescribeThing and ListThings",
  run(s.deleteThingRemovesItFromTheRegistry),
);
test(
  "DeleteThing with a stale expectedVersion is VersionConflictException",
  run(s.deleteThingWithStaleExpectedVersionIsVersionConflict),
);
test("ListThings pages with nextToken and filters by attribute", run(s.listThingsPagesAndFiltersByAttribute));
test(
  "DescribeEndpoint answers a host for every endpoint type and rejects unknown types",
  run(s.describeEndpointAnswersAHostForEveryEndpointType),
);
test(
  "DescribeEndpoint answers the same address on every call",
  run(s.describeEndpointAnswersTheSameAddressOnEveryCall),
);

test("DescribeEndpoint answers the emulator's own host:port for every endpoint type", () =>
  withEmulator(async ({ emulator, clients: { iot } }) => {
    // Act
    const ats = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
    const jobs = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Jobs" }));
    // Assess
    assert.equal(ats.endpointAddress, emulator.url.replace(/^http:\/\//, ""));
    assert.equal(jobs.endpointAddress, ats.endpointAddress);
  }));
