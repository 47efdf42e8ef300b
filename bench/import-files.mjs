// The token files `npm run bench:import` imports (issue 17): a privacyIDEA OATH CSV of version 2 (user first) and an
// RFC 6030 PSKC file encrypted with a passphrase (PBKDF2, §6.2), both of N users with one 160-bit TOTP secret each.
// Secrets are derived from a bench-only seed (HMAC-SHA256(seed, user id), the first 20 bytes), so the bench and its test
// can recompute any user's secret. Files are written in chunks as they are generated (a 100,000-user PSKC file is about
// 90 MB): the generator holds one chunk, never the file.
//
//   node bench/import-files.mjs DIR [USERS]   writes DIR/users.oath.csv and DIR/users.pskc.xml, prints the passphrase
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";

/** RFC 4226's 160 bits (R-OTP-4: what enrollment generates). */
export const SECRET_BYTES = 20;

export const importUserId = (index) => `user-${index}`;
export const importSerial = (index) => `BENCH${String(index).padStart(8, "0")}`;
export const importSecret = (seed, index) => createHmac("sha256", seed).update(importUserId(index)).digest().subarray(0, SECRET_BYTES);

/** Writes strings through a buffer of about 1 MiB, so a file of any size costs one chunk of memory. */
async function chunkedWriter(path) {
	// "wx": a bench never overwrites a file it did not make.
	const handle = await open(path, "wx", 0o600);
	let parts = [];
	let size = 0;
	let bytes = 0;
	const flush = async () => {
		if (parts.length === 0) return;
		const chunk = Buffer.from(parts.join(""), "utf8");
		parts = [];
		size = 0;
		bytes += chunk.length;
		await handle.write(chunk);
	};
	return {
		async write(text) {
			parts.push(text);
			size += text.length;
			if (size >= 1 << 20) await flush();
		},
		async close() {
			await flush();
			await handle.close();
			return bytes;
		},
	};
}

/**
 * privacyIDEA's OATH CSV, version 2 (privacyIDEA docs, Import › OATH CSV; privacyidea/lib/importotp.py parseOATHcsv):
 * a first line `# version: 2`, then `<user>, <resolver>, <realm>, <serial>, <seed in hex>, totp, <digits>, <time step>`.
 * Returns the file's size in bytes.
 */
export async function writeOathCSV(path, { users, seed, start = 0 }) {
	const out = await chunkedWriter(path);
	await out.write("# version: 2\n");
	for (let i = start; i < start + users; i++) {
		await out.write(`${importUserId(i)}, bench-resolver, bench-realm, ${importSerial(i)}, ${importSecret(seed, i).toString("hex")}, totp, 6, 30\n`);
	}
	return out.close();
}

const HMAC_URI = { sha1: "http://www.w3.org/2000/09/xmldsig#hmac-sha1", sha256: "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" };
const MAC_KEY_BYTES = { sha1: 20, sha256: 32 };

/** AES-128-CBC with a fresh IV, PKCS #7 padding, the IV prepended (RFC 6030 §6.1, XML Encryption's aes128-cbc). */
function encrypt(key, plain) {
	const iv = randomBytes(16);
	const cipher = createCipheriv("aes-128-cbc", key, iv);
	return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
}

/**
 * An RFC 6030 KeyContainer, encrypted with a key derived from `passphrase` (§6.2: PBKDF2 of PKCS #5 v2.0, a 16-byte
 * AES-128 key), as Debian's python3-pskc writes one: the MAC key encrypted under the derived key in MACMethod/MACKey,
 * each secret in Data/Secret/EncryptedValue with a ValueMAC (HMAC of IV || ciphertext under the MAC key, §6.1.1). One
 * KeyPackage per user: Key/@Id and DeviceInfo/SerialNo the serial, Key/UserId the user, TOTP (30 s, 6 digits, Time 0).
 * `prf` and `mac` are "sha1" or "sha256"; `iterations` the PBKDF2 count. Returns the file's size in bytes.
 */
export async function writePSKC(path, { users, seed, passphrase, iterations = 600_000, prf = "sha256", mac = "sha256", start = 0 }) {
	const salt = randomBytes(16);
	const key = pbkdf2Sync(passphrase, salt, iterations, 16, prf);
	const macKey = randomBytes(MAC_KEY_BYTES[mac]);
	const out = await chunkedWriter(path);
	await out.write(
		`<?xml version="1.0" encoding="UTF-8"?>\n` +
			`<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" ` +
			`xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">\n` +
			` <pskc:EncryptionKey>\n  <xenc11:DerivedKey>\n` +
			`   <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">\n` +
			`    <pkcs5:PBKDF2-params>\n` +
			`     <Salt><Specified>${salt.toString("base64")}</Specified></Salt>\n` +
			`     <IterationCount>${iterations}</IterationCount>\n` +
			`     <KeyLength>16</KeyLength>\n` +
			`     <PRF Algorithm="${HMAC_URI[prf]}"/>\n` +
			`    </pkcs5:PBKDF2-params>\n   </xenc11:KeyDerivationMethod>\n` +
			`   <xenc11:MasterKeyName>Bench passphrase</xenc11:MasterKeyName>\n` +
			`  </xenc11:DerivedKey>\n </pskc:EncryptionKey>\n` +
			` <pskc:MACMethod Algorithm="${HMAC_URI[mac]}">\n  <pskc:MACKey>\n` +
			`   <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>\n` +
			`   <xenc:CipherData><xenc:CipherValue>${encrypt(key, macKey).toString("base64")}</xenc:CipherValue></xenc:CipherData>\n` +
			`  </pskc:MACKey>\n </pskc:MACMethod>\n`,
	);
	for (let i = start; i < start + users; i++) {
		const serial = importSerial(i);
		const sealed = encrypt(key, importSecret(seed, i));
		const valueMAC = createHmac(mac, macKey).update(sealed).digest("base64");
		await out.write(
			` <pskc:KeyPackage>\n` +
				`  <pskc:DeviceInfo><pskc:Manufacturer>Bench</pskc:Manufacturer><pskc:SerialNo>${serial}</pskc:SerialNo></pskc:DeviceInfo>\n` +
				`  <pskc:Key Id="${serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">\n` +
				`   <pskc:Issuer>Bench</pskc:Issuer>\n` +
				`   <pskc:AlgorithmParameters><pskc:ResponseFormat Encoding="DECIMAL" Length="6"/></pskc:AlgorithmParameters>\n` +
				`   <pskc:Data>\n` +
				`    <pskc:Secret><pskc:EncryptedValue><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>` +
				`<xenc:CipherData><xenc:CipherValue>${sealed.toString("base64")}</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue>` +
				`<pskc:ValueMAC>${valueMAC}</pskc:ValueMAC></pskc:Secret>\n` +
				`    <pskc:Time><pskc:PlainValue>0</pskc:PlainValue></pskc:Time>\n` +
				`    <pskc:TimeInterval><pskc:PlainValue>30</pskc:PlainValue></pskc:TimeInterval>\n` +
				`   </pskc:Data>\n` +
				`   <pskc:UserId>${importUserId(i)}</pskc:UserId>\n` +
				`  </pskc:Key>\n </pskc:KeyPackage>\n`,
		);
	}
	await out.write("</pskc:KeyContainer>\n");
	key.fill(0);
	macKey.fill(0);
	return out.close();
}

/** Both files for `users` users in `dir`, with a fresh seed and passphrase; what the bench needs to read them back. */
export async function writeImportFiles(dir, { users, iterations, prf, mac } = {}) {
	const seed = randomBytes(32);
	const passphrase = randomBytes(18).toString("base64url");
	const csv = join(dir, "users.oath.csv");
	const pskc = join(dir, "users.pskc.xml");
	const csvBytes = await writeOathCSV(csv, { users, seed });
	const pskcBytes = await writePSKC(pskc, { users, seed, passphrase, iterations, prf, mac });
	return { seed, passphrase, csv, pskc, csvBytes, pskcBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const [dir, count] = process.argv.slice(2);
	if (!dir) {
		process.stderr.write("usage: node bench/import-files.mjs DIR [USERS]\n");
		process.exit(2);
	}
	const started = Date.now();
	const files = await writeImportFiles(dir, { users: Number(count ?? 100_000) });
	process.stdout.write(
		`${files.csv} (${(files.csvBytes / 1e6).toFixed(1)} MB)\n${files.pskc} (${(files.pskcBytes / 1e6).toFixed(1)} MB), passphrase ${files.passphrase}\n` +
			`seed ${files.seed.toString("hex")}; ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
	);
}
