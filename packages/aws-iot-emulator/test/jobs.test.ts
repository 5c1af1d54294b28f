import { test } from "node:test";
import * as s from "./scenarios/jobs.ts";
import { run } from "./support/harness.ts";

test(
  "CreateJob queues a QUEUED execution for each target thing and keeps the document",
  run(s.createJobQueuesAnExecutionForEachTargetThing),
);
test(
  "a new job is IN_PROGRESS and counts its queued things",
  run(s.aNewJobIsInProgressAndCountsItsQueuedThings),
);
test(
  "unknown jobs, and executions for things a job does not target, are ResourceNotFoundException",
  run(s.unknownJobsAndExecutionsAreNotFound),
);
test(
  "a duplicate jobId is ResourceAlreadyExistsException whatever the old job's state",
  run(s.aDuplicateJobIdIsAlreadyExistsWhateverTheOldJobState),
);
test(
  "CreateJob targeting a missing thing is ResourceNotFoundException",
  run(s.createJobForAMissingThingIsNotFound),
);
test(
  "a device starts and succeeds an execution and the snapshot job becomes COMPLETED",
  run(s.aDeviceRunsTheJobAndTheJobCompletes),
);
test(
  "StartNextPendingJobExecution with nothing pending answers no execution",
  run(s.startNextWithNothingPendingAnswersNoExecution),
);
test(
  "pending executions are listed IN_PROGRESS first and $next is the oldest",
  run(s.pendingExecutionsAreListedAndNextIsTheOldest),
);
test(
  "UpdateJobExecution with a stale expectedVersion is VersionConflictException (409)",
  run(s.updateJobExecutionWithAStaleExpectedVersionIsVersionConflict),
);
test(
  "a terminal execution cannot be updated (InvalidStateTransitionException)",
  run(s.aTerminalExecutionCannotBeUpdated),
);
test(
  "an execution IN_PROGRESS longer than inProgressTimeoutInMinutes becomes TIMED_OUT",
  run(s.anExecutionInProgressTooLongTimesOut),
);
test(
  "CancelJob marks the job CANCELED with its reason code and comment",
  run(s.cancelJobMarksTheJobCanceledWithItsReason),
);
test("CancelJob cancels the QUEUED executions", run(s.cancelJobCancelsTheQueuedExecutions));
test(
  "CancelJob cancels QUEUED executions and IN_PROGRESS ones only with force",
  run(s.cancelJobCancelsQueuedExecutionsAndInProgressOnlyWithForce),
);
test("DeleteJob of a job still IN_PROGRESS needs force", run(s.deleteJobInProgressNeedsForce));
test("DeleteJob with force removes the job", run(s.deleteJobWithForceRemovesTheJob));
test("job executions are listed per thing and per job", run(s.executionsAreListedPerThingAndPerJob));
test("a job for a thing group reaches its member things", run(s.aJobForAThingGroupReachesItsMemberThings));
test(
  "thing-group targets reach members, and CONTINUOUS jobs reach things added later",
  run(s.groupTargetsReachMembersAndContinuousJobsReachNewOnes),
);
