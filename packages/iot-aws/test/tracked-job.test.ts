import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CLOSED_TRACKED_JOB_STATUSES,
  canTransitionTrackedJob,
  isTrackedJobStatus,
  OPEN_TRACKED_JOB_STATUSES,
  TRACKED_JOB_STATUSES,
  TrackedJobStatus,
} from "../src/index.ts";

describe("the tracked-job state machine", () => {
  it("splits every status into open or closed, never both", () => {
    for (const status of TRACKED_JOB_STATUSES) {
      assert.notEqual(OPEN_TRACKED_JOB_STATUSES.has(status), CLOSED_TRACKED_JOB_STATUSES.has(status), status);
    }
  });

  it("lets nothing leave a closed status", () => {
    for (const from of CLOSED_TRACKED_JOB_STATUSES) {
      for (const to of TRACKED_JOB_STATUSES) assert.equal(canTransitionTrackedJob(from, to), false);
    }
  });

  it("reaches Succeeded only from Dispatched, and every closed status from Dispatched", () => {
    assert.equal(canTransitionTrackedJob(TrackedJobStatus.Dispatching, TrackedJobStatus.Succeeded), false);
    for (const to of CLOSED_TRACKED_JOB_STATUSES) {
      assert.equal(canTransitionTrackedJob(TrackedJobStatus.Dispatched, to), true, to);
    }
    assert.equal(canTransitionTrackedJob(TrackedJobStatus.Dispatched, TrackedJobStatus.Dispatching), false);
  });

  it("recognises its statuses and nothing else", () => {
    assert.equal(isTrackedJobStatus("Dispatched"), true);
    assert.equal(isTrackedJobStatus("COMPLETED"), false);
    assert.equal(isTrackedJobStatus(3), false);
  });
});
