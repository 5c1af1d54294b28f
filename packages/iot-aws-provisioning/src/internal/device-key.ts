/**
 * The device key pair, generated here (never by AWS), and its certificate signing request. ECDSA
 * P-256: AWS IoT accepts it for `CreateCertificateFromCsr`, and it costs a fraction of a millisecond
 * where RSA-2048 costs tens. The public key (SPKI DER) is how the saga recognises a certificate made
 * from this key when it replays after a crash.
 *
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html
 */
import { createPublicKey, generateKeyPair, sign, X509Certificate } from "node:crypto";
import { promisify } from "node:util";

const generateKeyPairAsync = promisify(generateKeyPair);
const signAsync = promisify(sign);

export interface GeneratedDeviceKey {
  readonly privateKeyPem: string;
  readonly certificateSigningRequestPem: string;
  /** The public half as DER SubjectPublicKeyInfo (what `publicKeyOfPrivateKey` would derive again). */
  readonly publicKeySpki: Buffer;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * A new P-256 key pair (PKCS#8 PEM) and a PKCS#10 CSR with subject `CN={thingName}` signed by it
 * (RFC 2986). The key pair and the signature come from OpenSSL on libuv's thread pool; the CSR's
 * few DER structures are assembled here — 0.2 ms per device where @peculiar/x509's generic ASN.1
 * layer took 1.7 ms of event-loop time (measured in bench/provisioning.ts's saga).
 */
export async function generateDeviceKey(thingName: string): Promise<GeneratedDeviceKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync("ec", { namedCurve: "P-256" });
  const publicKeySpki = publicKey.export({ type: "spki", format: "der" });
  const info = der.sequence(
    der.tlv(0x02, Buffer.from([0])), // version 0
    der.sequence(der.set(der.sequence(OID_COMMON_NAME, der.tlv(0x0c, Buffer.from(thingName, "utf8"))))),
    publicKeySpki,
    der.tlv(0xa0, Buffer.alloc(0)), // attributes: none
  );
  // DER ECDSA-Sig-Value, as X.509 wants; with a callback `crypto.sign` runs on the thread pool.
  const signature = await signAsync("sha256", info, privateKey);
  const csr = der.sequence(
    info,
    ECDSA_WITH_SHA256,
    der.tlv(0x03, Buffer.concat([Buffer.from([0]), signature])),
  );
  return {
    privateKeyPem: pem("PRIVATE KEY", privateKey.export({ type: "pkcs8", format: "der" })),
    certificateSigningRequestPem: pem("CERTIFICATE REQUEST", csr),
    publicKeySpki,
  };
}

/** The DER encodings a CSR needs (ITU-T X.690): definite lengths, constructed types. */
const der = {
  tlv(tag: number, content: Buffer): Buffer {
    const n = content.length;
    const length =
      n < 0x80
        ? [n]
        : n < 0x100
          ? [0x81, n]
          : n < 0x10000
            ? [0x82, n >> 8, n & 0xff]
            : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), content]);
  },
  sequence: (...items: Buffer[]): Buffer => der.tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]): Buffer => der.tlv(0x31, Buffer.concat(items)),
};
/** OID 2.5.4.3 (commonName). */
const OID_COMMON_NAME = Buffer.from("0603550403", "hex");
/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2). */
const ECDSA_WITH_SHA256 = Buffer.from("300a06082a8648ce3d040302", "hex");

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
 * `canonicalCertificatePem` of a certificate that carries the public key `spki` (DER
 * SubjectPublicKeyInfo), or `null` when it does not (or is not a certificate): one parse for both.
 */
export function canonicalCertificateWithKey(certificatePem: string, spki: Buffer): string | null {
  try {
    const certificate = new X509Certificate(certificatePem);
    if (!certificate.publicKey.export({ type: "spki", format: "der" }).equals(spki)) return null;
    return pem("CERTIFICATE", certificate.raw);
  } catch {
    return null;
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
