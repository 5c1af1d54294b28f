/** The readiness-gate name of the credential provider. */
export const AWS_CREDENTIALS_GATE = "aws-credentials";
