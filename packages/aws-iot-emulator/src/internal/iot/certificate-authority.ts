/**
 * The emulator's own certificate authority: generated at start (or restored from the state file),
 * it signs every certificate that CreateKeysAndCertificate and CreateCertificateFromCsr issue, as
 * AWS IoT's CA does. It uses ECDSA P-256 so that issuing stays cheap (~1 ms); device certificates
 * themselves carry whatever key the caller asked for (RSA 2048 for CreateKeysAndCertificate).
 */
import "reflect-metadata";
import { createHash, createPublicKey, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CA_NAME = "CN=Granit AWS IoT Emulator CA, O=Granit, C=US";
/** AWS-issued device certificates are valid until the end of 2049. */
export const DEVICE_CERTIFICATE_NOT_AFTER = Date.UTC(2049, 11, 31, 23, 59, 59);

export interface CaSnapshot {
  readonly privateKeyPkcs8: string;
  readonly certificatePem: string;
}

export interface IssuedCertificate {
  readonly pem: string;
  /** Hex SHA-256 of the DER encoding: the AWS certificateId. */
  readonly id: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

export class CertificateAuthority {
  readonly certificatePem: string;
  readonly #privateKey: CryptoKey;
  readonly #issuer: string;
  readonly #pkcs8: string;

  private constructor(privateKey: CryptoKey, pkcs8: string, certificate: x509.X509Certificate) {
    this.#privateKey = privateKey;
    this.#pkcs8 = pkcs8;
    this.#issuer = certificate.subject;
    this.certificatePem = certificate.toString("pem");
  }

  static async create(now: Date): Promise<CertificateAuthority> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
      "sign",
      "verify",
    ])) as webcrypto.CryptoKeyPair;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: CA_NAME,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(DEVICE_CERTIFICATE_NOT_AFTER),
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
    return new CertificateAuthority(keys.privateKey, pkcs8, certificate);
  }

  static async restore(snapshot: CaSnapshot): Promise<CertificateAuthority> {
    const privateKey = await webcrypto.subtle.importKey(
      "pkcs8",
      Buffer.from(snapshot.privateKeyPkcs8, "base64"),
      ALGORITHM,
      true,
      ["sign"],
    );
    return new CertificateAuthority(
      privateKey,
      snapshot.privateKeyPkcs8,
      new x509.X509Certificate(snapshot.certificatePem),
    );
  }

  snapshot(): CaSnapshot {
    return { privateKeyPkcs8: this.#pkcs8, certificatePem: this.certificatePem };
  }

  /** Signs a device certificate for `spki` (DER SubjectPublicKeyInfo). */
  async issue(subject: string, spki: Uint8Array, now: number): Promise<IssuedCertificate> {
    const notBefore = Math.floor(now / 1000) * 1000;
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: this.#issuer,
      notBefore: new Date(notBefore),
      notAfter: new Date(DEVICE_CERTIFICATE_NOT_AFTER),
      publicKey: spki,
      signingKey: this.#privateKey,
      signingAlgorithm: ALGORITHM,
    });
    const der = Buffer.from(certificate.rawData);
    return {
      pem: certificate.toString("pem"),
      id: createHash("sha256").update(der).digest("hex"),
      notBefore,
      notAfter: DEVICE_CERTIFICATE_NOT_AFTER,
    };
  }
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

/** A parsed, signature-checked certificate signing request. */
export interface VerifiedCsr {
  readonly subject: string;
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
  return { subject: csr.subject, spki };
}
