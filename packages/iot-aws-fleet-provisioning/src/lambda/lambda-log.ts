/** One structured log line per decision (CloudWatch Logs); never a secret, a PEM or a signature. */
export type LambdaLog = (entry: Readonly<Record<string, unknown>>) => void;

export const consoleLambdaLog: LambdaLog = (entry) => {
  console.log(JSON.stringify(entry));
};
