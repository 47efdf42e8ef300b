/**
 * An address as the prompt may show it (issue 15): the first character of the local part, then "***", then the
 * domain, so the user can tell which mailbox the code goes to without the page (or a screenshot, or whoever holds
 * the browser) learning the address. The length of the local part is not shown either.
 */
export function maskEmailAddress(address: string): string {
	const at = address.lastIndexOf("@");
	if (at <= 0 || at === address.length - 1) return "***";
	// Array.from: the first code point, not half of a surrogate pair.
	const first = Array.from(address.slice(0, at))[0]!;
	return `${first}***@${address.slice(at + 1)}`;
}
