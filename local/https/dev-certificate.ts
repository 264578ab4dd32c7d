import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { repositoryRoot } from '../../declarations/paths.js';

/**
 * A local development certificate authority and a `localhost` server
 * certificate it signed, so the local runtime can serve HTTPS/WSS.
 *
 * Why a CA and not one self-signed certificate: the user trusts the CA once
 * (`NODE_EXTRA_CA_CERTS=.local/certs/ca.pem`, or a browser/OS trust store) and
 * the server certificate can then be renewed without trusting anything again.
 *
 * Generated in pure Node (node:crypto keys, node-forge for the X.509
 * encoding) because `openssl` is not guaranteed on a fresh machine. Kept under
 * `.local/certs/` (git-ignored) and reused while valid:
 *
 *   ca.pem          the CA certificate: the one file to trust
 *   ca-key.pem      the CA's private key (0600)
 *   localhost.pem   the server's private key followed by its certificate (0600)
 *
 * The server key and certificate share one file so that renewing them is a
 * single atomic rename: two processes starting at once can never leave a key
 * on disk that belongs to another process's certificate.
 */

export const DEFAULT_CERTIFICATE_DIR = join(repositoryRoot, '.local', 'certs');

/** Names a server certificate must cover: the loopback names the runtime is reached by. */
export const SERVER_HOSTNAMES = ['localhost'] as const;
export const SERVER_IPS = ['127.0.0.1', '::1'] as const;

const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';
const SERVER_FILE = 'localhost.pem';

const DAY_MS = 86_400_000;
/** Long-lived: trusting it is the manual step, so it should not need repeating. */
const CA_VALIDITY_DAYS = 10 * 365;
/** Apple platforms reject TLS server certificates valid for more than 825 days, even from a private CA. */
const SERVER_VALIDITY_DAYS = 825;
/** Renew ahead of expiry so a long-running dev server does not cross it. */
const RENEW_BEFORE_DAYS = 30;
/** Replaced this long before expiry, so a server certificate it issues (capped at the CA's end) still lasts a while. */
const CA_RENEW_BEFORE_DAYS = 90;
/** notBefore is backdated a little to tolerate clock skew between hosts/containers. */
const BACKDATE_MS = 60 * 60 * 1000;

export interface DevCertificateOptions {
  /** Where the files live; `.local/certs` of the repository when unset. */
  readonly directory?: string;
  /** For tests: the time validity is judged against (and new certificates start from). */
  readonly now?: Date;
}

export interface DevCertificates {
  readonly directory: string;
  /** Path of the CA certificate, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly caCertificatePem: string;
  /** The server's private key and certificate, for `https.createServer({ key, cert })`. */
  readonly keyPem: string;
  readonly certificatePem: string;
  /** What this call had to create: nothing (reused), only the server certificate, or everything. */
  readonly created: 'none' | 'server' | 'all';
}

/** Loads the CA and server certificate from `directory`, creating or renewing what is missing, invalid or near expiry. */
export async function ensureDevCertificates(options: DevCertificateOptions = {}): Promise<DevCertificates> {
  const directory = options.directory ?? DEFAULT_CERTIFICATE_DIR;
  const now = options.now ?? new Date();
  const result = (ca: CaMaterial, server: ServerMaterial, created: DevCertificates['created']): DevCertificates => ({
    directory,
    caFile: join(directory, CA_FILE),
    caCertificatePem: ca.certificatePem,
    keyPem: server.keyPem,
    certificatePem: server.certificatePem,
    created,
  });

  const ca = await loadCa(directory, now);
  if (ca) {
    const server = await loadServer(directory, ca, now);
    if (server) return result(ca, server, 'none');
    // The CA is still good: keep it (it is what the user trusted) and issue a new server certificate only.
    const renewed = await issueServer(ca, now);
    await writeAtomically(join(directory, SERVER_FILE), renewed.keyPem + renewed.certificatePem, 0o600);
    return result(ca, renewed, 'server');
  }

  const fresh = await createCa(now);
  const server = await issueServer(fresh, now);
  await installDirectory(directory, now, {
    [CA_FILE]: { text: fresh.certificatePem, mode: 0o644 },
    [CA_KEY_FILE]: { text: fresh.keyPem, mode: 0o600 },
    [SERVER_FILE]: { text: server.keyPem + server.certificatePem, mode: 0o600 },
  });
  // Another process may have won the race to create the directory: use what is on disk, so every
  // process serves a certificate from the CA that `ca.pem` holds.
  const installed = await loadCa(directory, now);
  if (installed && installed.certificatePem !== fresh.certificatePem) {
    const theirs = await loadServer(directory, installed, now);
    if (theirs) return result(installed, theirs, 'none');
  }
  return result(fresh, server, 'all');
}

interface CaMaterial {
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly certificate: X509Certificate;
  readonly key: KeyObject;
}

interface ServerMaterial {
  readonly certificatePem: string;
  readonly keyPem: string;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const stillValid = (certificate: X509Certificate, now: Date, marginDays: number): boolean =>
  Date.parse(certificate.validFrom) <= now.getTime() && Date.parse(certificate.validTo) - marginDays * DAY_MS > now.getTime();

async function loadCa(directory: string, now: Date): Promise<CaMaterial | undefined> {
  const [certificatePem, keyPem] = await Promise.all([readText(join(directory, CA_FILE)), readText(join(directory, CA_KEY_FILE))]);
  if (!certificatePem || !keyPem) return undefined;
  try {
    const certificate = new X509Certificate(certificatePem);
    const key = createPrivateKey(keyPem);
    const usable =
      certificate.ca &&
      certificate.checkPrivateKey(key) &&
      certificate.verify(certificate.publicKey) &&
      stillValid(certificate, now, CA_RENEW_BEFORE_DAYS);
    return usable ? { certificatePem, keyPem, certificate, key } : undefined;
  } catch {
    // Unparsable files (truncated, hand-edited): start over rather than fail the runtime.
    return undefined;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\r?\n?/g;

async function loadServer(directory: string, ca: CaMaterial, now: Date): Promise<ServerMaterial | undefined> {
  const text = await readText(join(directory, SERVER_FILE));
  if (!text) return undefined;
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const keyPem = blocks.find((b) => b[1]?.endsWith('PRIVATE KEY'))?.[0];
  const certificatePem = blocks.find((b) => b[1] === 'CERTIFICATE')?.[0];
  if (!keyPem || !certificatePem) return undefined;
  try {
    const certificate = new X509Certificate(certificatePem);
    const usable =
      certificate.checkIssued(ca.certificate) &&
      certificate.verify(ca.certificate.publicKey) &&
      certificate.checkPrivateKey(createPrivateKey(keyPem)) &&
      stillValid(certificate, now, RENEW_BEFORE_DAYS) &&
      SERVER_HOSTNAMES.every((name) => certificate.checkHost(name) !== undefined) &&
      SERVER_IPS.every((ip) => certificate.checkIP(ip) !== undefined);
    return usable ? { keyPem, certificatePem } : undefined;
  } catch {
    return undefined;
  }
}

/** RSA keys from node:crypto (native, milliseconds) rather than node-forge's pure-JS generator. */
function newKeyPair(): { keyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A positive 128-bit serial (the leading bit clear: DER integers are signed). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** node-forge is only needed when something has to be created; reusing certificates never loads it. */
async function forgeModule(): Promise<typeof import('node-forge')> {
  return (await import('node-forge')).default;
}

async function createCa(now: Date): Promise<CaMaterial> {
  const forge = await forgeModule();
  const { keyPem, publicKeyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS);
  const subject = [
    // The host name in the CN tells apart CAs of different machines in a shared trust store.
    { name: 'commonName', value: `storefront-appsync local development CA (${hostLabel()})` },
    { name: 'organizationName', value: 'storefront-appsync local development' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    // pathLen 0: this CA can sign server certificates, never another CA.
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(keyPem);
  cert.sign(key, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(cert);
  return { certificatePem, keyPem, certificate: new X509Certificate(certificatePem), key: createPrivateKey(keyPem) };
}

async function issueServer(ca: CaMaterial, now: Date): Promise<ServerMaterial> {
  const forge = await forgeModule();
  const caCert = forge.pki.certificateFromPem(ca.certificatePem);
  const { keyPem, publicKeyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  // Never outlive the CA: a chain is only as valid as its shortest member.
  cert.validity.notAfter = new Date(Math.min(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS, caCert.validity.notAfter.getTime()));
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // serverAuth is required by browsers and macOS for a TLS server certificate.
    { name: 'extKeyUsage', serverAuth: true },
    // Clients match the SubjectAltName, not the CN: type 2 = DNS name, type 7 = IP address.
    {
      name: 'subjectAltName',
      altNames: [...SERVER_HOSTNAMES.map((value) => ({ type: 2, value })), ...SERVER_IPS.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
    // forge's `keyIdentifier: true` would hash this certificate's own key; the authority's is the CA's.
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { keyPem, certificatePem: forge.pki.certificateToPem(cert) };
}

function hostLabel(): string {
  return hostname().slice(0, 32) || 'localhost';
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, text, { mode });
  await rename(temporary, path);
}

/**
 * Puts a complete set of files in place as `directory`: written into a sibling
 * temporary directory, then renamed. A rename onto an existing non-empty
 * directory fails, so when two processes race on first use exactly one set
 * wins and the loser reads the winner's files instead of mixing the two.
 * Only when `directory` already holds other content (an unusable old set, or
 * a user-chosen directory with unrelated files) are the files replaced one by
 * one; nothing else in it is touched.
 */
async function installDirectory(directory: string, now: Date, files: Record<string, { text: string; mode: number }>): Promise<void> {
  await mkdir(dirname(directory), { recursive: true });
  const staging = await mkdtemp(join(dirname(directory), `.${basename(directory)}-`));
  try {
    for (const [name, file] of Object.entries(files)) {
      await writeFile(join(staging, name), file.text, { mode: file.mode });
    }
    try {
      await rename(staging, directory);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    if (await loadCa(directory, now)) return; // another process installed a set meanwhile
    // A reader that catches these half-replaced finds a key not matching its certificate and regenerates.
    for (const [name, file] of Object.entries(files)) await writeAtomically(join(directory, name), file.text, file.mode);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
