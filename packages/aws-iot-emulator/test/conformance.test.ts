/**
 * Conformance: every scenario of test/scenarios/*.ts runs against the emulator (it must pass) and
 * against moto (`moto_server`, one process for this file, reset before each scenario).
 *
 * Where moto follows AWS's documented behaviour, the moto run must pass too. Where it does not, the
 * scenario is listed in MOTO_DEVIATIONS with the AWS documentation it departs from, and the test
 * asserts that moto really fails it, with the recorded symptom — so when a moto release starts to
 * agree, this file says which entry (and which README row) to remove. Scenarios that move the
 * injected clock (NEEDS_CLOCK) run on the emulator only: moto runs on wall-clock time.
 *
 * Without `moto_server` on PATH every moto test is skipped with
 * "moto_server not found on PATH: conformance against moto skipped".
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { CreateThingCommand } from "@aws-sdk/client-iot";
import { type Clients, createClients, destroyClients, withEmulator } from "./support/harness.ts";
import {
  allScenarios,
  findMotoServer,
  MOTO_NOT_FOUND,
  type MotoServer,
  type NamedScenario,
  startMotoServer,
  wallClockOnly,
} from "./support/moto.ts";

/** One place where moto 5.2.1 departs from AWS's documented behaviour (the emulator follows AWS). */
interface Deviation {
  readonly moto: "differs";
  /** The documented AWS behaviour, as the README table's first column states it. */
  readonly behaviour: string;
  /** The AWS documentation page that states it. */
  readonly awsDoc: string;
  /** What moto does instead. */
  readonly what: string;
  /** Matches `name: message` of the error the scenario fails with on moto. */
  readonly symptom: RegExp;
}

const IOT_API = "https://docs.aws.amazon.com/iot/latest/apireference";
const IOT_GUIDE = "https://docs.aws.amazon.com/iot/latest/developerguide";
const SECRETS_API = "https://docs.aws.amazon.com/secretsmanager/latest/apireference";
const NOT_REJECTED = /expected the call to fail/;
/** moto 5.2.1 routes no `iot-jobs-data` service: its server answers an HTML error page. */
const NO_JOBS_DATA_PLANE = /is not valid JSON/;
const JOBS_DATA_PLANE_WHAT = "no IoT Jobs data plane: every call answers an HTML 500 page";

const MOTO_DEVIATIONS: Readonly<Record<string, Deviation>> = {
  "things.createThingTwiceKeepsTheExistingThing": {
    moto: "differs",
    behaviour: "CreateThing repeated with the same configuration succeeds on the existing thing",
    awsDoc: `${IOT_API}/API_CreateThing.html`,
    what: "replaces the thing: a new thingId, the version back to 1",
    symptom: /the repeated call answers the same thingId/,
  },
  "things.createThingWithDifferentConfigurationIsAlreadyExists": {
    moto: "differs",
    behaviour: "CreateThing of an existing name with another configuration is ResourceAlreadyExistsException",
    awsDoc: `${IOT_API}/API_CreateThing.html`,
    what: "succeeds and overwrites the thing",
    symptom: NOT_REJECTED,
  },
  "things.invalidThingNameIsInvalidRequest": {
    moto: "differs",
    behaviour: "a thing name outside `[a-zA-Z0-9:_-]+` is rejected",
    awsDoc: `${IOT_API}/API_CreateThing.html`,
    what: "accepts any name",
    symptom: NOT_REJECTED,
  },
  "things.updateThingIncrementsTheVersion": {
    moto: "differs",
    behaviour: "UpdateThing increments the thing's version",
    awsDoc: `${IOT_API}/API_UpdateThing.html`,
    what: "the version stays 1",
    symptom: /version 2 after one update/,
  },
  "things.updateThingWithStaleExpectedVersionIsVersionConflict": {
    moto: "differs",
    behaviour: "UpdateThing with a stale expectedVersion is VersionConflictException",
    awsDoc: `${IOT_API}/API_UpdateThing.html`,
    what: "ignores expectedVersion",
    symptom: NOT_REJECTED,
  },
  "things.deleteMissingThingSucceeds": {
    moto: "differs",
    behaviour: "DeleteThing of a thing that doesn't exist succeeds",
    awsDoc: `${IOT_API}/API_DeleteThing.html`,
    what: "ResourceNotFoundException (404)",
    symptom: /^ResourceNotFoundException/,
  },
  "things.deleteThingStillAttachedAnswersHttp400": {
    moto: "differs",
    behaviour: "DeleteThing of a thing still attached to a principal: InvalidRequestException with HTTP 400",
    awsDoc: `${IOT_API}/API_DeleteThing.html`,
    what: "same exception and message, HTTP 409",
    symptom: /expected HTTP 400 for InvalidRequestException, got 409/,
  },
  "things.deleteThingWithStaleExpectedVersionIsVersionConflict": {
    moto: "differs",
    behaviour: "DeleteThing with a stale expectedVersion is VersionConflictException",
    awsDoc: `${IOT_API}/API_DeleteThing.html`,
    what: "ignores expectedVersion and deletes",
    symptom: NOT_REJECTED,
  },
  "things.describeEndpointAnswersTheSameAddressOnEveryCall": {
    moto: "differs",
    behaviour: "DescribeEndpoint answers the account's one endpoint for a type on every call",
    awsDoc: `${IOT_API}/API_DescribeEndpoint.html`,
    what: "a new random host name on every call",
    symptom: /the same endpoint address on every call/,
  },
  "certificates.createCertificateFromCsrCertifiesTheCsrKey": {
    moto: "differs",
    behaviour: "CreateCertificateFromCsr certifies the public key of the CSR",
    awsDoc: `${IOT_API}/API_CreateCertificateFromCsr.html`,
    what: "certifies a freshly generated RSA key (only the subject is taken from the CSR)",
    symptom: /the certificate carries the CSR's public key/,
  },
  "certificates.createCertificateFromCsrRejectsATamperedCsr": {
    moto: "differs",
    behaviour:
      "CreateCertificateFromCsr rejects a CSR whose signature does not verify (InvalidRequestException)",
    awsDoc: `${IOT_API}/API_CreateCertificateFromCsr.html`,
    what: "accepts it (and answers an HTML 500 page for text that is not a CSR)",
    symptom: NOT_REJECTED,
  },
  "certificates.createCertificateFromCsrRejectsRsaKeysUnder2048Bits": {
    moto: "differs",
    behaviour: "CreateCertificateFromCsr accepts RSA keys of at least 2048 bits, or EC P-256/P-384/P-521",
    awsDoc: `${IOT_API}/API_CreateCertificateFromCsr.html`,
    what: "accepts an RSA-1024 CSR",
    symptom: NOT_REJECTED,
  },
  "certificates.aRevokedCertificateCannotBeReactivated": {
    moto: "differs",
    behaviour: "a REVOKED certificate cannot be set ACTIVE again (CertificateStateException)",
    awsDoc: `${IOT_API}/API_UpdateCertificate.html`,
    what: "sets any status",
    symptom: NOT_REJECTED,
  },
  "certificates.aForceDeletedCertificateNoLongerHoldsItsPolicies": {
    moto: "differs",
    behaviour: "a policy can be deleted once the certificate it was attached to is force-deleted",
    awsDoc: `${IOT_API}/API_DeletePolicy.html`,
    what: "keeps the attachment of the deleted certificate: DeletePolicy stays DeleteConflictException",
    symptom: /^DeleteConflictException: The policy cannot be deleted/,
  },
  "certificates.listCertificatesPagesWithPageSizeAndMarker": {
    moto: "differs",
    behaviour: "ListCertificates pages with pageSize and nextMarker",
    awsDoc: `${IOT_API}/API_ListCertificates.html`,
    what: "ignores pageSize: one page with every certificate",
    symptom: /a page holds at most pageSize certificates/,
  },
  "certificates.listCertificatesOrdersByCreationDate": {
    moto: "differs",
    behaviour: "ListCertificates is ordered by creation date, newest first unless ascendingOrder",
    awsDoc: `${IOT_API}/API_ListCertificates.html`,
    what: "always oldest first",
    symptom: /newest first unless ascendingOrder/,
  },
  "certificates.createPolicyWithInvalidJsonIsMalformedPolicy": {
    moto: "differs",
    behaviour: "CreatePolicy with a document that is not a valid policy is MalformedPolicyException",
    awsDoc: `${IOT_API}/API_CreatePolicy.html`,
    what: "stores any string",
    symptom: NOT_REJECTED,
  },
  "principals.detachThingPrincipalDoesNotTakeEffectAtOnce": {
    moto: "differs",
    behaviour:
      'DetachThingPrincipal is asynchronous: "It might take several seconds for the detachment to propagate"',
    awsDoc: `${IOT_API}/API_DetachThingPrincipal.html`,
    what: "detaches at once (callers that forget to retry DeleteCertificate/DeleteThing pass on moto and fail on AWS)",
    symptom: /still attached right after the call/,
  },
  "shadows.desiredNullRemovesTheSection": {
    moto: "differs",
    behaviour: "`desired: null` removes the desired section",
    awsDoc: `${IOT_GUIDE}/device-shadow-document.html`,
    what: "ignores it: the section stays",
    symptom: /the desired section is gone/,
  },
  "shadows.theMergedStateOver8KbIsRequestEntityTooLarge": {
    moto: "differs",
    behaviour: "a shadow state over 8 KB (desired + reported) is RequestEntityTooLargeException (413)",
    awsDoc: "https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits",
    what: "no size limit",
    symptom: NOT_REJECTED,
  },
  "shadows.nestingDeeperThanSixLevelsIsInvalidRequest": {
    moto: "differs",
    behaviour: 'more than 6 levels of nesting is InvalidRequestException ("maximum is 6")',
    awsDoc: `${IOT_GUIDE}/device-shadow-error-messages.html`,
    what: "no depth limit",
    symptom: NOT_REJECTED,
  },
  "shadows.nullInsideAnArrayIsInvalidRequest": {
    moto: "differs",
    behaviour: "`null` inside an array is InvalidRequestException",
    awsDoc: `${IOT_GUIDE}/device-shadow-document.html`,
    what: "stores it",
    symptom: NOT_REJECTED,
  },
  "shadows.theClientTokenIsEchoed": {
    moto: "differs",
    behaviour: "the clientToken of an update is echoed in the response",
    awsDoc: `${IOT_GUIDE}/device-shadow-document.html`,
    what: "drops it",
    symptom: /the response echoes the clientToken/,
  },
  "shadows.deleteOfADeletedShadowIsNotFound": {
    moto: "differs",
    behaviour: "DeleteThingShadow of a shadow that is already deleted is ResourceNotFoundException",
    awsDoc: `${IOT_API}/API_iotdata_DeleteThingShadow.html`,
    what: "succeeds again, with a new version",
    symptom: NOT_REJECTED,
  },
  "shadows.deleteAnswersTheVersionOfTheDeletedDocument": {
    moto: "differs",
    behaviour: "DeleteThingShadow answers the version of the document it deleted",
    awsDoc: "https://docs.aws.amazon.com/cli/latest/reference/iot-data/delete-thing-shadow.html",
    what: "counts the deletion as a version: answers version 3 after two updates",
    symptom: /the deleted document was version 2/,
  },
  "shadows.aShadowRecreatedWithin48HoursFollowsTheDeletedVersion": {
    moto: "differs",
    behaviour: "a shadow re-created within 48 hours takes the version after the deleted one",
    awsDoc: `${IOT_GUIDE}/device-shadow-data-flow.html`,
    what: "skips one (the deletion took a version): 4 instead of 3",
    symptom: /follows the deleted version 2/,
  },
  "shadows.aShadowOutlivesItsRegistryThing": {
    moto: "differs",
    behaviour: "shadows are independent of registry things: deleting a thing does not delete its shadow",
    awsDoc: `${IOT_GUIDE}/device-shadow-data-flow.html`,
    what: "keeps shadows on the thing: every shadow call on an unregistered thing is ResourceNotFoundException, and DeleteThing drops the shadows",
    symptom: /^ResourceNotFoundException/,
  },
  "secrets.createSecretWithANameScheduledForDeletionIsInvalidRequest": {
    moto: "differs",
    behaviour: "CreateSecret with the name of a secret scheduled for deletion is InvalidRequestException",
    awsDoc: `${SECRETS_API}/API_CreateSecret.html`,
    what: "ResourceExistsException",
    symptom: /expected InvalidRequestException, got ResourceExistsException/,
  },
  "jobs.aNewJobIsInProgressAndCountsItsQueuedThings": {
    moto: "differs",
    behaviour:
      "a new job is IN_PROGRESS and counts one queued thing per target; a new execution is version 1",
    awsDoc: `${IOT_API}/API_Job.html`,
    what: "status QUEUED, numberOfQueuedThings always 1, executionNumber and versionNumber always 123",
    symptom: /a new job is IN_PROGRESS/,
  },
  "jobs.aDuplicateJobIdIsAlreadyExistsWhateverTheOldJobState": {
    moto: "differs",
    behaviour: "CreateJob with a jobId already used in the account is ResourceAlreadyExistsException",
    awsDoc: `${IOT_API}/API_CreateJob.html`,
    what: "replaces the job",
    symptom: NOT_REJECTED,
  },
  "jobs.createJobForAMissingThingIsNotFound": {
    moto: "differs",
    behaviour: "CreateJob targeting a thing that does not exist is ResourceNotFoundException",
    awsDoc: `${IOT_API}/API_CreateJob.html`,
    what: "accepts any target ARN",
    symptom: NOT_REJECTED,
  },
  "jobs.cancelJobCancelsTheQueuedExecutions": {
    moto: "differs",
    behaviour: "CancelJob cancels the job's QUEUED executions",
    awsDoc: `${IOT_GUIDE}/iot-jobs-lifecycle.html`,
    what: "marks only the job CANCELED; its executions stay QUEUED",
    symptom: /the queued execution is CANCELED/,
  },
  "jobs.deleteJobInProgressNeedsForce": {
    moto: "differs",
    behaviour: "DeleteJob of an IN_PROGRESS job needs force (InvalidStateTransitionException)",
    awsDoc: `${IOT_API}/API_DeleteJob.html`,
    what: "deletes it (moto's jobs are never IN_PROGRESS)",
    symptom: NOT_REJECTED,
  },
  "jobs.aJobForAThingGroupReachesItsMemberThings": {
    moto: "differs",
    behaviour: "a job targeting a thing group gets one execution per member thing",
    awsDoc: `${IOT_API}/API_CreateJob.html`,
    what: "one execution named after the group, none for its things",
    symptom: /one execution per member thing/,
  },
  "jobs.aDeviceRunsTheJobAndTheJobCompletes": {
    moto: "differs",
    behaviour: "devices run jobs through the IoT Jobs data plane (StartNext, UpdateJobExecution)",
    awsDoc: `${IOT_API}/API_Operations_AWS_IoT_Jobs_Data_Plane.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
  "jobs.startNextWithNothingPendingAnswersNoExecution": {
    moto: "differs",
    behaviour: "StartNextPendingJobExecution with nothing pending answers no execution",
    awsDoc: `${IOT_API}/API_iot-jobs-data_StartNextPendingJobExecution.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
  "jobs.updateJobExecutionWithAStaleExpectedVersionIsVersionConflict": {
    moto: "differs",
    behaviour: "UpdateJobExecution with a stale expectedVersion is rejected",
    awsDoc: `${IOT_API}/API_iot-jobs-data_UpdateJobExecution.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
  "jobs.aTerminalExecutionCannotBeUpdated": {
    moto: "differs",
    behaviour: "a terminal job execution cannot be updated (InvalidStateTransitionException)",
    awsDoc: `${IOT_API}/API_iot-jobs-data_UpdateJobExecution.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
  "jobs.cancelJobCancelsQueuedExecutionsAndInProgressOnlyWithForce": {
    moto: "differs",
    behaviour: "CancelJob cancels IN_PROGRESS executions only with force",
    awsDoc: `${IOT_API}/API_CancelJob.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
  "jobs.groupTargetsReachMembersAndContinuousJobsReachNewOnes": {
    moto: "differs",
    behaviour: "a CONTINUOUS job reaches things added to its target group later",
    awsDoc: `${IOT_API}/API_CreateJob.html`,
    what: JOBS_DATA_PLANE_WHAT,
    symptom: NO_JOBS_DATA_PLANE,
  },
};

/** Scenarios that move the injected clock: emulator only (moto runs on wall-clock time). */
const NEEDS_CLOCK: Readonly<Record<string, string>> = {
  "principals.detachThingPrincipalTakesEffectAfterPropagation": "waits out the detach propagation",
  "principals.reattachingDuringPropagationCancelsTheDetach": "waits out the detach propagation",
  "shadows.metadataStampsEachLeafWithItsUpdateTime": "compares timestamps 10 s apart",
  "shadows.aShadowRecreatedAfter48HoursStartsOver": "waits 49 hours",
  "secrets.aNameScheduledForDeletionIsBlockedUntilTheWindowEnds": "waits out a 7-day recovery window",
  "jobs.pendingExecutionsAreListedAndNextIsTheOldest": "orders jobs queued 1 s apart (jobs data plane)",
  "jobs.anExecutionInProgressTooLongTimesOut": "waits out a 10-minute timeout (jobs data plane)",
};

/**
 * Set-up both backends run before an area's scenarios. moto keeps shadows on registry things (see
 * `shadows.aShadowOutlivesItsRegistryThing`), so the shadow scenarios register their thing first; the
 * emulator does not need it, and it changes nothing there.
 */
const PREPARE: Partial<Record<NamedScenario["area"], (clients: Clients) => Promise<void>>> = {
  shadows: async ({ iot }) => {
    await iot.send(new CreateThingCommand({ thingName: "lamp" }));
  },
};

const SCENARIOS = allScenarios();
const MOTO_SKIP = findMotoServer() ? false : MOTO_NOT_FOUND;

async function runScenario(
  scenario: NamedScenario,
  clients: Clients,
  time: Parameters<NamedScenario["run"]>[1],
) {
  await PREPARE[scenario.area]?.(clients);
  await scenario.run(clients, time);
}

describe("conformance: the emulator passes every scenario", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.area}: ${scenario.title}`, () =>
      withEmulator(({ clients, clock }) => runScenario(scenario, clients, clock)));
  }
});

describe("conformance: moto 5.2.1 agrees with AWS, except where MOTO_DEVIATIONS records it", () => {
  let moto: MotoServer | undefined;
  let clients: Clients | undefined;

  before(async () => {
    if (MOTO_SKIP) return;
    moto = await startMotoServer();
    clients = createClients(moto.clientConfig());
  });

  after(async () => {
    if (clients) destroyClients(clients);
    await moto?.stop();
  });

  async function onMoto(scenario: NamedScenario): Promise<void> {
    assert.ok(moto && clients, "moto is running");
    await moto.reset();
    await runScenario(scenario, clients, wallClockOnly);
  }

  for (const scenario of SCENARIOS) {
    const deviation = MOTO_DEVIATIONS[scenario.key];
    const clock = NEEDS_CLOCK[scenario.key];
    if (clock) {
      it(`${scenario.area}: ${scenario.title} (emulator only)`, {
        skip: `needs the injected clock (${clock}); moto runs on wall-clock time`,
      }, () => {});
    } else if (deviation) {
      it(`${scenario.area}: moto differs from AWS: ${deviation.behaviour}`, { skip: MOTO_SKIP }, async () => {
        const outcome = await onMoto(scenario).then(
          () => undefined,
          (error: Error) => error,
        );
        assert.ok(
          outcome,
          `moto now agrees with AWS on "${deviation.behaviour}" (${scenario.key}): ` +
            "remove the entry from MOTO_DEVIATIONS and its row from the README table",
        );
        const symptom = `${outcome.name}: ${outcome.message}`;
        assert.match(
          symptom,
          deviation.symptom,
          `${scenario.key} fails on moto, but not as recorded (${deviation.what}): ${symptom}`,
        );
      });
    } else {
      it(`${scenario.area}: moto agrees: ${scenario.title}`, { skip: MOTO_SKIP }, () => onMoto(scenario));
    }
  }
});

describe("the conformance tables", () => {
  const keys = new Set(SCENARIOS.map((s) => s.key));

  it("name only scenarios that exist", () => {
    const unknown = [...Object.keys(MOTO_DEVIATIONS), ...Object.keys(NEEDS_CLOCK)].filter(
      (k) => !keys.has(k),
    );
    assert.deepEqual(unknown, []);
  });

  it("never list a scenario both as a moto deviation and as needing the clock", () => {
    assert.deepEqual(
      Object.keys(NEEDS_CLOCK).filter((k) => k in MOTO_DEVIATIONS),
      [],
    );
  });

  it("cite an AWS documentation page for every deviation", () => {
    for (const [key, deviation] of Object.entries(MOTO_DEVIATIONS))
      assert.match(deviation.awsDoc, /^https:\/\/docs\.aws\.amazon\.com\//, key);
  });

  it("are mirrored by the README table, row for row", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Conformance with moto"));
    for (const [key, deviation] of Object.entries(MOTO_DEVIATIONS)) {
      const row = section
        .split("\n")
        .map((line) => line.replace(/\s+\|/g, " |"))
        .find((line) => line.startsWith(`| ${deviation.behaviour} |`));
      assert.ok(row, `README row for ${key}: | ${deviation.behaviour} | …`);
      assert.ok(row.includes(deviation.awsDoc), `README row for ${key} links ${deviation.awsDoc}`);
    }
  });
});
