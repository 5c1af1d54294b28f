/**
 * Certificate signing requests for CreateCertificateFromCsr: parse, check the key, verify the
 * signature, and hand back the subject and public key for the CA to sign.
 */
import { createPublicKey } from "node:crypto";
import { x509 } from "./x509.ts";

/** A parsed, signature-checked certificate signing request. */
export interface VerifiedCsr {
  /** DER Name. */
  readonly subject: Uint8Array;
  readonly spki: Uint8Array;
}

/**
 * Parses a PEM CSR and checks its signature and key. AWS accepts RSA keys of at least 2048 bits and
 * EC keys on P-256, P-384 or P-521; anything else (or an unparseable/forged CSR) is an
 * InvalidRequestException.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html
 */
export async function verifyCsr(pem: string): Promise<VerifiedCsr | string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    return "The certificate signing request is not a valid PKCS#10 request";
  }
  const spki = new Uint8Array(csr.publicKey.rawData);
  let keyProblem: string | undefined;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === "rsa") {
      if ((details.modulusLength ?? 0) < 2048) keyProblem = "RSA keys must be at least 2048 bits";
    } else if (key.asymmetricKeyType === "ec") {
      if (!["prime256v1", "secp384r1", "secp521r1"].includes(details.namedCurve ?? "")) {
        keyProblem = "EC keys must use the P-256, P-384 or P-521 curve";
      }
    } else {
      keyProblem = `Unsupported key type ${key.asymmetricKeyType}`;
    }
  } catch {
    keyProblem = "The certificate signing request holds an unreadable public key";
  }
  if (keyProblem) return keyProblem;
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) return "The certificate signing request signature is invalid";
  return { subject: new Uint8Array(csr.subjectName.toArrayBuffer()), spki };
}
