/**
 * Case mapping for codes and ids, ASCII only. String.prototype.toLowerCase/toUpperCase follow Unicode, which maps
 * some non-ASCII characters onto ASCII letters: U+212A KELVIN SIGN lowercases to "k", U+0130 (İ) to "i̇", U+017F
 * LONG S and U+0131 DOTLESS I uppercase to "S" and "I". A look-alike typed (or pasted by an attacker) would then pass
 * as the code it resembles (issue 12; the normalization class of V-2 / R-OTP-11). These map A-Z/a-z only and
 * refuse any input holding a character outside ASCII, so nothing but the documented spelling reaches a comparison.
 */
const NON_ASCII = /[^\x00-\x7f]/;

/** `text` with A-Z lowered, or null if it holds any non-ASCII character. */
export function asciiLowerCase(text: string): string | null {
	if (NON_ASCII.test(text)) return null;
	return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** `text` with a-z raised, or null if it holds any non-ASCII character. */
export function asciiUpperCase(text: string): string | null {
	if (NON_ASCII.test(text)) return null;
	return text.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
}
