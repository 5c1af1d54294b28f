/**
 * `@granit/aws-iot-emulator/testing`: test support for conformance suites that run the same scenarios
 * against this emulator and against moto (`moto_server`, https://docs.getmoto.org/en/latest/docs/server_mode.html).
 *
 * @example
 * const motoSkip = findMotoServer() ? false : MOTO_NOT_FOUND;
 * describe("against moto", () => {
 *   let moto: MotoServer;
 *   before(async () => { if (!motoSkip) moto = await startMotoServer(); });
 *   after(() => moto?.stop());
 *   beforeEach(() => moto?.reset());
 *   it("creates a thing", { skip: motoSkip }, async () => {
 *     const iot = new IoTClient({ ...moto.clientConfig(), maxAttempts: 1 });
 *   });
 * });
 */
export {
  type AwsBackend,
  type AwsClientConfig,
  type AwsTarget,
  type AwsTargetsOptions,
  awsTargets,
} from "./internal/aws-targets.ts";
export {
  findMotoServer,
  MOTO_NOT_FOUND,
  type MotoServer,
  MotoServerError,
  type MotoServerOptions,
  startMotoServer,
} from "./internal/moto-server.ts";
