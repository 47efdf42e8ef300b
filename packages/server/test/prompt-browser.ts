/** What the prompt's tests over real HTTP need of a browser: a cookie jar, the page's CSRF token, a form post. */

/** A browser reduced to its cookie jar (every cookie set is sent back); redirects are followed by the test, one by one. */
export class Browser {
	cookies = new Map<string, string>();
	/** Where relative URLs go; a test that restarts the server on another port moves it. */
	constructor(public base: string) {}
	async fetch(url: string, init: RequestInit = {}): Promise<Response> {
		const headers = new Headers(init.headers);
		if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
		const response = await fetch(new URL(url, this.base), { ...init, headers, redirect: "manual" });
		for (const line of response.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const at = pair!.indexOf("=");
			if (pair!.slice(at + 1) === "" || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair!.slice(0, at));
			else this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
		}
		return response;
	}
	/** A form post as the pages' forms send it. */
	post(url: string, fields: Record<string, string>): Promise<Response> {
		return this.fetch(url, form(fields));
	}
}

/** The synchronizer token of the page's forms. */
export const csrfOf = (html: string): string => {
	const match = /name="csrf" value="([^"]+)"/.exec(html);
	if (match === null) throw new Error(`no csrf token on the page: ${html.slice(0, 300)}`);
	return match[1]!;
};

/** A urlencoded form post, as a browser sends it. */
export const form = (fields: Record<string, string>): RequestInit => ({
	method: "POST",
	headers: { "content-type": "application/x-www-form-urlencoded" },
	body: new URLSearchParams(fields).toString(),
});
