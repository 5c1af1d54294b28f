/**
 * `@granit/iot-aws-jobs/testing`: a simulated device that runs jobs through the IoT Jobs data plane
 * (for tests, benches and a host's simulated fleet).
 */
export {
  type SimulatedJob,
  type SimulatedJobDecision,
  type SimulatedJobRun,
  SimulatedJobsDevice,
  type SimulatedJobsDeviceOptions,
} from "./simulated-jobs-device.ts";
