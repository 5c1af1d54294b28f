/** Registry things, as AWS documents them. Each function is one behaviour, driven through the SDK. */
import assert from "node:assert/strict";
import {
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteThingCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  InvalidRequestException,
  ListThingsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateThingCommand,
  VersionConflictException,
} from "@aws-sdk/client-iot";
import { type Clients, rejectsWith } from "../support/harness.ts";

/**
 * "If this call is made multiple times using the same thing name and configuration, the call will
 * succeed." https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html
 */
export async function createThingTwiceWithSameConfigurationSucceeds({ iot }: Clients) {
  const first = await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  const second = await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  assert.equal(second.thingArn, first.thingArn);
  assert.match(first.thingArn ?? "", /^arn:aws:iot:[a-z0-9-]+:\d{12}:thing\/sensor-1$/);
}

/** The repeated call succeeds on the existing thing: same thingId, version and attributes. */
export async function createThingTwiceKeepsTheExistingThing({ iot }: Clients) {
  const first = await iot.send(new CreateThingCommand({ thingName: "sensor-1" }));
  await iot.send(
    new UpdateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { a: "1" } } }),
  );
  const before = await iot.send(new DescribeThingCommand({ thingName: "sensor-1" }));
  const second = await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { a: "1" } } }),
  );
  const after = await iot.send(new DescribeThingCommand({ thingName: "sensor-1" }));
  assert.equal(second.thingId, first.thingId, "the repeated call answers the same thingId");
  assert.equal(after.thingId, first.thingId, "the thing keeps its thingId");
  assert.equal(after.version, before.version, "the thing keeps its version");
}

export async function createThingWithDifferentConfigurationIsAlreadyExists({ iot }: Clients) {
  await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  const act = iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "3" } } }),
  );
  await rejectsWith(act, ResourceAlreadyExistsException, 409);
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeThing.html */
export async function describeThingReturnsAttributesAndVersion({ iot }: Clients) {
  await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  const thing = await iot.send(new DescribeThingCommand({ thingName: "sensor-1" }));
  assert.equal(thing.thingName, "sensor-1");
  assert.equal(thing.defaultClientId, "sensor-1");
  assert.deepEqual(thing.attributes, { floor: "2" });
  assert.equal(thing.version, 1);
}

export async function describeMissingThingIsNotFound({ iot }: Clients) {
  await rejectsWith(
    iot.send(new DescribeThingCommand({ thingName: "ghost" })),
    ResourceNotFoundException,
    404,
  );
}

export async function invalidThingNameIsInvalidRequest({ iot }: Clients) {
  await rejectsWith(
    iot.send(new CreateThingCommand({ thingName: "bad name!" })),
    InvalidRequestException,
    400,
  );
}

/**
 * `merge: true` merges the attributes; "To remove an attribute, call UpdateThing with an empty
 * attribute value." https://docs.aws.amazon.com/iot/latest/apireference/API_AttributePayload.html
 */
export async function updateThingMergesAttributesAndAnEmptyValueRemovesOne({ iot }: Clients) {
  await iot.send(
    new CreateThingCommand({ thingName: "t", attributePayload: { attributes: { a: "1", b: "2" } } }),
  );
  await iot.send(
    new UpdateThingCommand({
      thingName: "t",
      attributePayload: { attributes: { b: "", c: "3" }, merge: true },
    }),
  );
  const thing = await iot.send(new DescribeThingCommand({ thingName: "t" }));
  assert.deepEqual(thing.attributes, { a: "1", c: "3" });
}

/** The registry version of a thing is incremented by each update (it is what `expectedVersion` checks). */
export async function updateThingIncrementsTheVersion({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  await iot.send(new UpdateThingCommand({ thingName: "t", attributePayload: { attributes: { a: "1" } } }));
  const thing = await iot.send(new DescribeThingCommand({ thingName: "t" }));
  assert.equal(thing.version, 2, "version 2 after one update");
}

export async function updateThingWithStaleExpectedVersionIsVersionConflict({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  await iot.send(new UpdateThingCommand({ thingName: "t", attributePayload: { attributes: { a: "1" } } }));
  const act = iot.send(
    new UpdateThingCommand({
      thingName: "t",
      expectedVersion: 1,
      attributePayload: { attributes: { a: "2" } },
    }),
  );
  await rejectsWith(act, VersionConflictException, 409);
}

/** "Returns successfully with no error if ... you specify a thing that doesn't exist." */
export async function deleteMissingThingSucceeds({ iot }: Clients) {
  await iot.send(new DeleteThingCommand({ thingName: "ghost" }));
}

/** A thing still attached to a principal cannot be deleted (InvalidRequestException). */
export async function deleteThingStillAttachedToAPrincipalIsInvalidRequest({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const error = await rejectsWith(
    iot.send(new DeleteThingCommand({ thingName: "t" })),
    InvalidRequestException,
  );
  assert.match((error as unknown as Error).message, /still attached to one or more principals/);
  assert.equal((await iot.send(new DescribeThingCommand({ thingName: "t" }))).thingName, "t");
}

/** InvalidRequestException is documented with "HTTP Status Code: 400" (API_DeleteThing, Errors). */
export async function deleteThingStillAttachedAnswersHttp400({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({}));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  await rejectsWith(iot.send(new DeleteThingCommand({ thingName: "t" })), InvalidRequestException, 400);
}

/** A deleted thing is gone from DescribeThing and ListThings. */
export async function deleteThingRemovesItFromTheRegistry({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  await iot.send(new CreateThingCommand({ thingName: "kept" }));
  await iot.send(new DeleteThingCommand({ thingName: "t" }));
  await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException, 404);
  const listed = await iot.send(new ListThingsCommand({}));
  assert.deepEqual(
    listed.things?.map((t) => t.thingName),
    ["kept"],
  );
}

export async function deleteThingWithStaleExpectedVersionIsVersionConflict({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  await rejectsWith(
    iot.send(new DeleteThingCommand({ thingName: "t", expectedVersion: 7 })),
    VersionConflictException,
    409,
  );
  await iot.send(new DeleteThingCommand({ thingName: "t", expectedVersion: 1 }));
  await rejectsWith(iot.send(new DescribeThingCommand({ thingName: "t" })), ResourceNotFoundException);
}

/** https://docs.aws.amazon.com/iot/latest/apireference/API_ListThings.html */
export async function listThingsPagesAndFiltersByAttribute({ iot }: Clients) {
  for (let i = 0; i < 5; i++) {
    await iot.send(
      new CreateThingCommand({
        thingName: `t${i}`,
        attributePayload: { attributes: { site: i % 2 ? "odd" : "even" } },
      }),
    );
  }
  const first = await iot.send(new ListThingsCommand({ maxResults: 2 }));
  assert.equal(first.things?.length, 2);
  assert.ok(first.nextToken);
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await iot.send(new ListThingsCommand({ maxResults: 2, nextToken: token }));
    names.push(...(page.things ?? []).map((t) => t.thingName ?? ""));
    token = page.nextToken;
  } while (token);
  assert.deepEqual(names.sort(), ["t0", "t1", "t2", "t3", "t4"]);
  const even = await iot.send(new ListThingsCommand({ attributeName: "site", attributeValue: "even" }));
  assert.deepEqual(
    even.things?.map((t) => t.thingName),
    ["t0", "t2", "t4"],
  );
}

/**
 * Every endpoint type answers a host name (no scheme); an unknown type is InvalidRequestException.
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html
 */
export async function describeEndpointAnswersAHostForEveryEndpointType({ iot }: Clients) {
  for (const endpointType of ["iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs"]) {
    const { endpointAddress } = await iot.send(new DescribeEndpointCommand({ endpointType }));
    assert.ok(endpointAddress, endpointType);
    assert.doesNotMatch(endpointAddress, /^https?:|\//, endpointType);
  }
  await rejectsWith(
    iot.send(new DescribeEndpointCommand({ endpointType: "iot:Nope" })),
    InvalidRequestException,
  );
}

/** "Returns or creates a unique endpoint specific to the Amazon Web Services account making the call." */
export async function describeEndpointAnswersTheSameAddressOnEveryCall({ iot }: Clients) {
  const first = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
  const second = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
  assert.equal(second.endpointAddress, first.endpointAddress, "the same endpoint address on every call");
}
