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

/** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html */
export async function createThingTwiceWithSameConfigurationSucceeds({ iot }: Clients) {
  const first = await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  const second = await iot.send(
    new CreateThingCommand({ thingName: "sensor-1", attributePayload: { attributes: { floor: "2" } } }),
  );
  assert.equal(second.thingArn, first.thingArn);
  assert.equal(second.thingId, first.thingId);
  assert.match(first.thingArn ?? "", /^arn:aws:iot:[a-z0-9-]+:\d{12}:thing\/sensor-1$/);
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

/** https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateThing.html */
export async function updateThingMergesAttributesAndIncrementsVersion({ iot }: Clients) {
  await iot.send(
    new CreateThingCommand({ thingName: "t", attributePayload: { attributes: { a: "1", b: "2" } } }),
  );
  await iot.send(
    new UpdateThingCommand({
      thingName: "t",
      expectedVersion: 1,
      attributePayload: { attributes: { b: "", c: "3" }, merge: true },
    }),
  );
  const thing = await iot.send(new DescribeThingCommand({ thingName: "t" }));
  assert.deepEqual(thing.attributes, { a: "1", c: "3" });
  assert.equal(thing.version, 2);
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

export async function deleteThingStillAttachedToAPrincipalIsInvalidRequest({ iot }: Clients) {
  await iot.send(new CreateThingCommand({ thingName: "t" }));
  const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
  await iot.send(new AttachThingPrincipalCommand({ thingName: "t", principal: cert.certificateArn }));
  const error = await rejectsWith(
    iot.send(new DeleteThingCommand({ thingName: "t" })),
    InvalidRequestException,
    400,
  );
  assert.match((error as unknown as Error).message, /still attached to one or more principals/);
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

/** https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeEndpoint.html */
export async function describeEndpointAnswersAHostForEveryEndpointType({ iot }: Clients) {
  const ats = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Data-ATS" }));
  const jobs = await iot.send(new DescribeEndpointCommand({ endpointType: "iot:Jobs" }));
  assert.ok(ats.endpointAddress);
  assert.equal(jobs.endpointAddress, ats.endpointAddress);
  assert.doesNotMatch(ats.endpointAddress ?? "", /^https?:/);
  await rejectsWith(
    iot.send(new DescribeEndpointCommand({ endpointType: "iot:Nope" })),
    InvalidRequestException,
  );
}
