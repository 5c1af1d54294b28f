/**
 * The emulator's own certificate authority: generated at start (or restored from the state file),
 * it signs every certificate that CreateKeysAndCertificate and CreateCertificateFromCsr issue, as
 * AWS IoT's CA does. It uses ECDSA P-256 so that signing stays cheap; device certificates carry
 * whatever key the caller asked for (RSA 2048 for CreateKeysAndCertificate).
 */
import { createHash, createPrivateKey, type KeyObject, randomBytes, sign, webcrypto } from "node:crypto";
import { x509 } from "./x509.ts";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CA_NAME = "CN=Granit AWS IoT Emulator CA, O=Granit, C=US";
/** AWS-issued device certificates are valid until the end of 2049. */
const DEVICE_CERTIFICATE_NOT_AFTER = Date.UTC(2049, 11, 31, 23, 59, 59);

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
  readonly #signingKey: KeyObject;
  readonly #issuer: Buffer;
  readonly #pkcs8: string;

  private constructor(pkcs8: string, certificate: x509.X509Certificate) {
    this.#pkcs8 = pkcs8;
    this.#signingKey = createPrivateKey({ key: Buffer.from(pkcs8, "base64"), format: "der", type: "pkcs8" });
    this.#issuer = Buffer.from(certificate.subjectName.toArrayBuffer());
    this.certificatePem = certificate.toString("pem");
  }

  static async create(now: Date): Promise<CertificateAuthority> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
      "sign",
      "verify",
    ])) as webcrypto.CryptoKeyPair;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial().toString("hex"),
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
    return new CertificateAuthority(pkcs8, certificate);
  }

  static restore(snapshot: CaSnapshot): CertificateAuthority {
    return new CertificateAuthority(
      snapshot.privateKeyPkcs8,
      new x509.X509Certificate(snapshot.certificatePem),
    );
  }

  snapshot(): CaSnapshot {
    return { privateKeyPkcs8: this.#pkcs8, certificatePem: this.certificatePem };
  }

  /**
   * Signs a device certificate for `spki` (DER SubjectPublicKeyInfo) with `subject` (DER Name).
   * The DER is assembled here and signed with `crypto.sign` (~0.1 ms) rather than through
   * @peculiar/x509's generic ASN.1 layer (~1.5 ms), which matters at hundreds of certificates/s.
   */
  issue(subject: Uint8Array, spki: Uint8Array, now: number): IssuedCertificate {
    const notBefore = Math.floor(now / 1000) * 1000;
    const tbs = der.sequence(
      der.explicit(0, der.integer(Buffer.from([2]))),
      der.integer(randomSerial()),
      ECDSA_WITH_SHA256,
      this.#issuer,
      der.sequence(der.time(notBefore), der.time(DEVICE_CERTIFICATE_NOT_AFTER)),
      subject,
      spki,
      der.explicit(3, der.sequence(BASIC_CONSTRAINTS_NOT_CA)),
    );
    const signature = sign("sha256", tbs, this.#signingKey);
    const certificate = der.sequence(tbs, ECDSA_WITH_SHA256, der.bitString(signature));
    const base64 = certificate.toString("base64").replace(/.{64}/g, "$&\n");
    return {
      pem: `-----BEGIN CERTIFICATE-----\n${base64}${base64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`,
      id: createHash("sha256").update(certificate).digest("hex"),
      notBefore,
      notAfter: DEVICE_CERTIFICATE_NOT_AFTER,
    };
  }
}

/** DER Name of `CN=AWS IoT Certificate`, the subject AWS gives CreateKeysAndCertificate certificates. */
export const AWS_IOT_CERTIFICATE_SUBJECT: Buffer = Buffer.from(
  new x509.Name("CN=AWS IoT Certificate").toArrayBuffer(),
);

/** The few DER encodings a certificate needs (ITU-T X.690). */
const der = {
  tlv(tag: number, content: Buffer): Buffer {
    const n = content.length;
    const length =
      n < 0x80
        ? Buffer.from([n])
        : n < 0x100
          ? Buffer.from([0x81, n])
          : n < 0x10000
            ? Buffer.from([0x82, n >> 8, n & 0xff])
            : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
    return Buffer.concat([Buffer.from([tag]), length, content]);
  },
  sequence: (...items: Uint8Array[]): Buffer => der.tlv(0x30, Buffer.concat(items)),
  explicit: (tag: number, content: Buffer): Buffer => der.tlv(0xa0 + tag, content),
  integer: (value: Buffer): Buffer => der.tlv(0x02, value),
  bitString: (value: Buffer): Buffer => der.tlv(0x03, Buffer.concat([Buffer.from([0]), value])),
  /** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
  time(ms: number): Buffer {
    const iso = new Date(ms).toISOString();
    const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
    const year = Number(iso.slice(0, 4));
    return year < 2050
      ? der.tlv(0x17, Buffer.from(`${digits.slice(2)}Z`))
      : der.tlv(0x18, Buffer.from(`${digits}Z`));
  },
};

/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2). */
const ECDSA_WITH_SHA256 = Buffer.from("300a06082a8648ce3d040302", "hex");
/** Extension basicConstraints (2.5.29.19), critical, CA:FALSE. */
const BASIC_CONSTRAINTS_NOT_CA = Buffer.from("300c0603551d130101ff04023000", "hex");

/** A positive 128-bit serial number. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}
