/**
 * The device key pair, generated here (never by AWS), and its certificate signing request. ECDSA
 * P-256: AWS IoT accepts it for `CreateCertificateFromCsr`, and it costs a fraction of a millisecond
 * where RSA-2048 costs tens. The public key (SPKI DER) is how the saga recognises a certificate made
 * from this key when it replays after a crash.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html
 */
import { createPublicKey, webcrypto, X509Certificate } from "node:crypto";
import { x509 } from "./x509.ts";

export interface GeneratedDeviceKey {
  readonly privateKeyPem: string;
  readonly certificateSigningRequestPem: string;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A new P-256 key pair (PKCS#8 PEM) and a CSR with subject `CN={thingName}` signed by it. */
export async function generateDeviceKey(thingName: string): Promise<GeneratedDeviceKey> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256" } as const;
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${thingName}`,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  return {
    privateKeyPem: pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
    certificateSigningRequestPem: csr.toString("pem"),
  };
}

/** SPKI DER of the public half of a private key. */
export function publicKeyOfPrivateKey(privateKeyPem: string): Buffer {
  return createPublicKey(privateKeyPem).export({ type: "spki", format: "der" });
}

/** SPKI DER of a certificate's public key. */
export function publicKeyOfCertificate(certificatePem: string): Buffer {
  return new X509Certificate(certificatePem).publicKey.export({ type: "spki", format: "der" });
}

/** True when the certificate carries the public key of `spki` (unreadable certificates never match). */
export function certificateHasKey(certificatePem: string, spki: Buffer): boolean {
  try {
    return publicKeyOfCertificate(certificatePem).equals(spki);
  } catch {
    return false;
  }
}

/**
 * The certificate as canonical PEM (64-column base64 of the DER, `\n` line ends), so the value the
 * saga writes to Secrets Manager is identical whichever API returned the PEM — a replay then reuses
 * the same ClientRequestToken with the same value, which AWS ignores.
 */
export function canonicalCertificatePem(certificatePem: string): string {
  return pem("CERTIFICATE", new X509Certificate(certificatePem).raw);
}

/** The subject common name of a certificate, or `null`. */
export function certificateCommonName(certificatePem: string): string | null {
  try {
    const subject = new X509Certificate(certificatePem).subject;
    const line = subject.split("\n").find((l) => l.startsWith("CN="));
    return line ? line.slice(3) : null;
  } catch {
    return null;
  }
}
