/**
 * IoT Jobs, control plane and device side, as AWS documents them:
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-jobs-lifecycle.html
 */
import assert from "node:assert/strict";
import {
  AddThingToThingGroupCommand,
  CancelJobCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteJobCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  GetJobDocumentCommand,
  InvalidStateTransitionException,
  type IoTClient,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from "@aws-sdk/client-iot";
import {
  DescribeJobExecutionCommand as DeviceDescribeJobExecutionCommand,
  InvalidStateTransitionException as DeviceInvalidStateTransitionException,
  GetPendingJobExecutionsCommand,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from "@aws-sdk/client-iot-jobs-data-plane";
import { type Clients, rejectsWith, type TimeControl } from "../support/harness.ts";

const DOCUMENT = JSON.stringify({ operation: "firmware.update", version: "2.0" });

async function thingArn(iot: IoTClient, name: string): Promise<string> {
  return (await iot.send(new CreateThingCommand({ thingName: name }))).thingArn ?? "";
}

async function jobFor(iot: IoTClient, jobId: string, things: string[], timeoutMinutes?: number) {
  const targets = await Promise.all(things.map((t) => thingArn(iot, t)));
  return iot.send(
    new CreateJobCommand({
      jobId,
      targets,
      document: DOCUMENT,
      timeoutConfig:
        timeoutMinutes === undefined ? undefined : { inProgressTimeoutInMinutes: timeoutMinutes },
    }),
  );
}

/**
 * CreateJob answers the job ARN; DescribeJob shows the job and its targets; every target thing gets a
 * QUEUED execution; GetJobDocument returns the document.
 * https://docs.aws.amazon.com/iot/latest/apireference/API_CreateJob.html
 */
export async function createJobQueuesAnExecutionForEachTargetThing({ iot }: Clients) {
  const created = await jobFor(iot, "job-1", ["a", "b"]);
  assert.match(created.jobArn ?? "", /^arn:aws:iot:[a-z0-9-]+:\d{12}:job\/job-1$/);
  assert.equal(created.jobId, "job-1");
  const job = await iot.send(new DescribeJobCommand({ jobId: "job-1" }));
  assert.equal(job.job?.jobId, "job-1");
  assert.equal(job.job?.jobArn, created.jobArn);
  assert.equal(job.job?.targets?.length, 2);
  for (const thingName of ["a", "b"]) {
    const execution = await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName }));
    assert.equal(execution.execution?.status, "QUEUED", thingName);
    assert.equal(execution.execution?.jobId, "job-1");
  }
  const document = await iot.send(new GetJobDocumentCommand({ jobId: "job-1" }));
  assert.equal(document.document, DOCUMENT);
}

/**
 * A new (unscheduled) job is IN_PROGRESS (API_Job: status), SNAPSHOT by default, counts one queued
 * thing per target, and a new execution is at version 1.
 */
export async function aNewJobIsInProgressAndCountsItsQueuedThings({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a", "b"]);
  const job = await iot.send(new DescribeJobCommand({ jobId: "job-1" }));
  assert.equal(job.job?.status, "IN_PROGRESS", "a new job is IN_PROGRESS");
  assert.equal(job.job?.targetSelection, "SNAPSHOT");
  assert.equal(job.job?.jobProcessDetails?.numberOfQueuedThings, 2, "two queued things");
  const execution = await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "a" }));
  assert.equal(execution.execution?.versionNumber, 1, "a new execution is at version 1");
}

/** DescribeJob of an unknown job, and DescribeJobExecution for a thing the job does not target, are 404. */
export async function unknownJobsAndExecutionsAreNotFound({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await thingArn(iot, "other");
  await rejectsWith(iot.send(new DescribeJobCommand({ jobId: "ghost" })), ResourceNotFoundException, 404);
  await rejectsWith(
    iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "other" })),
    ResourceNotFoundException,
    404,
  );
}

/** "The jobId must be unique in your AWS account" — also once the old job is finished. */
export async function aDuplicateJobIdIsAlreadyExistsWhateverTheOldJobState({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  const again = iot.send(
    new CreateJobCommand({ jobId: "job-1", targets: [await thingArn(iot, "b")], document: DOCUMENT }),
  );
  await rejectsWith(again, ResourceAlreadyExistsException, 409);
  await iot.send(new CancelJobCommand({ jobId: "job-1" }));
  const afterCancel = iot.send(
    new CreateJobCommand({ jobId: "job-1", targets: [await thingArn(iot, "c")], document: DOCUMENT }),
  );
  await rejectsWith(afterCancel, ResourceAlreadyExistsException, 409);
}

export async function createJobForAMissingThingIsNotFound({ iot }: Clients) {
  const act = iot.send(
    new CreateJobCommand({
      jobId: "j",
      targets: ["arn:aws:iot:us-east-1:000000000000:thing/ghost"],
      document: DOCUMENT,
    }),
  );
  await rejectsWith(act, ResourceNotFoundException, 404);
}

/** QUEUED → IN_PROGRESS → SUCCEEDED; a SNAPSHOT job is COMPLETED once every execution is terminal. */
export async function aDeviceRunsTheJobAndTheJobCompletes({ iot, jobs }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  const started = await jobs.send(
    new StartNextPendingJobExecutionCommand({ thingName: "a", statusDetails: { step: "download" } }),
  );
  assert.equal(started.execution?.jobId, "job-1");
  assert.equal(started.execution?.status, "IN_PROGRESS");
  assert.equal(started.execution?.jobDocument, DOCUMENT);
  assert.equal(started.execution?.versionNumber, 2);
  const updated = await jobs.send(
    new UpdateJobExecutionCommand({
      thingName: "a",
      jobId: "job-1",
      status: "SUCCEEDED",
      expectedVersion: 2,
      statusDetails: { detailedStatus: "done" },
      includeJobExecutionState: true,
    }),
  );
  assert.equal(updated.executionState?.status, "SUCCEEDED");
  assert.equal(updated.executionState?.versionNumber, 3);
  const execution = await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "a" }));
  assert.equal(execution.execution?.status, "SUCCEEDED");
  assert.deepEqual(execution.execution?.statusDetails?.detailsMap, { detailedStatus: "done" });
  const job = await iot.send(new DescribeJobCommand({ jobId: "job-1" }));
  assert.equal(job.job?.status, "COMPLETED");
  assert.equal(job.job?.jobProcessDetails?.numberOfSucceededThings, 1);
  assert.ok(job.job?.completedAt instanceof Date);
}

export async function startNextWithNothingPendingAnswersNoExecution({ iot, jobs }: Clients) {
  await thingArn(iot, "a");
  const next = await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  assert.equal(next.execution, undefined);
}

/** GetPendingJobExecutions splits IN_PROGRESS and QUEUED; DescribeJobExecution accepts `$next`. */
export async function pendingExecutionsAreListedAndNextIsTheOldest(
  { iot, jobs }: Clients,
  time: TimeControl,
) {
  await jobFor(iot, "first", ["a"]);
  time.advance(1_000);
  await iot.send(
    new CreateJobCommand({
      jobId: "second",
      targets: [(await iot.send(new DescribeJobCommand({ jobId: "first" }))).job?.targets?.[0] ?? ""],
      document: DOCUMENT,
    }),
  );
  const next = await jobs.send(
    new DeviceDescribeJobExecutionCommand({ thingName: "a", jobId: "$next", includeJobDocument: true }),
  );
  assert.equal(next.execution?.jobId, "first");
  assert.equal(next.execution?.jobDocument, DOCUMENT);
  await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  const pending = await jobs.send(new GetPendingJobExecutionsCommand({ thingName: "a" }));
  assert.deepEqual(
    pending.inProgressJobs?.map((j) => j.jobId),
    ["first"],
  );
  assert.deepEqual(
    pending.queuedJobs?.map((j) => j.jobId),
    ["second"],
  );
  const again = await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  assert.equal(again.execution?.jobId, "first", "an IN_PROGRESS execution is returned before queued ones");
}

/** A stale expectedVersion is rejected (MQTT: VersionMismatch; HTTP: 409 VersionConflictException). */
export async function updateJobExecutionWithAStaleExpectedVersionIsVersionConflict({ iot, jobs }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  const act = jobs.send(
    new UpdateJobExecutionCommand({
      thingName: "a",
      jobId: "job-1",
      status: "IN_PROGRESS",
      expectedVersion: 1,
    }),
  );
  await rejectsWith(act, "VersionConflictException", 409);
}

/** A terminal execution cannot be updated. */
export async function aTerminalExecutionCannotBeUpdated({ iot, jobs }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await jobs.send(new UpdateJobExecutionCommand({ thingName: "a", jobId: "job-1", status: "FAILED" }));
  const act = jobs.send(
    new UpdateJobExecutionCommand({ thingName: "a", jobId: "job-1", status: "IN_PROGRESS" }),
  );
  await rejectsWith(act, DeviceInvalidStateTransitionException, 409);
}

/** IN_PROGRESS longer than inProgressTimeoutInMinutes → TIMED_OUT (evaluated on the injected clock). */
export async function anExecutionInProgressTooLongTimesOut({ iot, jobs }: Clients, time: TimeControl) {
  await jobFor(iot, "job-1", ["a"], 10);
  const started = await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  assert.equal(started.execution?.approximateSecondsBeforeTimedOut, 600);
  time.advance(9 * 60_000);
  assert.equal(
    (await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "a" }))).execution?.status,
    "IN_PROGRESS",
  );
  time.advance(60_000);
  const execution = await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "a" }));
  assert.equal(execution.execution?.status, "TIMED_OUT");
  const job = await iot.send(new DescribeJobCommand({ jobId: "job-1" }));
  assert.equal(job.job?.jobProcessDetails?.numberOfTimedOutThings, 1);
  assert.equal(job.job?.status, "COMPLETED");
  await rejectsWith(
    jobs.send(new UpdateJobExecutionCommand({ thingName: "a", jobId: "job-1", status: "SUCCEEDED" })),
    DeviceInvalidStateTransitionException,
  );
}

/** CancelJob moves the job to CANCELED and records the reason code and comment (API_CancelJob). */
export async function cancelJobMarksTheJobCanceledWithItsReason({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await iot.send(new CancelJobCommand({ jobId: "job-1", reasonCode: "operator", comment: "stop" }));
  const job = await iot.send(new DescribeJobCommand({ jobId: "job-1" }));
  assert.equal(job.job?.status, "CANCELED");
  assert.equal(job.job?.reasonCode, "operator");
  assert.equal(job.job?.comment, "stop");
}

/** Canceling a job cancels its QUEUED executions (iot-jobs-lifecycle, "Job states"). */
export async function cancelJobCancelsTheQueuedExecutions({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await iot.send(new CancelJobCommand({ jobId: "job-1" }));
  const execution = await iot.send(new DescribeJobExecutionCommand({ jobId: "job-1", thingName: "a" }));
  assert.equal(execution.execution?.status, "CANCELED", "the queued execution is CANCELED");
}

/** CancelJob cancels QUEUED executions; IN_PROGRESS ones only with force. */
export async function cancelJobCancelsQueuedExecutionsAndInProgressOnlyWithForce({ iot, jobs }: Clients) {
  await jobFor(iot, "soft", ["a", "b"]);
  await jobs.send(new StartNextPendingJobExecutionCommand({ thingName: "a" }));
  await iot.send(new CancelJobCommand({ jobId: "soft", reasonCode: "operator", comment: "stop" }));
  const statuses = async (jobId: string) =>
    Object.fromEntries(
      ((await iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries ?? []).map((e) => [
        e.thingArn?.split("/").pop(),
        e.jobExecutionSummary?.status,
      ]),
    );
  assert.deepEqual(await statuses("soft"), { a: "IN_PROGRESS", b: "CANCELED" });
  const soft = await iot.send(new DescribeJobCommand({ jobId: "soft" }));
  assert.equal(soft.job?.status, "CANCELED");
  assert.equal(soft.job?.reasonCode, "operator");
  await iot.send(
    new CreateJobCommand({
      jobId: "hard",
      targets: [(soft.job?.targets ?? [])[0] ?? ""],
      document: DOCUMENT,
    }),
  );
  await jobs.send(new UpdateJobExecutionCommand({ thingName: "a", jobId: "hard", status: "IN_PROGRESS" }));
  await iot.send(new CancelJobCommand({ jobId: "hard", force: true }));
  const hard = await iot.send(new DescribeJobExecutionCommand({ jobId: "hard", thingName: "a" }));
  assert.equal(hard.execution?.status, "CANCELED");
  assert.equal(hard.execution?.forceCanceled, true);
}

/** Deleting a job that is still IN_PROGRESS needs force. */
export async function deleteJobInProgressNeedsForce({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await rejectsWith(iot.send(new DeleteJobCommand({ jobId: "job-1" })), InvalidStateTransitionException, 409);
  await iot.send(new DeleteJobCommand({ jobId: "job-1", force: true }));
  await rejectsWith(iot.send(new DescribeJobCommand({ jobId: "job-1" })), ResourceNotFoundException, 404);
}

/** DeleteJob with force removes the job. */
export async function deleteJobWithForceRemovesTheJob({ iot }: Clients) {
  await jobFor(iot, "job-1", ["a"]);
  await iot.send(new DeleteJobCommand({ jobId: "job-1", force: true }));
  await rejectsWith(iot.send(new DescribeJobCommand({ jobId: "job-1" })), ResourceNotFoundException, 404);
}

export async function executionsAreListedPerThingAndPerJob({ iot }: Clients) {
  await jobFor(iot, "j1", ["a", "b"]);
  await iot.send(
    new CreateJobCommand({
      jobId: "j2",
      targets: [(await iot.send(new DescribeJobCommand({ jobId: "j1" }))).job?.targets?.[0] ?? ""],
      document: DOCUMENT,
    }),
  );
  const forThing = await iot.send(new ListJobExecutionsForThingCommand({ thingName: "a" }));
  assert.deepEqual(forThing.executionSummaries?.map((e) => e.jobId).sort(), ["j1", "j2"]);
  const executionNumber = forThing.executionSummaries?.[0]?.jobExecutionSummary?.executionNumber;
  assert.equal(typeof executionNumber, "number");
  const jobId = forThing.executionSummaries?.[0]?.jobId;
  const byNumber = await iot.send(
    new DescribeJobExecutionCommand({ jobId, thingName: "a", executionNumber }),
  );
  assert.equal(byNumber.execution?.executionNumber, executionNumber);
  const forJob = await iot.send(new ListJobExecutionsForJobCommand({ jobId: "j1", status: "QUEUED" }));
  assert.equal(forJob.executionSummaries?.length, 2);
}

/** A SNAPSHOT job targeting a thing group reaches the things in it (one execution per member thing). */
export async function aJobForAThingGroupReachesItsMemberThings({ iot }: Clients) {
  const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: "fleet" }));
  const a = await thingArn(iot, "a");
  const b = await thingArn(iot, "b");
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: "fleet", thingName: "a" }));
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: "fleet", thingName: "b" }));
  await iot.send(
    new CreateJobCommand({ jobId: "snap", targets: [group.thingGroupArn ?? ""], document: DOCUMENT }),
  );
  const executions = await iot.send(new ListJobExecutionsForJobCommand({ jobId: "snap" }));
  assert.deepEqual(
    executions.executionSummaries?.map((e) => e.thingArn).sort(),
    [a, b].sort(),
    "one execution per member thing",
  );
}

/** Thing-group targets: SNAPSHOT takes today's members; CONTINUOUS also reaches things added later. */
export async function groupTargetsReachMembersAndContinuousJobsReachNewOnes({ iot, jobs }: Clients) {
  const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: "fleet" }));
  await thingArn(iot, "a");
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: "fleet", thingName: "a" }));
  await iot.send(
    new CreateJobCommand({ jobId: "snap", targets: [group.thingGroupArn ?? ""], document: DOCUMENT }),
  );
  await iot.send(
    new CreateJobCommand({
      jobId: "cont",
      targets: [group.thingGroupArn ?? ""],
      document: DOCUMENT,
      targetSelection: "CONTINUOUS",
    }),
  );
  await thingArn(iot, "b");
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: "fleet", thingName: "b" }));
  const pending = await jobs.send(new GetPendingJobExecutionsCommand({ thingName: "b" }));
  assert.deepEqual(
    pending.queuedJobs?.map((j) => j.jobId),
    ["cont"],
  );
  const snap = await iot.send(new ListJobExecutionsForJobCommand({ jobId: "snap" }));
  assert.equal(snap.executionSummaries?.length, 1);
}
