import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { PrescaleError } from '../errors.js';

/** Where the listener's certificate and key live: PEM files, the certificate file may hold the chain. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** File contents ready for `https.createServer` / `server.setSecureContext`. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** What `watchSighup` logs through; a pino Logger fits. */
export interface ReloadLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Read and check a certificate and its private key: the certificate must parse as X.509, the key
 * as a private key, and the two must belong together (the same checks `tls.createSecureContext`
 * makes, done up front so a bad file is named before anything is served).
 * Throws PrescaleError('PRESCALE_ERR_CONFIG') naming the file that is missing or invalid
 * (`details.file`), or both files when the key does not match the certificate.
 */
export async function readTlsFiles(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readTlsFile(files.certFile, 'certificate'), readTlsFile(files.keyFile, 'private key')]);
  checkTlsFile(files.certFile, 'certificate', () => new X509Certificate(cert));
  checkTlsFile(files.keyFile, 'private key', () => createPrivateKey(key));
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TLS private key file ${files.keyFile} does not match certificate file ${files.certFile}: ${(err as Error).message}`, {
      cause: err,
      details: { file: files.keyFile, certFile: files.certFile },
    });
  }
  return { cert, key };
}

/**
 * Build the `reload()` of a TLS listener: re-read `files` and install them with
 * `server.setSecureContext`, so new connections get the new certificate while established ones
 * keep theirs (the nginx `-s reload` / HAProxy `set ssl cert` behaviour, without a restart).
 * A missing or invalid file rejects with PrescaleError('PRESCALE_ERR_CONFIG') naming it, and the
 * previous certificate stays in use. Calls run one after another, so the last call wins.
 */
export function createCertificateReloader(server: TlsServer, files: TlsFiles): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    const next = last.catch(() => undefined).then(async () => {
      server.setSecureContext(await readTlsFiles(files));
    });
    last = next;
    return next;
  };
}

/**
 * Call `reload` on every SIGHUP (the Unix convention for "re-read your configuration", as nginx
 * and HAProxy do) and log the outcome; a failed reload is logged and the process keeps running.
 * @returns a function that removes the signal listener.
 */
export function watchSighup(reload: () => Promise<void>, logger: ReloadLogger): () => void {
  const onSignal = (): void => {
    reload().then(
      () => logger.info({ signal: 'SIGHUP' }, 'TLS certificate reloaded'),
      (err: unknown) => logger.error({ err, signal: 'SIGHUP' }, 'TLS certificate reload failed; the previous certificate is still served'),
    );
  };
  process.on('SIGHUP', onSignal);
  return () => {
    process.off('SIGHUP', onSignal);
  };
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `cannot read TLS ${what} file ${file}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
}

function checkTlsFile(file: string, what: string, parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `TLS ${what} file ${file} is not a valid PEM ${what}: ${(err as Error).message}`, { cause: err, details: { file } });
  }
}
